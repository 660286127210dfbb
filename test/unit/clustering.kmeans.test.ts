// K-means: deterministic, canonical numbering, recovers well-separated blobs, centroids and inertia as
// defined (checked against naive computations here), labels consistent with assignNearest.
import { describe, expect, it } from 'vitest';
import { assignNearest, fitKMeans, SEED_SAMPLE } from '../../lib/clustering/kmeans.js';
import { adjustedRandIndex } from '../../lib/clustering/metrics.js';
import { seededRandom } from '../../lib/clustering/random.js';
import { fourBlobs, gaussian, SKLEARN_POINTS } from './clustering.fixtures.js';

/** Naive per-cluster means of the labelled points. */
function means(points: number[][], labels: ArrayLike<number>, k: number): number[][] {
  const dims = points[0]?.length ?? 0;
  const sums = Array.from({ length: k }, () => new Array<number>(dims).fill(0));
  const counts = new Array<number>(k).fill(0);
  points.forEach((p, i) => {
    const label = labels[i] ?? -1;
    const sum = sums[label];
    if (sum === undefined) throw new Error(`label ${label}`);
    counts[label] = (counts[label] ?? 0) + 1;
    p.forEach((x, j) => {
      sum[j] = (sum[j] ?? 0) + x;
    });
  });
  return sums.map((sum, c) => sum.map((s) => s / (counts[c] ?? 1)));
}

const squaredDistance = (a: number[], b: number[]) => a.reduce((s, x, j) => s + (x - (b[j] ?? 0)) ** 2, 0);

const nearestOf = (p: number[], centers: number[][]) =>
  centers.reduce(
    (best, c, i) => (squaredDistance(p, c) < squaredDistance(p, centers[best] ?? []) ? i : best),
    0,
  );

/**
 * Textbook Lloyd with scikit-learn's stopping rule, every distance computed afresh: stop when no label
 * changes, or when the summed squared centroid shift is at most 1e-4 x the mean feature variance.
 * (No empty-cluster handling: the data below never empties one.)
 */
function naiveLloyd(points: number[][], initial: number[][]) {
  const dims = points[0]?.length ?? 0;
  const mean = Array.from(
    { length: dims },
    (_, j) => points.reduce((s, p) => s + (p[j] ?? 0), 0) / points.length,
  );
  const variance =
    points.reduce((s, p) => s + squaredDistance(p, mean), 0) / points.length / Math.max(1, dims);
  let centers = initial.map((c) => [...c]);
  let labels: number[] = [];
  let iterations = 0;
  let strict = false;
  while (iterations < 300) {
    iterations++;
    const assigned = points.map((p) => nearestOf(p, centers));
    const moved = means(points, assigned, centers.length);
    const shift = moved.reduce((s, c, i) => s + squaredDistance(c, centers[i] ?? []), 0);
    centers = moved;
    strict = assigned.every((l, i) => l === labels[i]);
    labels = assigned;
    if (strict || shift <= 1e-4 * variance) break;
  }
  if (!strict) labels = points.map((p) => nearestOf(p, centers));
  return { labels, centers, iterations };
}

describe('fitKMeans', () => {
  const { points, truth } = fourBlobs();

  it('gives identical labels, centroids and inertia for the same points and seed', () => {
    const a = fitKMeans(points, 4, { seed: 11 });
    const b = fitKMeans(points, 4, { seed: 11 });
    expect(b.labels).toEqual(a.labels);
    expect(b.centroids).toEqual(a.centroids);
    expect(b.inertia).toBe(a.inertia);
    expect(b.iterations).toBe(a.iterations);
  });

  it('recovers well-separated blobs, numbered by descending size whatever the seed', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const fit = fitKMeans(points, 4, { seed });
      expect(adjustedRandIndex(truth, fit.labels)).toBe(1);
      // The blobs are listed largest first, so the canonical numbers are the blob indices themselves.
      expect(Array.from(fit.labels)).toEqual(truth);
      expect(fit.converged).toBe(true);
      expect(fit.k).toBe(4);
    }
  });

  it('orders clusters of equal size by centroid, lexicographically', () => {
    const points = [
      [5, 5],
      [5.1, 5],
      [0, 9],
      [0.1, 9],
      [0, 1],
      [0.1, 1],
    ];
    const fit = fitKMeans(points, 3, { seed: 3 });
    expect(fit.centroids.map((c) => c.map((x) => Math.round(x * 100) / 100))).toEqual([
      [0.05, 1],
      [0.05, 9],
      [5.05, 5],
    ]);
    expect(Array.from(fit.labels)).toEqual([2, 2, 1, 1, 0, 0]);
  });

  it('returns centroids that are the means of their points, and the inertia of those', () => {
    const fit = fitKMeans(points, 4, { seed: 1 });
    const expected = means(points, fit.labels, 4);
    fit.centroids.forEach((c, i) => {
      c.forEach((x, j) => {
        expect(x).toBeCloseTo(expected[i]?.[j] ?? Number.NaN, 10);
      });
    });
    const inertia = points.reduce(
      (s, p, i) => s + squaredDistance(p, fit.centroids[fit.labels[i] ?? 0] ?? []),
      0,
    );
    expect(fit.inertia).toBeCloseTo(inertia, 8);
  });

  it('labels every point with its nearest centroid, as assignNearest does', () => {
    const fit = fitKMeans(points, 4, { seed: 2 });
    expect(assignNearest(points, fit.centroids).labels).toEqual(fit.labels);
  });

  it('reaches the optimum scikit-learn finds on a small fixed dataset, best of 10 seeds as its n_init=10', () => {
    // KMeans(4, n_init=10, random_state=0).fit(X) with scikit-learn 1.2.1 (/usr/bin/python3):
    // inertia_ = 9.779166666666665, labels_ = [2 2 2 2 2 1 1 1 1 0 0 0 0 2 3]. One k-means++ start can
    // stop in a local optimum (as one of scikit-learn's can), hence the 10 starts.
    const X = SKLEARN_POINTS;
    const sklearnLabels = [2, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 2, 3];
    const fits = Array.from({ length: 10 }, (_, seed) => fitKMeans(X, 4, { seed }));
    const fit = fits.reduce((best, f) => (f.inertia < best.inertia ? f : best));
    expect(fit.inertia).toBeCloseTo(9.779166666666665, 10);
    expect(adjustedRandIndex(fit.labels, sklearnLabels)).toBe(1);
  });

  it('fits populations larger than its seeding sample on all their points', () => {
    const big = fourBlobs(3, Math.ceil((SEED_SAMPLE * 1.5) / 1000));
    const fit = fitKMeans(big.points, 4, { seed: 5 });
    expect(fit.labels).toHaveLength(big.points.length);
    expect(Array.from(fit.labels)).toEqual(big.truth);
    expect(fitKMeans(big.points, 4, { seed: 5 }).centroids).toEqual(fit.centroids);
  });

  it('runs the same Lloyd iterations as the textbook algorithm, from given initial centroids', () => {
    // Overlapping clusters and a poor start: many iterations, many points near the boundaries.
    const normal = gaussian(21);
    const points = Array.from({ length: 1_500 }, (_, i) => [
      (i % 3) * 1.5 + normal(),
      (i % 2) * 1.0 + normal(),
      normal(),
    ]);
    const initial = points.slice(0, 4).map((p) => [...p]);
    const expected = naiveLloyd(points, initial);
    const fit = fitKMeans(points, 4, { seed: 1, initial });
    expect(expected.iterations).toBeGreaterThan(5);
    expect(fit.iterations).toBe(expected.iterations);
    expect(adjustedRandIndex(fit.labels, expected.labels)).toBe(1);
    points.forEach((_, i) => {
      const ours = fit.centroids[fit.labels[i] ?? -1] ?? [];
      const theirs = expected.centers[expected.labels[i] ?? -1] ?? [];
      ours.forEach((x, j) => {
        expect(x).toBeCloseTo(theirs[j] ?? Number.NaN, 10);
      });
    });
  });

  it('moves an empty cluster onto the point farthest from its centroid, as scikit-learn does', () => {
    // A start with a centroid far from every point: nothing is assigned to it in the first iteration.
    const { points } = fourBlobs(9);
    const fit = fitKMeans(points, 4, {
      seed: 1,
      initial: [
        [0, 0, 0],
        [10, 0, 0],
        [0, 5, 5],
        [1_000, 1_000, 1_000],
      ],
    });
    const sizes = [0, 1, 2, 3].map((c) => fit.labels.filter((l) => l === c).length);
    expect(sizes.every((size) => size > 0)).toBe(true);
    expect(fit.centroids.flat().every((x) => Math.abs(x) < 20)).toBe(true);
    expect(assignNearest(points, fit.centroids).labels).toEqual(fit.labels);
  });

  it('rejects initial centroids of the wrong number or shape', () => {
    const { points } = fourBlobs();
    expect(() => fitKMeans(points, 2, { seed: 1, initial: [[0, 0, 0]] })).toThrow(/initial/);
    expect(() => fitKMeans(points, 1, { seed: 1, initial: [[0, 0]] })).toThrow(/initial/);
  });

  it('stops at maxIterations and says it did not converge', () => {
    const random = seededRandom(4);
    const uniform = Array.from({ length: 2_000 }, () => [random(), random()]);
    const fit = fitKMeans(uniform, 8, { seed: 1, maxIterations: 1 });
    expect(fit.iterations).toBe(1);
    expect(fit.converged).toBe(false);
    const full = fitKMeans(uniform, 8, { seed: 1 });
    expect(full.converged).toBe(true);
    expect(full.inertia).toBeLessThan(fit.inertia);
  });

  it('handles k = 1, identical points, one point and points without coordinates', () => {
    const one = fitKMeans(
      [
        [0, 0],
        [2, 4],
      ],
      1,
      { seed: 1 },
    );
    expect(one.centroids).toEqual([[1, 2]]);
    expect(one.inertia).toBe(10);
    const same = fitKMeans(
      [
        [3, 3],
        [3, 3],
        [3, 3],
      ],
      1,
      { seed: 1 },
    );
    expect(same).toMatchObject({ k: 1, centroids: [[3, 3]], inertia: 0, converged: true });
    expect(fitKMeans([[7]], 1, { seed: 1 }).centroids).toEqual([[7]]);
    expect(fitKMeans([[], []], 1, { seed: 1 })).toMatchObject({ k: 1, centroids: [[]], inertia: 0 });
  });

  it('refuses k above the number of distinct points, empty input and bad options', () => {
    expect(() => fitKMeans([[1], [1], [2]], 3, { seed: 1 })).toThrow(/only 2 distinct points/);
    expect(() => fitKMeans([], 1, { seed: 1 })).toThrow(RangeError);
    expect(() => fitKMeans(points, 0, { seed: 1 })).toThrow(RangeError);
    expect(() => fitKMeans(points, 2.5, { seed: 1 })).toThrow(RangeError);
    expect(() => fitKMeans(points, 2, { seed: 1, maxIterations: 0 })).toThrow(RangeError);
    expect(() => fitKMeans([[1], [Number.NaN]], 1, { seed: 1 })).toThrow(/finite/);
    expect(() => fitKMeans([[1, 2], [1]], 1, { seed: 1 })).toThrow(/coordinates/);
  });
});

describe('assignNearest', () => {
  it('returns the Euclidean distance, not its square', () => {
    const { labels, distances } = assignNearest(
      [
        [3, 4],
        [10, 10],
      ],
      [
        [0, 0],
        [10, 11],
      ],
    );
    expect(Array.from(labels)).toEqual([0, 1]);
    expect(Array.from(distances)).toEqual([5, 1]);
  });

  it('breaks ties by the lowest centroid index', () => {
    const { labels } = assignNearest(
      [[0], [5]],
      [
        [-1], // equidistant from 0 with [1]
        [1],
        [4],
        [6], // equidistant from 5 with [4]
      ],
    );
    expect(Array.from(labels)).toEqual([0, 2]);
  });

  it('handles no points, and rejects no centroids or mismatched dimensions', () => {
    expect(assignNearest([], [[1]]).labels).toHaveLength(0);
    expect(() => assignNearest([[1]], [])).toThrow(RangeError);
    expect(() => assignNearest([[1, 2]], [[1]])).toThrow(/coordinates/);
  });
});
