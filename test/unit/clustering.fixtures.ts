// Synthetic data for the clustering tests: Gaussian blobs with known membership, from a seeded generator
// so that every run sees the same points.
import { seededRandom } from '../../lib/clustering/random.js';

export interface Blob {
  center: number[];
  count: number;
  spread: number;
}

/** Standard normal draws (Box-Muller) from a seeded uniform generator. */
export function gaussian(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * Points of each blob around its center, blob after blob; `truth[i]` is the index of point i's blob.
 * List blobs by descending count and the truth is also the canonical numbering fitKMeans should find.
 */
export function blobs(specs: readonly Blob[], seed: number): { points: number[][]; truth: number[] } {
  const normal = gaussian(seed);
  const points: number[][] = [];
  const truth: number[] = [];
  specs.forEach((blob, b) => {
    for (let i = 0; i < blob.count; i++) {
      points.push(blob.center.map((x) => x + normal() * blob.spread));
      truth.push(b);
    }
  });
  return { points, truth };
}

/** Four well-separated blobs in 3-D of unequal sizes (400, 300, 200, 100): distances 10, spread 0.5. */
export function fourBlobs(seed = 7, scale = 1): { points: number[][]; truth: number[] } {
  return blobs(
    [
      { center: [0, 0, 0], count: 400 * scale, spread: 0.5 },
      { center: [10, 0, 0], count: 300 * scale, spread: 0.5 },
      { center: [0, 10, 0], count: 200 * scale, spread: 0.5 },
      { center: [0, 0, 10], count: 100 * scale, spread: 0.5 },
    ],
    seed,
  );
}

/**
 * A small fixed dataset (15 points in 3-D: four groups and an outlier) on which scikit-learn 1.2.1 reference
 * values were computed once with /usr/bin/python3; the tests that use it say which.
 */
export const SKLEARN_POINTS: number[][] = [
  [0.0, 0.0, 1.0],
  [0.5, 0.2, 0.8],
  [0.3, -0.4, 1.2],
  [-0.2, 0.1, 0.9],
  [0.1, 0.6, 1.1],
  [4.0, 4.2, 0.0],
  [4.5, 3.8, -0.3],
  [3.7, 4.4, 0.2],
  [4.2, 3.9, 0.4],
  [0.0, 5.0, 3.0],
  [0.4, 5.5, 2.6],
  [-0.3, 4.7, 3.3],
  [0.2, 5.2, 2.9],
  [1.5, 2.5, 2.0],
  [8.0, 0.0, 0.0],
];
