// K-means with k-means++ seeding, deterministic for a given seed, with canonical cluster numbers.
//
// How the work is split, and why. Measured on 1,000,000 x 12 scaled points (npm run bench:segment,
// AMD EPYC, 2 cores, Node 20):
//   - ml-kmeans fitting all the points: 7.0 s for k = 6 and ~1.2 GB of peak RSS, ~0.65 GB of it its own.
//     Its k-means++ initialization alone takes ~3.8 s (ml-matrix rows, a candidates x points distance
//     matrix), then ~270 ms per Lloyd iteration (a function call per distance).
//   - scikit-learn 1.2 (2 OpenMP threads, BLAS), same matrix, k and seed: 1.0-1.5 s (~0.5 s of
//     k-means++, then ~13 ms per iteration).
//   - A Lloyd iteration over a row-major Float64Array: 110-170 ms; with Hamerly's bounds (lloyd.ts),
//     35-80 ms, the summing pass included.
// So ml-kmeans only seeds: the best of SEED_STARTS k-means++ fits on a sample of SEED_SAMPLE points
// (~0.2 s), and lloyd.ts iterates on all the points from there: 0.95 s for the same fit (median of 3),
// inertia within 0.0001% of scikit-learn's.
import { kmeans as mlKMeans } from 'ml-kmeans';
import { type LloydResult, lloyd, squaredDistanceAt } from './lloyd.js';
import { countDistinct, dimensionOf, gather, type Matrix, toMatrix } from './points.js';
import { sampleIndices, seededRandom } from './random.js';

export interface Clustering {
  k: number;
  /** Cluster of each point, 0..k-1: cluster 0 is the largest (ties: the centroid first in lexicographic order). */
  labels: Int32Array;
  /** Per cluster, the mean of its points. */
  centroids: number[][];
  /** Sum of squared distances to the assigned centroid. */
  inertia: number;
  /** Lloyd iterations over all the points (after the seeding on a sample). */
  iterations: number;
  /** False when maxIterations stopped the fit before it converged. */
  converged: boolean;
}

export interface KMeansOptions {
  seed: number;
  /** Lloyd iterations at most; scikit-learn's default, 300. */
  maxIterations?: number;
  /**
   * Convergence: the summed squared centroid shift of one iteration is at most tolerance x the mean
   * per-feature variance of the points (scikit-learn's definition and default, 1e-4). Stops earlier if
   * an iteration changes no label.
   */
  tolerance?: number;
  /**
   * Start from these k centroids instead of k-means++ (e.g. the previous run's, so that segments keep
   * their place from one run to the next). `seed` is then unused.
   */
  initial?: readonly number[][];
}

export const DEFAULT_MAX_ITERATIONS = 300;
export const DEFAULT_TOLERANCE = 1e-4;
/**
 * The sample ml-kmeans seeds on, at most. k-means++ needs only enough points to find every dense region:
 * 5,000 holds 150 points of a cluster of 3%.
 */
export const SEED_SAMPLE = 5_000;
/**
 * k-means++ starts on the seeding sample; the one with the lowest inertia on the sample wins (as
 * scikit-learn's n_init). On the benchmark's 100,000 customers, k = 6, one start on 10,000 points ended
 * in the worse of two local optima (4% more inertia) for half of 20 seeds; the best of 3 starts on
 * 5,000 points never did, for the same time (~0.2 s per fit).
 */
export const SEED_STARTS = 3;

/**
 * Fits k clusters: k-means++ seeding (ml-kmeans, best of SEED_STARTS starts on a sample of at most
 * SEED_SAMPLE points), then Lloyd iterations on all the points (lloyd.ts). The same points and seed give the same result, bit for bit.
 * Throws a RangeError when there are fewer distinct points than k (k-means++ could not place k
 * centroids), on invalid options, and on non-finite coordinates.
 */
export function fitKMeans(points: readonly number[][], k: number, options: KMeansOptions): Clustering {
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  checkOptions(k, maxIterations, tolerance);
  const matrix = toMatrix(points);
  const distinct = countDistinct(points, k);
  if (distinct < k) {
    throw new RangeError(`fitKMeans: k = ${k}, but there are only ${distinct} distinct points`);
  }
  const absoluteTolerance = tolerance * meanVariance(matrix);
  const initial = options.initial ?? seedCentroids(points, k, options.seed, maxIterations, absoluteTolerance);
  checkInitial(initial, k, matrix.cols);
  const fit = lloyd(matrix, Float64Array.from(initial.flat()), k, maxIterations, absoluteTolerance);
  return canonical(fit, k, matrix.cols);
}

/**
 * The nearest centroid of each point and the Euclidean distance to it (not squared). Ties go to the
 * lowest index. Uses the arithmetic of fitKMeans' own assignment, so that the labels of a fit's points
 * are the fit's labels.
 */
export function assignNearest(
  points: readonly number[][],
  centroids: readonly number[][],
): { labels: Int32Array; distances: Float64Array } {
  if (centroids.length === 0) throw new RangeError('assignNearest: no centroids');
  const cols = dimensionOf(centroids);
  const flat = Float64Array.from(centroids.flat());
  const k = centroids.length;
  const labels = new Int32Array(points.length);
  const distances = new Float64Array(points.length);
  // Each point is copied into a typed array: the shared distance function then only ever sees typed
  // arrays, which keeps it monomorphic (fast) in fitKMeans' hot loop. Copying a double is exact.
  const row = new Float64Array(cols);
  points.forEach((point, i) => {
    if (point.length !== cols) {
      throw new RangeError(`assignNearest: centroids have ${cols} coordinates; a point has ${point.length}`);
    }
    row.set(point);
    let best = 0;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      const s = squaredDistanceAt(row, 0, flat, c * cols, cols);
      if (s < bestDistance) {
        bestDistance = s;
        best = c;
      }
    }
    if (!Number.isFinite(bestDistance)) throw new RangeError(`assignNearest: point ${i} is not finite`);
    labels[i] = best;
    distances[i] = Math.sqrt(bestDistance);
  });
  return { labels, distances };
}

function checkOptions(k: number, maxIterations: number, tolerance: number): void {
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`fitKMeans: k must be a positive integer, not ${k}`);
  }
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new RangeError(`fitKMeans: maxIterations must be a positive integer, not ${maxIterations}`);
  }
  if (!(tolerance >= 0)) throw new RangeError(`fitKMeans: tolerance must be >= 0, not ${tolerance}`);
}

function checkInitial(initial: readonly number[][], k: number, cols: number): void {
  const valid =
    initial.length === k && initial.every((c) => c.length === cols && c.every((x) => Number.isFinite(x)));
  if (!valid) throw new RangeError(`fitKMeans: initial must be ${k} finite centroids of ${cols} coordinates`);
}

/** Mean over the features of their (population) variance: what the tolerance is relative to. */
function meanVariance({ data, rows, cols }: Matrix): number {
  if (rows === 0 || cols === 0) return 0;
  const means = new Float64Array(cols);
  for (let o = 0; o < data.length; o += cols) {
    for (let j = 0; j < cols; j++) means[j] = (means[j] ?? 0) + (data[o + j] ?? 0);
  }
  for (let j = 0; j < cols; j++) means[j] = (means[j] ?? 0) / rows;
  let squares = 0;
  for (let o = 0; o < data.length; o += cols) {
    for (let j = 0; j < cols; j++) {
      const t = (data[o + j] ?? 0) - (means[j] ?? 0);
      squares += t * t;
    }
  }
  return squares / rows / cols;
}

/**
 * Initial centroids: the best of SEED_STARTS ml-kmeans fits (k-means++ then Lloyd) on a deterministic
 * sample. The starts' seeds are drawn from `seed`, not seed + 1, seed + 2...: fits with neighbouring
 * seeds (the stability check's) must not share starts. Should the sample hold fewer than k distinct
 * points (near-identical customers and a few outliers), the starts run on all the points instead: slow,
 * but correct, and only where k-means++ would otherwise fail.
 */
function seedCentroids(
  points: readonly number[][],
  k: number,
  seed: number,
  maxIterations: number,
  tolerance: number,
): number[][] {
  let sample = gather(points, sampleIndices(points.length, SEED_SAMPLE, seed));
  if (countDistinct(sample, k) < k) sample = points.slice();
  const matrix = toMatrix(sample);
  const draw = seededRandom(seed);
  let best: number[][] = [];
  let bestInertia = Number.POSITIVE_INFINITY;
  for (let start = 0; start < SEED_STARTS; start++) {
    const startSeed = Math.floor(draw() * 2 ** 32);
    // ml-kmeans' tolerance bounds each centroid's squared shift; ours bounds their sum: the same order.
    const { centroids } = mlKMeans(sample, k, {
      seed: startSeed,
      initialization: 'kmeans++',
      maxIterations,
      tolerance,
    });
    const inertia = inertiaOf(matrix, Float64Array.from(centroids.flat()), k);
    if (inertia < bestInertia) {
      bestInertia = inertia;
      best = centroids;
    }
  }
  return best;
}

/** Sum of squared distances from each point to its nearest center. */
function inertiaOf(matrix: Matrix, centers: Float64Array, k: number): number {
  const { data, rows, cols } = matrix;
  let inertia = 0;
  for (let i = 0; i < rows; i++) {
    let nearest = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++)
      nearest = Math.min(nearest, squaredDistanceAt(data, i * cols, centers, c * cols, cols));
    inertia += nearest;
  }
  return inertia;
}

/**
 * Renumbers the clusters by descending size, ties by centroid in lexicographic order: the numbers then
 * depend on the partition only, not on the order in which k-means++ happened to place the centroids.
 */
function canonical(fit: LloydResult, k: number, cols: number): Clustering {
  const sizes = new Array<number>(k).fill(0);
  for (const label of fit.labels) sizes[label] = (sizes[label] ?? 0) + 1;
  const centroids = Array.from({ length: k }, (_, c) =>
    Array.from(fit.centers.subarray(c * cols, (c + 1) * cols)),
  );
  const order = [...sizes.keys()].sort(
    (a, b) =>
      (sizes[b] ?? 0) - (sizes[a] ?? 0) ||
      compareLexicographic(centroids[a] ?? [], centroids[b] ?? []) ||
      a - b,
  );
  const rank = new Int32Array(k);
  order.forEach((old, r) => {
    rank[old] = r;
  });
  return {
    k,
    labels: fit.labels.map((label) => rank[label] ?? label),
    centroids: order.map((c) => centroids[c] ?? []),
    inertia: fit.inertia,
    iterations: fit.iterations,
    converged: fit.converged,
  };
}

function compareLexicographic(a: readonly number[], b: readonly number[]): number {
  for (let j = 0; j < a.length; j++) {
    const difference = (a[j] ?? 0) - (b[j] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
