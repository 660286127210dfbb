// Where a value stands in a population: the one ranking rule behind RFM scores, reason codes and segment
// names, so that "top 20 %" means the same thing everywhere.

/** A population's values of one feature, sorted ascending, for rank lookups. */
export class Distribution {
  private readonly sorted: Float64Array;

  constructor(values: ArrayLike<number>) {
    this.sorted = Float64Array.from(values).sort();
  }

  get size(): number {
    return this.sorted.length;
  }

  /** How many values are strictly below `x`. */
  below(x: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.sorted[mid] ?? 0) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** How many values are strictly above `x`. */
  above(x: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.sorted[mid] ?? 0) <= x) lo = mid + 1;
      else hi = mid;
    }
    return this.sorted.length - lo;
  }

  /**
   * Mid-rank percentile in [0, 1]: the share of values below x plus half the share equal to it, so a value
   * shared by everyone sits at 0.5 and ties never split.
   */
  percentile(x: number): number {
    const n = this.sorted.length;
    if (n === 0) return 0.5;
    const below = this.below(x);
    const equal = n - below - this.above(x);
    return (below + equal / 2) / n;
  }

  /**
   * Bounds of the middle: a value in [low, high] is neither in the bottom `share` (percentile at most
   * `share`) nor in the top `share` (at least 1 − share), since percentiles rise with the value. Two
   * comparisons instead of two binary searches, for the many values that stand out nowhere. Values outside
   * may or may not stand out: compute their percentile. Infinite bounds when every value could.
   */
  middle(share: number): { readonly low: number; readonly high: number } {
    // low: the smallest value whose percentile exceeds `share`; high: the largest below 1 - share.
    const first = this.firstIndex((i) => this.percentile(this.at(i)) > share);
    const last = this.firstIndex((i) => this.percentile(this.at(i)) >= 1 - share) - 1;
    return {
      low: first < this.sorted.length ? this.at(first) : Number.POSITIVE_INFINITY,
      high: last >= 0 ? this.at(last) : Number.NEGATIVE_INFINITY,
    };
  }

  private at(i: number): number {
    return this.sorted[i] ?? 0;
  }

  /** The first sorted index where a condition that only turns true with the index holds (size if none). */
  private firstIndex(holds: (i: number) => boolean): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (holds(mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The median (mean of the two middle values for an even size); 0 when empty. */
  median(): number {
    const n = this.sorted.length;
    if (n === 0) return 0;
    const mid = n >>> 1;
    return n % 2 === 1
      ? (this.sorted[mid] ?? 0)
      : ((this.sorted[mid - 1] ?? 0) + (this.sorted[mid] ?? 0)) / 2;
  }
}

/** The median of a list (see Distribution.median). */
export const medianOf = (values: ArrayLike<number>): number => new Distribution(values).median();
