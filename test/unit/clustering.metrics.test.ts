// Metrics against scikit-learn's values on a fixed dataset, and against naive O(n²) implementations of
// the textbook definitions written here (independent of lib/clustering/metrics.ts).
import { describe, expect, it } from 'vitest';
import {
  adjustedRandIndex,
  calinskiHarabasz,
  daviesBouldin,
  silhouette,
} from '../../lib/clustering/metrics.js';
import { sampleIndices, seededRandom } from '../../lib/clustering/random.js';
import { gaussian, SKLEARN_POINTS } from './clustering.fixtures.js';

const distance = (a: readonly number[], b: readonly number[]) =>
  Math.sqrt(a.reduce((s, x, j) => s + (x - (b[j] ?? 0)) ** 2, 0));

const distinctLabels = (labels: readonly number[]) => [...new Set(labels)];

function meansOf(points: number[][], labels: readonly number[], k: number): number[][] {
  return Array.from({ length: k }, (_, c) => {
    const members = points.filter((_, i) => labels[i] === c);
    return (points[0] ?? []).map((_, j) => members.reduce((s, p) => s + (p[j] ?? 0), 0) / members.length);
  });
}

/** Rousseeuw's silhouette, point by point, every distance measured afresh. */
function naiveSilhouette(points: number[][], labels: readonly number[]): number {
  const clusters = distinctLabels(labels);
  const scores = points.map((p, i) => {
    const own = labels[i];
    const mates = points.filter((_, j) => j !== i && labels[j] === own);
    if (mates.length === 0) return 0;
    const a = mates.reduce((s, q) => s + distance(p, q), 0) / mates.length;
    const b = Math.min(
      ...clusters
        .filter((c) => c !== own)
        .map((c) => {
          const members = points.filter((_, j) => labels[j] === c);
          return members.reduce((s, q) => s + distance(p, q), 0) / members.length;
        }),
    );
    return Math.max(a, b) === 0 ? 0 : (b - a) / Math.max(a, b);
  });
  return scores.reduce((s, x) => s + x, 0) / scores.length;
}

function naiveDaviesBouldin(points: number[][], labels: readonly number[], centroids: number[][]): number {
  const clusters = distinctLabels(labels);
  const scatter = clusters.map((c) => {
    const members = points.filter((_, i) => labels[i] === c);
    return members.reduce((s, p) => s + distance(p, centroids[c] ?? []), 0) / members.length;
  });
  const worst = clusters.map((c, i) =>
    Math.max(
      ...clusters
        .filter((o) => o !== c)
        .map((o) => {
          const j = clusters.indexOf(o);
          return ((scatter[i] ?? 0) + (scatter[j] ?? 0)) / distance(centroids[c] ?? [], centroids[o] ?? []);
        }),
    ),
  );
  return worst.reduce((s, x) => s + x, 0) / worst.length;
}

function naiveCalinskiHarabasz(points: number[][], labels: readonly number[], centroids: number[][]): number {
  const clusters = distinctLabels(labels);
  const mean = (points[0] ?? []).map((_, j) => points.reduce((s, p) => s + (p[j] ?? 0), 0) / points.length);
  const between = clusters.reduce(
    (s, c) => s + labels.filter((l) => l === c).length * distance(centroids[c] ?? [], mean) ** 2,
    0,
  );
  const within = points.reduce((s, p, i) => s + distance(p, centroids[labels[i] ?? 0] ?? []) ** 2, 0);
  return between / (clusters.length - 1) / (within / (points.length - clusters.length));
}

/** Hubert and Arabie's ARI from the pairs themselves: together in both, in one, in the other. */
function naiveAdjustedRand(a: readonly number[], b: readonly number[]): number {
  let both = 0;
  let inA = 0;
  let inB = 0;
  let pairs = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const sameA = a[i] === a[j];
      const sameB = b[i] === b[j];
      pairs++;
      if (sameA) inA++;
      if (sameB) inB++;
      if (sameA && sameB) both++;
    }
  }
  const expected = (inA * inB) / pairs;
  const maximum = (inA + inB) / 2;
  return maximum === expected ? 1 : (both - expected) / (maximum - expected);
}

/** Three Gaussian clusters in 4-D that overlap a little, plus one isolated point (a cluster of one). */
function overlapping(seed: number, n: number): { points: number[][]; labels: number[] } {
  const normal = gaussian(seed);
  const centers = [
    [0, 0, 0, 0],
    [2.5, 0, 1, 0],
    [0, 3, 0, 1],
  ];
  const points: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    points.push((centers[c] ?? []).map((x) => x + normal()));
    labels.push(c);
  }
  points.push([9, 9, 9, 9]);
  labels.push(3);
  return { points, labels };
}

// scikit-learn 1.2.1 (/usr/bin/python3) on this dataset and labeling: silhouette_score(X, labels),
// davies_bouldin_score(X, labels), calinski_harabasz_score(X, labels).
const X = SKLEARN_POINTS;
const LABELS = [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3];

describe('scikit-learn reference values', () => {
  const centroids = meansOf(X, LABELS, 4);

  it('silhouette_score = 0.7083878576494864 (a cluster of one scores 0)', () => {
    expect(silhouette(X, LABELS, { sampleSize: X.length, seed: 1 })).toBeCloseTo(0.7083878576494864, 12);
  });

  it('davies_bouldin_score = 0.2739474466992605', () => {
    expect(daviesBouldin(X, LABELS, centroids)).toBeCloseTo(0.2739474466992605, 12);
  });

  it('calinski_harabasz_score = 59.754384271326046', () => {
    expect(calinskiHarabasz(X, LABELS, centroids)).toBeCloseTo(59.754384271326046, 10);
  });

  it('adjusted_rand_score = 0.24537987679671458 and 0.047619047619047616', () => {
    const other = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3];
    expect(adjustedRandIndex(LABELS, other)).toBeCloseTo(0.24537987679671458, 14);
    expect(adjustedRandIndex([0, 0, 1, 1, 2, 2, 2, 0], [5, 5, 5, 7, 7, 9, 9, 9])).toBeCloseTo(
      0.047619047619047616,
      14,
    );
  });
});

describe('silhouette', () => {
  it('equals the naive definition on all the points', () => {
    const { points, labels } = overlapping(3, 240);
    expect(silhouette(points, labels, { sampleSize: 10_000, seed: 1 })).toBeCloseTo(
      naiveSilhouette(points, labels),
      12,
    );
  });

  it('is computed within a deterministic sample, as scikit-learn samples', () => {
    const { points, labels } = overlapping(4, 600);
    const options = { sampleSize: 150, seed: 8 };
    const indices = sampleIndices(points.length, 150, 8);
    const expected = naiveSilhouette(
      indices.map((i) => points[i] ?? []),
      indices.map((i) => labels[i] ?? -1),
    );
    expect(silhouette(points, labels, options)).toBeCloseTo(expected, 12);
    expect(silhouette(points, labels, options)).toBe(silhouette(points, labels, options));
  });

  it('reads labels as names, whatever their values', () => {
    const { points, labels } = overlapping(5, 90);
    const renamed = labels.map((l) => [40, -1, 7.5, 2][l] ?? 0);
    expect(silhouette(points, renamed, { sampleSize: 1_000, seed: 1 })).toBeCloseTo(
      silhouette(points, labels, { sampleSize: 1_000, seed: 1 }),
      14,
    );
  });

  it('is 0 for a single cluster, and for points alone in their cluster', () => {
    expect(silhouette([[0], [1], [2]], [5, 5, 5], { sampleSize: 10, seed: 1 })).toBe(0);
    expect(silhouette([[0], [10]], [0, 1], { sampleSize: 10, seed: 1 })).toBe(0);
    expect(silhouette([], [], { sampleSize: 10, seed: 1 })).toBe(0);
  });

  it('is 0 for a point whose cluster mates and nearest other cluster are at distance 0', () => {
    // Points 0 and 1 coincide with point 2 of another cluster: a = b = 0, scikit-learn's NaN -> 0.
    // Point 2 has no mate: 0.
    expect(silhouette([[1], [1], [1]], [0, 0, 1], { sampleSize: 10, seed: 1 })).toBe(0);
  });

  it('rejects labels that do not match the points', () => {
    expect(() => silhouette([[0], [1]], [0], { sampleSize: 10, seed: 1 })).toThrow(RangeError);
  });
});

describe('daviesBouldin and calinskiHarabasz', () => {
  const { points, labels } = overlapping(6, 300);
  const centroids = meansOf(points, labels, 4);

  it('equal the naive definitions', () => {
    expect(daviesBouldin(points, labels, centroids)).toBeCloseTo(
      naiveDaviesBouldin(points, labels, centroids),
      12,
    );
    expect(calinskiHarabasz(points, labels, centroids)).toBeCloseTo(
      naiveCalinskiHarabasz(points, labels, centroids),
      8,
    );
  });

  it('ignore clusters without points, as scikit-learn (which sees only labels) does', () => {
    const withEmpty = [...centroids, [100, 100, 100, 100]];
    expect(daviesBouldin(points, labels, withEmpty)).toBe(daviesBouldin(points, labels, centroids));
    expect(calinskiHarabasz(points, labels, withEmpty)).toBe(calinskiHarabasz(points, labels, centroids));
  });

  it('follow scikit-learn on degenerate clusterings', () => {
    // One cluster: undefined (scikit-learn raises); 0 here.
    expect(daviesBouldin([[0], [1]], [0, 0], [[0.5]])).toBe(0);
    expect(calinskiHarabasz([[0], [1]], [0, 0], [[0.5]])).toBe(0);
    // No spread within clusters: scikit-learn's 0 (Davies-Bouldin) and 1 (Calinski-Harabasz).
    const twoPoints = [[0], [0], [4], [4]];
    expect(daviesBouldin(twoPoints, [0, 0, 1, 1], [[0], [4]])).toBe(0);
    expect(calinskiHarabasz(twoPoints, [0, 0, 1, 1], [[0], [4]])).toBe(1);
  });

  it('reject labels that are not centroid indices', () => {
    expect(() => daviesBouldin([[0], [1]], [0, 2], [[0], [1]])).toThrow(/label 2/);
    expect(() => calinskiHarabasz([[0], [1]], [0, -1], [[0], [1]])).toThrow(/label -1/);
  });
});

describe('adjustedRandIndex', () => {
  it('is 1 for identical and for renumbered labelings', () => {
    const a = [0, 0, 1, 1, 2, 2, 2];
    expect(adjustedRandIndex(a, a)).toBe(1);
    expect(adjustedRandIndex(a, [2, 2, 0, 0, 1, 1, 1])).toBe(1);
    expect(adjustedRandIndex(a, [9, 9, -4, -4, 0.5, 0.5, 0.5])).toBe(1);
    expect(adjustedRandIndex(Int32Array.from(a), a)).toBe(1);
  });

  it('equals the pair-counting definition on random labelings, and is symmetric', () => {
    const random = seededRandom(12);
    for (let round = 0; round < 5; round++) {
      const a = Array.from({ length: 120 }, () => Math.floor(random() * 4));
      const b = a.map((x) => (random() < 0.6 ? x : Math.floor(random() * 5)));
      expect(adjustedRandIndex(a, b)).toBeCloseTo(naiveAdjustedRand(a, b), 12);
      expect(adjustedRandIndex(b, a)).toBe(adjustedRandIndex(a, b));
    }
  });

  it('is 0 between one cluster and all singletons, and 1 on empty labelings (as scikit-learn)', () => {
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(adjustedRandIndex([], [])).toBe(1);
  });

  it('stays exact over large populations and rejects labelings of different lengths', () => {
    // 1,000,000 points, two halves; b moves one point across: only 999,999 pairs change side.
    const n = 1_000_000;
    const a = new Int32Array(n).map((_, i) => (i < n / 2 ? 0 : 1));
    const b = a.map((x, i) => (i === 0 ? 1 : x));
    // The exact value from the pair counts, as BigInt rationals: pairs together in a, in b, in both.
    const pairs = (m: bigint) => (m * (m - 1n)) / 2n;
    const half = BigInt(n / 2);
    const all = pairs(BigInt(n));
    const inA = 2n * pairs(half);
    const inB = pairs(half - 1n) + pairs(half + 1n);
    const both = pairs(half - 1n) + pairs(half);
    const numerator = 2n * (both * all - inA * inB);
    const denominator = (inA + inB) * all - 2n * inA * inB;
    const ari = adjustedRandIndex(a, b);
    expect(ari).toBeLessThan(1);
    expect(ari).toBeCloseTo(Number(numerator) / Number(denominator), 14);
    expect(() => adjustedRandIndex([0, 1], [0])).toThrow(RangeError);
  });
});
