// The report's statistics against published values (Newcombe 1998's worked examples, Wilson intervals
// from Newcombe's single-proportion paper, t tables, Welch's test on Wikipedia's example checked with
// numpy) and values worked by hand, then properties over random counts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  newcombe,
  normalUpperTail,
  requiredSampleSizes,
  riskRatio,
  studentTQuantile,
  twoProportionPValue,
  uplift,
  welchDifference,
  wilson,
  Z_95,
} from '../../lib/campaigns/uplift.js';

/** Published figures have four decimals. */
const close4 = (actual: number, expected: number) => expect(actual).toBeCloseTo(expected, 4);

describe('Wilson score interval', () => {
  // Newcombe RG, Two-sided confidence intervals for the single proportion, Stat Med 1998;17:857-872,
  // Table I, method 3 (score, no continuity correction).
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%i/%i → %f to %f', (x, n, lower, upper) => {
    const ci = wilson(x, n);
    close4(ci.lower, lower);
    close4(ci.upper, upper);
  });
});

describe("Newcombe's hybrid score interval for a difference of proportions", () => {
  // Newcombe 1998, Stat Med 17:873-890, Table II, method 10. (The brief quoted 0.1833 and
  // 0.0344–0.3164 for example (a); 56/70 − 48/80 is exactly 0.2, and the paper's method-10 interval is
  // the one below.)
  it.each([
    ['a', 56, 70, 48, 80, 0.0524, 0.3339],
    ['b', 9, 10, 3, 10, 0.1705, 0.809],
    ['d', 5, 56, 0, 29, -0.0381, 0.1926],
    ['e', 0, 10, 0, 20, -0.1611, 0.2775],
  ])('example (%s): %i/%i − %i/%i → %f to %f', (_, x1, n1, x2, n2, lower, upper) => {
    const ci = newcombe(x1, n1, x2, n2);
    close4(ci.lower, lower);
    close4(ci.upper, upper);
  });
});

describe('risk ratio (Katz), z-test, sample size, t quantiles, Welch', () => {
  it('56/70 vs 48/80: RR 4/3, log-scale interval worked by hand', () => {
    // se(ln RR) = √(1/56 − 1/70 + 1/48 − 1/80) = √0.0119048 = 0.109109; 4/3 · e^(±1.959964 · 0.109109)
    const rr = riskRatio(56, 70, 48, 80);
    close4(rr?.estimate ?? Number.NaN, 4 / 3);
    close4(rr?.ci95.lower ?? Number.NaN, 1.0766);
    close4(rr?.ci95.upper ?? Number.NaN, 1.6512);
  });

  it('no conversion in a group: no ratio', () => {
    expect(riskRatio(0, 50, 3, 50)).toBeUndefined();
    expect(riskRatio(3, 50, 0, 50)).toBeUndefined();
  });

  it('56/70 vs 48/80: z = 2.6502, two-sided p = 0.00805 (χ² = 7.023 with 1 df, worked by hand)', () => {
    expect(twoProportionPValue(56, 70, 48, 80)).toBeCloseTo(0.00805, 5);
  });

  it('Φ at the 95 % two-sided z leaves 2.5 % in the tail', () => {
    expect(normalUpperTail(Z_95)).toBeCloseTo(0.025, 7);
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 7);
  });

  it('40 % vs 60 %, α 0.05 two-sided, power 80 %: 97 per group (Fleiss, no continuity correction)', () => {
    expect(requiredSampleSizes(0.6, 0.4)).toEqual({ group1: 97, group2: 97 });
  });

  it('a larger group 1 lowers what group 2 needs, never below half of the equal design', () => {
    const equal = requiredSampleSizes(0.12, 0.1)?.group2 ?? 0;
    const unequal = requiredSampleSizes(0.12, 0.1, 9);
    expect(unequal?.group2).toBeLessThan(equal);
    expect(unequal?.group2).toBeGreaterThan(equal / 2);
    expect(unequal?.group1).toBe(Math.ceil(9 * (unequal?.group2 ?? 0)));
  });

  it.each([
    [1, 12.7062],
    [10, 2.2281],
    [30, 2.0423],
    [1e7, 1.96],
  ])('t(0.975, %f) = %f (tables)', (df, t) => {
    close4(studentTQuantile(0.975, df), t);
  });

  it("Welch's interval on Wikipedia's example 1 (t = −2.46, df = 24.99; sums and se from numpy)", () => {
    const w = welchDifference({ n: 15, sum: 312.3, sumSq: 6612.23 }, { n: 15, sum: 344.8, sumSq: 7979.18 });
    close4(w?.estimate ?? Number.NaN, -2.166667);
    // Half-width = t(0.975, 24.99) · se, with se = 0.882425 and t(0.975, 25) = 2.0595 from tables.
    const half = ((w?.ci95.upper ?? 0) - (w?.ci95.lower ?? 0)) / 2;
    expect(half / 0.882425).toBeCloseTo(2.0595, 3);
  });

  it('Welch needs two members a group; constant values give a zero-width interval', () => {
    expect(welchDifference({ n: 1, sum: 5, sumSq: 25 }, { n: 5, sum: 5, sumSq: 25 })).toBeUndefined();
    expect(welchDifference({ n: 4, sum: 8, sumSq: 16 }, { n: 2, sum: 2, sumSq: 2 })).toEqual({
      estimate: 1,
      ci95: { lower: 1, upper: 1 },
    });
  });
});

describe('uplift verdicts', () => {
  const group = (members: number, converted: number, revenue = 0, revenueSq = 0) => ({
    members,
    converted,
    revenue,
    revenueSq,
  });

  it('an empty group: cannot tell yet', () => {
    const u = uplift(group(100, 10), group(0, 0));
    expect(u).toMatchObject({ significant: false, needed: 'cannot tell', verdict: 'not significant yet' });
    expect(u.absolute).toBeUndefined();
  });

  it('the same rate: no difference detected, no sample would detect it', () => {
    const u = uplift(group(200, 20), group(100, 10));
    expect(u).toMatchObject({ significant: false, needed: 'cannot tell', verdict: 'no difference detected' });
    expect(u.absolute?.estimate).toBe(0);
  });

  it('a small effect on small groups: not significant yet, with the members still needed', () => {
    const u = uplift(group(1000, 120), group(1000, 100));
    expect(u.verdict).toBe('not significant yet');
    expect(u.pValue).toBeGreaterThan(0.05);
    // 12 % vs 10 %, equal groups: 3,841 each (Fleiss) — 2,841 more each.
    expect(u.needed).toEqual({ treated: 2841, control: 2841 });
    expect(u.absolute?.ci95.lower).toBeLessThan(0);
  });

  it('a large effect: treated better, interval above zero; swapped: treated worse', () => {
    const better = uplift(group(70, 56, 560, 5600), group(80, 48, 480, 4800));
    expect(better).toMatchObject({ significant: true, verdict: 'treated better' });
    expect(better.needed).toBeUndefined();
    expect(better.absolute?.ci95.lower).toBeGreaterThan(0);
    expect(better.relative?.estimate).toBeCloseTo(1 / 3, 10);
    expect(better.revenuePerMember?.estimate).toBeCloseTo(2, 10);
    expect(uplift(group(80, 48), group(70, 56)).verdict).toBe('treated worse');
  });
});

describe('properties', () => {
  const counts = fc
    .tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 5000 }))
    .chain(([n1, n2]) =>
      fc.tuple(
        fc.integer({ min: 0, max: n1 }),
        fc.constant(n1),
        fc.integer({ min: 0, max: n2 }),
        fc.constant(n2),
      ),
    );
  const eps = 1e-12;

  it('every interval contains its point estimate', () => {
    fc.assert(
      fc.property(counts, ([x1, n1, x2, n2]) => {
        const w = wilson(x1, n1);
        expect(w.lower).toBeLessThanOrEqual(x1 / n1 + eps);
        expect(w.upper).toBeGreaterThanOrEqual(x1 / n1 - eps);
        const d = x1 / n1 - x2 / n2;
        const ci = newcombe(x1, n1, x2, n2);
        expect(ci.lower).toBeLessThanOrEqual(d + eps);
        expect(ci.upper).toBeGreaterThanOrEqual(d - eps);
        expect(ci.lower).toBeGreaterThanOrEqual(-1 - eps);
        expect(ci.upper).toBeLessThanOrEqual(1 + eps);
        const rr = riskRatio(x1, n1, x2, n2);
        if (rr) {
          expect(rr.ci95.lower).toBeLessThanOrEqual(rr.estimate * (1 + eps));
          expect(rr.ci95.upper).toBeGreaterThanOrEqual(rr.estimate * (1 - eps));
        }
        const p = twoProportionPValue(x1, n1, x2, n2);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('the interval narrows as the groups grow at the same rates', () => {
    fc.assert(
      fc.property(counts, fc.integer({ min: 2, max: 50 }), ([x1, n1, x2, n2], k) => {
        const width = (ci: { lower: number; upper: number }) => ci.upper - ci.lower;
        expect(width(wilson(k * x1, k * n1))).toBeLessThan(width(wilson(x1, n1)));
        expect(width(newcombe(k * x1, k * n1, k * x2, k * n2))).toBeLessThan(width(newcombe(x1, n1, x2, n2)));
      }),
    );
  });

  it('swapping the groups mirrors the difference, inverts the ratio and keeps the p-value', () => {
    fc.assert(
      fc.property(counts, ([x1, n1, x2, n2]) => {
        const ab = newcombe(x1, n1, x2, n2);
        const ba = newcombe(x2, n2, x1, n1);
        expect(ba.lower).toBeCloseTo(-ab.upper, 12);
        expect(ba.upper).toBeCloseTo(-ab.lower, 12);
        expect(twoProportionPValue(x2, n2, x1, n1)).toBeCloseTo(twoProportionPValue(x1, n1, x2, n2), 12);
        const rab = riskRatio(x1, n1, x2, n2);
        const rba = riskRatio(x2, n2, x1, n1);
        if (rab && rba) {
          expect(rba.estimate * rab.estimate).toBeCloseTo(1, 10);
          expect(rba.ci95.lower * rab.ci95.upper).toBeCloseTo(1, 10);
        }
      }),
    );
  });

  it('the sample still needed, once collected at the observed rates, makes the effect significant', () => {
    // Rates of the alternative, groups at the design's sizes: the expected z exceeds 1.96 by 0.84.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 9 }),
        (a, b, ratio) => {
          fc.pre(a !== b);
          const sizes = requiredSampleSizes(a / 100, b / 100, ratio);
          if (!sizes) throw new Error('different rates have a sample size');
          const x1 = Math.round((a / 100) * sizes.group1);
          const x2 = Math.round((b / 100) * sizes.group2);
          expect(twoProportionPValue(x1, sizes.group1, x2, sizes.group2)).toBeLessThan(0.05);
        },
      ),
    );
  });
});
