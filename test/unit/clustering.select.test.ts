// Choosing k: the true k on blobs, minShare respected, the final fit on everyone, validation, and
// degenerate populations.
import { describe, expect, it } from 'vitest';
import { fitKMeans } from '../../lib/clustering/kmeans.js';
import {
  adjustedRandIndex,
  calinskiHarabasz,
  daviesBouldin,
  silhouette,
} from '../../lib/clustering/metrics.js';
import {
  type ClusteringStage,
  chooseClustering,
  type SelectionOptions,
} from '../../lib/clustering/select.js';
import { blobs, fourBlobs } from './clustering.fixtures.js';

const OPTIONS: SelectionOptions = {
  kMin: 2,
  kMax: 8,
  minShare: 0.03,
  seed: 42,
  selectionSample: 50_000,
  silhouetteSample: 3_000,
  stabilitySeeds: 3,
};

describe('chooseClustering', () => {
  const { points, truth } = fourBlobs();

  it('picks the true k on well-separated blobs and recovers them', () => {
    const result = chooseClustering(points, OPTIONS);
    expect(result.clustering.k).toBe(4);
    expect(adjustedRandIndex(truth, result.clustering.labels)).toBe(1);
    expect(result.candidates.map((c) => c.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    const best = Math.max(...result.candidates.map((c) => c.silhouette));
    expect(result.candidates.find((c) => c.k === 4)?.silhouette).toBe(best);
    expect(result.reason).toMatch(/^k = 4: the highest silhouette/);
  });

  it('reports its candidates: the smallest share is that of the smallest cluster', () => {
    const result = chooseClustering(points, OPTIONS);
    // k = 4: the blob of 100 out of 1,000 points.
    expect(result.candidates.find((c) => c.k === 4)).toMatchObject({ smallestShare: 0.1, eligible: true });
  });

  it('rejects a k with a better silhouette when one of its clusters is below minShare', () => {
    // Two big blobs and a tiny one (3% of the points), 10 apart from one another: k = 3 separates
    // them (the best silhouette) but, with minShare 5%, is not eligible.
    const { points } = blobs(
      [
        { center: [0, 0], count: 500, spread: 0.5 },
        { center: [10, 0], count: 470, spread: 0.5 },
        { center: [5, 8.66], count: 30, spread: 0.5 },
      ],
      5,
    );
    const result = chooseClustering(points, { ...OPTIONS, kMax: 4, minShare: 0.05 });
    const three = result.candidates.find((c) => c.k === 3);
    expect(three?.eligible).toBe(false);
    expect(three?.smallestShare).toBeCloseTo(0.03, 10);
    expect(result.clustering.k).toBe(2);
    expect(three?.silhouette).toBeGreaterThan(result.candidates.find((c) => c.k === 2)?.silhouette ?? 1);
    expect(result.candidates.filter((c) => c.eligible).every((c) => c.smallestShare >= 0.05)).toBe(true);
  });

  it('takes the most balanced k, and says so, when no k is eligible', () => {
    const result = chooseClustering(points, { ...OPTIONS, minShare: 0.9 });
    expect(result.candidates.every((c) => !c.eligible)).toBe(true);
    const balanced = Math.max(...result.candidates.map((c) => c.smallestShare));
    const chosen = result.candidates.find((c) => c.k === result.clustering.k);
    expect(chosen?.smallestShare).toBe(balanced);
    expect(result.reason).toMatch(/^no k of k = 2\.\.8 keeps every cluster at 90\.0%/);
  });

  it('fits the chosen k on every point when the population exceeds the selection sample', () => {
    const result = chooseClustering(points, { ...OPTIONS, selectionSample: 300 });
    expect(result.clustering.k).toBe(4);
    expect(result.clustering.labels).toHaveLength(points.length);
    expect(Array.from(result.clustering.labels)).toEqual(truth);
    // The final fit is fitKMeans on all the points with the run's seed.
    expect(result.clustering).toEqual(fitKMeans(points, 4, { seed: OPTIONS.seed }));
  });

  it('validates the final fit with the metrics on all the points, and stability over other seeds', () => {
    const result = chooseClustering(points, OPTIONS);
    const { labels, centroids } = result.clustering;
    expect(result.validation).toEqual({
      silhouette: silhouette(points, labels, { sampleSize: OPTIONS.silhouetteSample, seed: OPTIONS.seed }),
      daviesBouldin: daviesBouldin(points, labels, centroids),
      calinskiHarabasz: calinskiHarabasz(points, labels, centroids),
      stability: 1,
      stabilityRuns: [1, 1, 1],
    });
    expect(result.validation.silhouette).toBeGreaterThan(0.8);
  });

  it('gives the same result for the same points and options', () => {
    const options = { ...OPTIONS, selectionSample: 400, silhouetteSample: 200 };
    expect(chooseClustering(points, options)).toEqual(chooseClustering(points, options));
  });

  it('skips the stability check with stabilitySeeds = 0: NaN, not measured', () => {
    const result = chooseClustering(points, { ...OPTIONS, kMax: 4, stabilitySeeds: 0 });
    expect(result.validation.stabilityRuns).toEqual([]);
    expect(result.validation.stability).toBeNaN();
    expect(result.clustering.k).toBe(4);
  });

  it('reports each stage as it ends, in order', () => {
    const stages: ClusteringStage[] = [];
    chooseClustering(points, { ...OPTIONS, kMax: 4 }, (stage) => stages.push(stage));
    expect(stages).toEqual(['selection', 'final fit', 'validation', 'stability']);
  });
});

describe('chooseClustering on degenerate populations', () => {
  it('throws a RangeError on no points', () => {
    expect(() => chooseClustering([], OPTIONS)).toThrow(/no points/);
  });

  it('makes one cluster of identical points', () => {
    const same = Array.from({ length: 50 }, () => [1, 2, 3]);
    const result = chooseClustering(same, OPTIONS);
    expect(result.clustering).toMatchObject({ k: 1, centroids: [[1, 2, 3]], inertia: 0 });
    expect(result.candidates).toEqual([{ k: 1, silhouette: 0, smallestShare: 1, eligible: true }]);
    expect(result.reason).toBe('all points are identical: one cluster');
    expect(result.validation).toMatchObject({
      silhouette: 0,
      daviesBouldin: 0,
      calinskiHarabasz: 0,
      stability: 1,
    });
    expect(chooseClustering([[4]], OPTIONS).clustering.k).toBe(1);
  });

  it('caps k at the number of distinct points when there are fewer than kMin', () => {
    const points = [[0], [0], [5], [5], [9]];
    const result = chooseClustering(points, { ...OPTIONS, kMin: 4, kMax: 6, minShare: 0 });
    expect(result.candidates.map((c) => c.k)).toEqual([3]);
    expect(result.clustering.k).toBe(3);
    expect(result.reason).toMatch(/k capped at 3, the number of distinct points/);
  });

  it('rejects invalid options', () => {
    const points = [[0], [1], [2]];
    expect(() => chooseClustering(points, { ...OPTIONS, kMin: 0 })).toThrow(/kMin/);
    expect(() => chooseClustering(points, { ...OPTIONS, kMax: 1 })).toThrow(/kMax/);
    expect(() => chooseClustering(points, { ...OPTIONS, minShare: 2 })).toThrow(/minShare/);
    expect(() => chooseClustering(points, { ...OPTIONS, stabilitySeeds: -1 })).toThrow(/stabilitySeeds/);
    expect(() => chooseClustering(points, { ...OPTIONS, selectionSample: 0 })).toThrow(/selectionSample/);
  });
});
