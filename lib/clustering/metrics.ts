// Clustering quality metrics with scikit-learn's exact formulas, so that figures from Precis and from a
// notebook on the same data can be compared. Where scikit-learn raises (fewer than two clusters), these
// return 0 instead: a run over a degenerate population should report, not crash. All are
// deterministic; all but the silhouette are O(n·k), the silhouette O(sample²).
import { dimensionOf, type Matrix, toMatrix } from './points.js';
import { sampleIndices } from './random.js';

/**
 * Mean silhouette coefficient over a deterministic sample of `sampleSize` points, computed within the
 * sample as `sklearn.metrics.silhouette_score(X, labels, sample_size=...)` does (scikit-learn draws its
 * sample with numpy, so only the unsampled figure, sampleSize >= n, equals its value exactly).
 * s(i) = (b - a) / max(a, b), a the mean distance to the other members of its cluster, b the smallest
 * mean distance to another cluster's members; s = 0 for a point alone in its cluster (within the sample).
 * Labels are any numbers. 0 when the sample holds fewer than two clusters.
 */
export function silhouette(
  points: readonly number[][],
  labels: ArrayLike<number>,
  options: { sampleSize: number; seed: number },
): number {
  checkLengths(points.length, labels.length);
  const indices = sampleIndices(points.length, options.sampleSize, options.seed);
  const { codes, count } = encode(Array.from(indices, (i) => labels[i] ?? 0));
  if (count < 2) return 0;
  const sums = clusterDistanceSums(toMatrix(points, indices), codes, count);
  const sizes = new Float64Array(count);
  for (const code of codes) sizes[code] = (sizes[code] ?? 0) + 1;
  let total = 0;
  codes.forEach((own, i) => {
    total += silhouetteOf(sums.subarray(i * count, (i + 1) * count), own, sizes);
  });
  return codes.length === 0 ? 0 : total / codes.length;
}

/**
 * Davies-Bouldin index (lower is better): the mean over clusters of the largest
 * (s_i + s_j) / d(c_i, c_j), s the mean distance of a cluster's points to its centroid.
 * scikit-learn computes the centroids as the means of the labelled points: pass those (as fitKMeans
 * returns) to get its value. Labels index `centroids`; clusters without points are ignored, as
 * scikit-learn, which only sees labels, ignores them. 0 below two clusters.
 */
export function daviesBouldin(
  points: readonly number[][],
  labels: ArrayLike<number>,
  centroids: readonly number[][],
): number {
  const { sizes, spread } = clusterSpread(points, labels, centroids);
  const present = [...sizes.keys()].filter((c) => (sizes[c] ?? 0) > 0);
  if (present.length < 2) return 0;
  const intra = present.map((c) => (spread[c] ?? 0) / (sizes[c] ?? 1));
  const between = present.map((c) => present.map((o) => euclidean(centroids[c] ?? [], centroids[o] ?? [])));
  // scikit-learn's np.allclose(x, 0): |x| <= 1e-8 everywhere.
  const allZero = (values: readonly number[]) => values.every((v) => Math.abs(v) <= 1e-8);
  if (allZero(intra) || allZero(between.flat())) return 0;
  let total = 0;
  intra.forEach((own, i) => {
    let worst = 0;
    intra.forEach((other, j) => {
      const distance = between[i]?.[j] ?? 0;
      // scikit-learn sets zero centroid distances (the diagonal too) to infinity: the ratio is 0.
      if (distance !== 0) worst = Math.max(worst, (own + other) / distance);
    });
    total += worst;
  });
  return total / intra.length;
}

/**
 * Calinski-Harabasz index (higher is better): between-cluster dispersion over within-cluster
 * dispersion, each per degree of freedom: [sum n_k |c_k - mean|^2 / (k - 1)] / [sum |x - c_k|^2 / (n - k)],
 * k counting clusters with points. As scikit-learn: 1 when the within-cluster dispersion is 0; its value
 * exactly when `centroids` are the means of the labelled points. 0 below two clusters.
 */
export function calinskiHarabasz(
  points: readonly number[][],
  labels: ArrayLike<number>,
  centroids: readonly number[][],
): number {
  const { sizes, squares } = clusterSpread(points, labels, centroids);
  const present = [...sizes.keys()].filter((c) => (sizes[c] ?? 0) > 0);
  if (present.length < 2) return 0;
  const mean = meanOf(points);
  let between = 0;
  let within = 0;
  for (const c of present) {
    const distance = euclidean(centroids[c] ?? [], mean);
    between += (sizes[c] ?? 0) * distance * distance;
    within += squares[c] ?? 0;
  }
  if (within === 0) return 1;
  return (between * (points.length - present.length)) / (within * (present.length - 1));
}

/**
 * Adjusted Rand index between two labelings (any numbers, compared as partitions): 1 for the same
 * partition whatever the numbering, about 0 for independent ones. scikit-learn's pair-counting formula;
 * the pair counts are BigInts so that products of counts over a million points stay exact, as Python's
 * integers keep them. 1 for empty labelings, as scikit-learn.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkLengths(a.length, b.length);
  const left = encode(a);
  const right = encode(b);
  const cells = new Map<number, number>();
  const rowSums = new Float64Array(left.count);
  const columnSums = new Float64Array(right.count);
  for (let i = 0; i < a.length; i++) {
    const r = left.codes[i] ?? 0;
    const c = right.codes[i] ?? 0;
    const cell = r * right.count + c;
    cells.set(cell, (cells.get(cell) ?? 0) + 1);
    rowSums[r] = (rowSums[r] ?? 0) + 1;
    columnSums[c] = (columnSums[c] ?? 0) + 1;
  }
  const sumOfSquares = (values: Iterable<number>) => {
    let total = 0n;
    for (const v of values) total += BigInt(v) * BigInt(v);
    return total;
  };
  const n = BigInt(a.length);
  const squares = sumOfSquares(cells.values());
  // The pair confusion matrix: pairs together in both (tp), in b only (fp), in a only (fn), in neither.
  const tp = squares - n;
  const fp = sumOfSquares(columnSums) - squares;
  const fn = sumOfSquares(rowSums) - squares;
  const tn = n * n - fp - fn - squares;
  if (fp === 0n && fn === 0n) return 1;
  return Number(2n * (tp * tn - fn * fp)) / Number((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}

function checkLengths(expected: number, actual: number): void {
  if (expected !== actual) throw new RangeError(`${actual} labels for ${expected} points`);
}

/** Dense codes 0..count-1 for arbitrary label values, in order of first appearance. */
function encode(labels: ArrayLike<number>): { codes: Int32Array; count: number } {
  const index = new Map<number, number>();
  const codes = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] ?? 0;
    let code = index.get(label);
    if (code === undefined) {
      code = index.size;
      index.set(label, code);
    }
    codes[i] = code;
  }
  return { codes, count: index.size };
}

/**
 * For each point i of the matrix and each cluster c, the sum of the distances from i to c's points
 * (m x count, row-major). Each pair is measured once: half the m² distances.
 */
function clusterDistanceSums(matrix: Matrix, codes: Int32Array, count: number): Float64Array {
  const { data, rows, cols } = matrix;
  const sums = new Float64Array(rows * count);
  for (let i = 0; i < rows; i++) {
    const oi = i * cols;
    const ci = codes[i] ?? 0;
    for (let j = i + 1; j < rows; j++) {
      const oj = j * cols;
      let s = 0;
      for (let f = 0; f < cols; f++) {
        const t = (data[oi + f] ?? 0) - (data[oj + f] ?? 0);
        s += t * t;
      }
      const distance = Math.sqrt(s);
      const cj = codes[j] ?? 0;
      sums[i * count + cj] = (sums[i * count + cj] ?? 0) + distance;
      sums[j * count + ci] = (sums[j * count + ci] ?? 0) + distance;
    }
  }
  return sums;
}

/** One point's silhouette from its distance sums per cluster, with scikit-learn's NaN -> 0. */
function silhouetteOf(sums: Float64Array, own: number, sizes: Float64Array): number {
  const ownSize = sizes[own] ?? 0;
  if (ownSize <= 1) return 0;
  const a = (sums[own] ?? 0) / (ownSize - 1);
  let b = Number.POSITIVE_INFINITY;
  sizes.forEach((size, c) => {
    if (c !== own && size > 0) b = Math.min(b, (sums[c] ?? 0) / size);
  });
  const largest = Math.max(a, b);
  return largest === 0 ? 0 : (b - a) / largest;
}

/**
 * Per cluster (index into centroids): its number of points, the sum of their distances to its centroid
 * and the sum of their squared distances. One pass over the points.
 */
function clusterSpread(
  points: readonly number[][],
  labels: ArrayLike<number>,
  centroids: readonly number[][],
): { sizes: Float64Array; spread: Float64Array; squares: Float64Array } {
  checkLengths(points.length, labels.length);
  const cols = dimensionOf(centroids);
  const k = centroids.length;
  const sizes = new Float64Array(k);
  const spread = new Float64Array(k);
  const squares = new Float64Array(k);
  points.forEach((point, i) => {
    const label = labels[i] ?? -1;
    const centroid = centroids[label];
    if (!Number.isInteger(label) || centroid === undefined) {
      throw new RangeError(`label ${label} of point ${i} is not the index of one of the ${k} centroids`);
    }
    if (point.length !== cols)
      throw new RangeError(`point ${i} has ${point.length} coordinates, not ${cols}`);
    const squared = squaredDistance(point, centroid);
    sizes[label] = (sizes[label] ?? 0) + 1;
    spread[label] = (spread[label] ?? 0) + Math.sqrt(squared);
    squares[label] = (squares[label] ?? 0) + squared;
  });
  return { sizes, spread, squares };
}

function meanOf(points: readonly number[][]): number[] {
  const mean = new Array<number>(dimensionOf(points)).fill(0);
  for (const point of points) {
    for (let j = 0; j < point.length; j++) mean[j] = (mean[j] ?? 0) + (point[j] ?? 0);
  }
  return mean.map((sum) => sum / points.length);
}

function squaredDistance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) {
    const t = (a[j] ?? 0) - (b[j] ?? 0);
    s += t * t;
  }
  return s;
}

function euclidean(a: readonly number[], b: readonly number[]): number {
  return Math.sqrt(squaredDistance(a, b));
}
