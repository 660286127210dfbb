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
