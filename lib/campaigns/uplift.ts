// The statistics of a campaign report: did the treated group convert more than the group held out, by how
// much, how sure are we, and how many more members would settle it. Pure functions of counters (members,
// conversions, revenue sum and sum of squares per group), so a report is computable at any time from the
// live counters of lib/campaigns/reportStore.ts.
//
// Choices (each the better-coverage method at the small counts a fresh campaign has):
// - one proportion: Wilson score interval (Wilson 1927), not Wald (which collapses to a zero-width
//   interval at 0 conversions);
// - difference of proportions: Newcombe's hybrid score interval, "method 10" of Newcombe RG, Interval
//   estimation for the difference between independent proportions: comparison of eleven methods,
//   Statistics in Medicine 1998;17:873-890 — it combines the two Wilson intervals and keeps close to
//   nominal coverage where the Wald difference interval does not;
// - ratio of proportions: Katz et al. 1978, the normal interval of the log risk ratio;
// - revenue per member: Welch's unequal-variance t interval (Welch–Satterthwaite degrees of freedom);
// - p-value: the two-sided two-proportion z-test with the pooled proportion (equal to Pearson's χ² test
//   without continuity correction);
// - sample still needed: the normal-approximation sample size of Fleiss (Statistical Methods for Rates
//   and Proportions, 3rd ed., §4.2) for α = 0.05 two-sided and 80 % power, at the groups' current ratio.

/** z of a two-sided 95 % interval: Φ⁻¹(0.975). */
export const Z_95 = 1.959963984540054;
/** z of 80 % power: Φ⁻¹(0.8). */
export const Z_POWER_80 = 0.8416212335729143;
export const ALPHA = 0.05;

export interface Interval {
  readonly lower: number;
  readonly upper: number;
}

/** What the report keeps per group: members (exposed or would-have-been), conversions and their revenue. */
export interface GroupCounts {
  readonly members: number;
  readonly converted: number;
  /** Sum of the revenue of the members' conversions (a member without one counts 0). */
  readonly revenue: number;
  /** Sum of squares of the same, so the variance of revenue per member is computable from counters. */
  readonly revenueSq: number;
}

/** The Wilson score interval of x successes in n trials (n > 0). */
export function wilson(x: number, n: number, z = Z_95): Interval {
  const p = x / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Clamped: at x = 0 or x = n the bound is 0 or 1 exactly, not 1e-17 off by rounding.
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/** Newcombe's hybrid score interval (method 10) of p1 − p2; both groups non-empty. */
export function newcombe(x1: number, n1: number, x2: number, n2: number, z = Z_95): Interval {
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const w1 = wilson(x1, n1, z);
  const w2 = wilson(x2, n2, z);
  const d = p1 - p2;
  return {
    lower: d - Math.sqrt((p1 - w1.lower) ** 2 + (w2.upper - p2) ** 2),
    upper: d + Math.sqrt((w1.upper - p1) ** 2 + (p2 - w2.lower) ** 2),
  };
}

/**
 * The risk ratio p1 / p2 with Katz's log interval; undefined when either group has no conversion (the
 * log ratio and its variance are infinite: no continuity fudge, the report says it cannot tell).
 */
export function riskRatio(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  z = Z_95,
): { estimate: number; ci95: Interval } | undefined {
  if (x1 === 0 || x2 === 0) return undefined;
  const ratio = x1 / n1 / (x2 / n2);
  const se = Math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2);
  return { estimate: ratio, ci95: { lower: ratio * Math.exp(-z * se), upper: ratio * Math.exp(z * se) } };
}

/** Two-sided p-value of the pooled two-proportion z-test; 1 when there is no variation at all. */
export function twoProportionPValue(x1: number, n1: number, x2: number, n2: number): number {
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return 1;
  const z = (x1 / n1 - x2 / n2) / se;
  return Math.min(1, 2 * normalUpperTail(Math.abs(z)));
}

/**
 * Members each group needs in all to detect p1 vs p2 (two-sided α = 0.05, power 0.8) with group 1 kept
 * `ratio` times the size of group 2 (a holdout is usually far smaller than the treated group, and the
 * small group is what limits the test). Undefined when the two rates are equal: no sample detects a zero
 * effect.
 */
export function requiredSampleSizes(
  p1: number,
  p2: number,
  ratio = 1,
): { group1: number; group2: number } | undefined {
  const d = p1 - p2;
  if (d === 0) return undefined;
  const pooled = (ratio * p1 + p2) / (ratio + 1);
  const null_ = Z_95 * Math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio));
  const alternative = Z_POWER_80 * Math.sqrt((p1 * (1 - p1)) / ratio + p2 * (1 - p2));
  const group2 = Math.ceil((null_ + alternative) ** 2 / d ** 2);
  return { group1: Math.ceil(ratio * group2), group2 };
}

/**
 * Welch's interval of mean1 − mean2 from sums and sums of squares; undefined when a group has fewer
 * than two members (no variance).
 */
export function welchDifference(
  a: { n: number; sum: number; sumSq: number },
  b: { n: number; sum: number; sumSq: number },
): { estimate: number; ci95: Interval } | undefined {
  if (a.n < 2 || b.n < 2) return undefined;
  const mean = (g: typeof a) => g.sum / g.n;
  // max(0, ·): the textbook formula can go a hair negative by rounding when every value is the same.
  const variance = (g: typeof a) => Math.max(0, (g.sumSq - g.sum ** 2 / g.n) / (g.n - 1));
  const va = variance(a) / a.n;
  const vb = variance(b) / b.n;
  const estimate = mean(a) - mean(b);
  const se = Math.sqrt(va + vb);
  if (se === 0) return { estimate, ci95: { lower: estimate, upper: estimate } };
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  const t = studentTQuantile(1 - ALPHA / 2, df);
  return { estimate, ci95: { lower: estimate - t * se, upper: estimate + t * se } };
}

export type Verdict = 'treated better' | 'treated worse' | 'no difference detected' | 'not significant yet';

export interface Uplift {
  readonly rates: { readonly treated?: number; readonly control?: number };
  /** Treated − control conversion rate, with Newcombe's interval. */
  readonly absolute?: { readonly estimate: number; readonly ci95: Interval };
  /** Treated / control − 1, with Katz's interval (shifted by −1 as the estimate is). */
  readonly relative?: { readonly estimate: number; readonly ci95: Interval };
  /** Treated − control revenue per member, with Welch's interval. */
  readonly revenuePerMember?: { readonly estimate: number; readonly ci95: Interval };
  readonly pValue?: number;
  readonly significant: boolean;
  /**
   * When not significant: the further members each group needs (at the current ratio) to detect the
   * observed effect at 80 % power, or 'cannot tell' (an empty group, or no observed effect to detect).
   */
  readonly needed?: { readonly treated: number; readonly control: number } | 'cannot tell';
  readonly verdict: Verdict;
}

/** Uplift of treated over control from their counters. */
export function uplift(treated: GroupCounts, control: GroupCounts): Uplift {
  const rate = (g: GroupCounts) => (g.members > 0 ? g.converted / g.members : undefined);
  const rates = { treated: rate(treated), control: rate(control) };
  if (rates.treated === undefined || rates.control === undefined) {
    return { rates, significant: false, needed: 'cannot tell', verdict: 'not significant yet' };
  }
  const args = [treated.converted, treated.members, control.converted, control.members] as const;
  const estimate = rates.treated - rates.control;
  const ratio = riskRatio(...args);
  const pValue = twoProportionPValue(...args);
  const significant = pValue < ALPHA;
  const revenuePerMember = welchDifference(
    { n: treated.members, sum: treated.revenue, sumSq: treated.revenueSq },
    { n: control.members, sum: control.revenue, sumSq: control.revenueSq },
  );
  const common = {
    rates,
    absolute: { estimate, ci95: newcombe(...args) },
    ...(ratio
      ? {
          relative: {
            estimate: ratio.estimate - 1,
            ci95: { lower: ratio.ci95.lower - 1, upper: ratio.ci95.upper - 1 },
          },
        }
      : {}),
    ...(revenuePerMember ? { revenuePerMember } : {}),
    pValue,
    significant,
  };
  if (significant) return { ...common, verdict: estimate > 0 ? 'treated better' : 'treated worse' };
  const required = requiredSampleSizes(rates.treated, rates.control, treated.members / control.members);
  if (!required) return { ...common, needed: 'cannot tell', verdict: 'no difference detected' };
  return {
    ...common,
    needed: {
      treated: Math.max(0, required.group1 - treated.members),
      control: Math.max(0, required.group2 - control.members),
    },
    verdict: 'not significant yet',
  };
}

// ---- distributions ----

/**
 * 1 − Φ(x) through erfc, by the Chebyshev fit of Numerical Recipes (`erfcc`, fractional error below
 * 1.2e-7 everywhere): enough for p-values, which are reported to a few digits.
 */
export function normalUpperTail(x: number): number {
  return 0.5 * erfc(x / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** ln Γ(x), Lanczos (g = 7, 9 terms; about 15 significant digits for x > 0). */
function logGamma(x: number): number {
  const c = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
    12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0] ?? 0;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] ?? 0) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized incomplete beta I_x(a, b), by its continued fraction (modified Lentz). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast only for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let f = d;
  for (let m = 1; m <= 300; m++) {
    for (const numerator of [
      (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)),
      -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)),
    ]) {
      d = 1 + numerator * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + numerator / c;
      if (Math.abs(c) < tiny) c = tiny;
      f *= c * d;
    }
    if (Math.abs(c * d - 1) < 1e-15) break;
  }
  return (front * f) / a;
}

/** P(T ≤ t) of Student's t with df degrees of freedom (df may be fractional, as Welch's is). */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The q-quantile (q > 0.5) of Student's t, by bisection of its CDF (monotone, so always converges). */
export function studentTQuantile(q: number, df: number): number {
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < q) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-12 * high; i++) {
    const mid = (low + high) / 2;
    if (studentTCdf(mid, df) < q) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}
