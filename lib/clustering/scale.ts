// Robust feature scaling for behavioral features before K-means. Counts and amounts are heavily skewed
// (a few customers order a hundred times): log1p compresses them, and centering on the median and
// dividing by the interquartile range keeps those few from setting the scale for everyone, as a mean and
// standard deviation would. Without scaling, the feature with the largest unit (money) would decide
// every distance on its own.

export interface FeatureScaling {
  /** The features kept, in the order of the scaled vectors. */
  features: string[];
  /** Per kept feature: whether it is log1p-transformed before centering. */
  log: boolean[];
  /** Per kept feature: the median (after log1p where logged). */
  center: number[];
  /** Per kept feature: the divisor, its spread: the IQR, else the standard deviation. */
  scale: number[];
  /** Features dropped because they are constant (no spread). */
  dropped: string[];
}

/**
 * Fits the scaling on raw rows (values in `names` order). Logged features are log1p'd first, negatives
 * clamped to 0 (they are counts and amounts: a negative is an upstream error, not a signal). Values that
 * are not finite (missing) are left out of the fit. A feature whose values are all equal, or that has no
 * finite value, is dropped: it cannot separate anyone.
 *
 * Each column is copied into a Float64Array and sorted natively: a million rows x 12 features fit in
 * about a second.
 */
export function fitScaling(
  rows: readonly (readonly number[])[],
  names: readonly string[],
  logged: ReadonlySet<string>,
): FeatureScaling {
  const scaling: FeatureScaling = { features: [], log: [], center: [], scale: [], dropped: [] };
  names.forEach((name, column) => {
    const log = logged.has(name);
    const sorted = sortedColumn(rows, column, log);
    const fitted = centerAndSpread(sorted);
    if (fitted === null) {
      scaling.dropped.push(name);
      return;
    }
    scaling.features.push(name);
    scaling.log.push(log);
    scaling.center.push(fitted.center);
    scaling.scale.push(fitted.scale);
  });
  return scaling;
}

/**
 * Maps a raw row (values in `names` order) to the scaled kept features. A missing (non-finite) value
 * maps to 0, the median: it says nothing, so it should pull the customer toward no cluster.
 */
export function scaleRow(
  scaling: FeatureScaling,
  row: readonly number[],
  names: readonly string[],
): number[] {
  return scaleWith(scaling, positionsOf(scaling, names), row);
}

/** scaleRow over many rows; the feature positions are looked up once. */
export function scaleRows(
  scaling: FeatureScaling,
  rows: readonly (readonly number[])[],
  names: readonly string[],
): number[][] {
  const positions = positionsOf(scaling, names);
  return rows.map((row) => scaleWith(scaling, positions, row));
}

/**
 * The q-quantile of ascending values by linear interpolation between closest ranks, with numpy's
 * default method and its exact arithmetic (`_lerp`), so that medians and quartiles equal numpy's.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = (n - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, n - 1);
  const t = position - below;
  const a = sorted[below] ?? Number.NaN;
  const b = sorted[above] ?? Number.NaN;
  const diff = b - a;
  // numpy interpolates from the upper value when t >= 0.5: the result is then exact at t = 1.
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

function transform(value: number, log: boolean): number {
  return log ? Math.log1p(Math.max(0, value)) : value;
}

/** The finite values of one column, transformed, ascending. */
function sortedColumn(rows: readonly (readonly number[])[], column: number, log: boolean): Float64Array {
  const values = new Float64Array(rows.length);
  let count = 0;
  for (const row of rows) {
    const value = row[column];
    if (value === undefined || !Number.isFinite(value)) continue;
    values[count++] = transform(value, log);
  }
  return values.subarray(0, count).sort();
}

function centerAndSpread(sorted: Float64Array): { center: number; scale: number } | null {
  const n = sorted.length;
  // Equal extremes: constant. Checked first, because the standard deviation of equal values can come
  // out as 1e-17 instead of 0 through rounding of their mean.
  if (n === 0 || sorted[0] === sorted[n - 1]) return null;
  const center = quantileSorted(sorted, 0.5);
  const iqr = quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25);
  if (iqr > 0) return { center, scale: iqr };
  // Over half the customers share one value (typically 0 shares, 0 cart adds): the quartiles coincide.
  // The standard deviation still sees the rest, and is positive since the extremes differ. (A fallback
  // to the MAD x 1.4826 first would never fire: with these quartiles, IQR = 0 means that over half the
  // values equal the median, so their MAD is 0 too; an exhaustive check of small arrays with numpy
  // finds no exception.)
  return { center, scale: standardDeviation(sorted) };
}

/** Population standard deviation (numpy's default, ddof = 0), two-pass for accuracy. */
function standardDeviation(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return Math.sqrt(squares / values.length);
}

function positionsOf(scaling: FeatureScaling, names: readonly string[]): number[] {
  const index = new Map(names.map((name, i) => [name, i] as const));
  return scaling.features.map((feature) => {
    const position = index.get(feature);
    if (position === undefined) {
      throw new Error(`scaleRow: the row has no "${feature}", a feature the scaling was fitted on`);
    }
    return position;
  });
}

function scaleWith(scaling: FeatureScaling, positions: readonly number[], row: readonly number[]): number[] {
  return positions.map((position, f) => {
    const value = row[position];
    if (value === undefined || !Number.isFinite(value)) return 0;
    return (transform(value, scaling.log[f] ?? false) - (scaling.center[f] ?? 0)) / (scaling.scale[f] ?? 1);
  });
}
