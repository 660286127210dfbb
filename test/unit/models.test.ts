// The customer-base models against the literature: BG/NBD and Gamma-Gamma fitted on the CDNOW sample's
// calibration period reproduce the published parameters and log-likelihood, and the fitted BG/NBD gives
// the conditional expectation of Hardie's spreadsheet.
import { describe, expect, it } from 'vitest';
import {
  bgNbdLogLikelihood,
  byRepeatPurchases,
  expectedPurchases,
  fitBgNbd,
  pAlive,
  summedLogLikelihood,
} from '../../lib/models/bgnbd.js';
import { expectedOrderValue, fitGammaGamma } from '../../lib/models/gammaGamma.js';
import { dayOf, purchaseDaysOf, repeatHistoryOf, spendOf } from '../../lib/models/purchases.js';
import { CDNOW_CALIBRATION_END, cdnowPurchases, PUBLISHED } from '../support/cdnow.js';

const end = Date.parse(CDNOW_CALIBRATION_END);

/**
 * Each customer's calibration-period purchase days, from the raw sample: every record, as the papers
 * count them, or only those with a value, as Precis does (8 customers' only record is $0.00).
 */
function calibration(paidOnly = false) {
  const orders = new Map<string, { at: number; milli: number }[]>();
  for (const p of cdnowPurchases()) {
    const at = Date.parse(`${p.date}T00:00:00Z`);
    if (at >= end || (paidOnly && p.dollars === 0)) continue;
    const list = orders.get(p.customer) ?? [];
    list.push({ at, milli: Math.round(p.dollars * 1000) });
    orders.set(p.customer, list);
  }
  return [...orders.values()].map((list) => purchaseDaysOf(list, dayOf(end)));
}

const weeks = (h: { x: number; tx: number; T: number }) => ({ x: h.x, tx: h.tx / 7, T: h.T / 7 });
/** Equal to two significant digits: within half a unit of the published value's second digit. */
function expectTwoDigits(fitted: number, published: number) {
  const unit = 10 ** (Math.floor(Math.log10(Math.abs(published))) - 1);
  expect(Math.abs(fitted - published), `${fitted} vs ${published}`).toBeLessThanOrEqual(unit / 2);
}

describe('BG/NBD on the CDNOW sample', () => {
  const days = calibration();
  const histories = days.map((d) => repeatHistoryOf(d, dayOf(end) - 1)).filter((h) => h !== undefined);

  it('is the published summary: 2,357 customers, 2,457 repeat purchases', () => {
    expect(histories).toHaveLength(2357);
    expect(histories.reduce((s, h) => s + h.x, 0)).toBe(2457);
  });

  it('fits the published parameters and log-likelihood (weeks)', () => {
    const fit = fitBgNbd(histories.map(weeks));
    expect(fit.status).toBe('fitted');
    expect(fit.agreeing).toBeGreaterThanOrEqual(2);
    const p = fit.params;
    if (!p) throw new Error('no params');
    for (const name of ['r', 'alpha', 'a', 'b'] as const) {
      expect(p[name]).toBeCloseTo(PUBLISHED.bgNbd[name], 2);
    }
    expect(fit.logLikelihood).toBeCloseTo(PUBLISHED.bgNbd.logLikelihood, 0);
  });

  it('fits the same model in days, and without the $0.00 records: α scales with the unit, r, a and b do not', () => {
    const paid = calibration(true)
      .map((d) => repeatHistoryOf(d, dayOf(end) - 1))
      .filter((h) => h !== undefined);
    expect(paid).toHaveLength(2349);
    for (const data of [histories, paid]) {
      const p = fitBgNbd(data).params;
      if (!p) throw new Error('no params');
      expectTwoDigits(p.alpha / 7, PUBLISHED.bgNbd.alpha);
      expectTwoDigits(p.r, PUBLISHED.bgNbd.r);
      expectTwoDigits(p.a, PUBLISHED.bgNbd.a);
      expectTwoDigits(p.b, PUBLISHED.bgNbd.b);
    }
  });

  it("gives Hardie's spreadsheet expectation and a P(alive) that falls with inactivity", () => {
    const p = PUBLISHED.bgNbd;
    // Customer 1 of the sample: x = 2, t_x = 30.43, T = 38.86 weeks; 39 weeks ahead.
    expect(expectedPurchases(p, { x: 2, tx: 30.43, T: 38.86 }, 39)).toBeCloseTo(1.226, 3);
    expect(pAlive(p, { x: 0, tx: 0, T: 38.86 })).toBe(1);
    const recent = pAlive(p, { x: 4, tx: 38, T: 38.86 });
    const gone = pAlive(p, { x: 4, tx: 5, T: 38.86 });
    expect(recent).toBeGreaterThan(0.8);
    expect(gone).toBeLessThan(0.05);
  });

  it('sums the log-likelihood per x exactly as customer by customer', () => {
    for (const p of [PUBLISHED.bgNbd, { r: 2, alpha: 80, a: 3, b: 0.4 }]) {
      const one = histories.reduce((s, h) => s + bgNbdLogLikelihood(p, h), 0);
      expect(summedLogLikelihood(p, byRepeatPurchases(histories))).toBeCloseTo(one, 6);
    }
  });

  it('refuses to fit without repeat buyers instead of returning a corner', () => {
    const fit = fitBgNbd(Array.from({ length: 500 }, (_, i) => ({ x: 0, tx: 0, T: 10 + i })));
    expect(fit).toMatchObject({ status: 'too-little-data', params: null });
  });
});

describe('Gamma-Gamma on the CDNOW sample', () => {
  const spends = calibration()
    .map(spendOf)
    .filter((s) => s.x > 0);

  it('fits the published parameters on the 946 repeat buyers', () => {
    expect(spends).toHaveLength(946);
    const fit = fitGammaGamma(spends);
    expect(fit.status).toBe('fitted');
    const p = fit.params;
    if (!p) throw new Error('no params');
    expectTwoDigits(p.p, PUBLISHED.gammaGamma.p);
    expectTwoDigits(p.q, PUBLISHED.gammaGamma.q);
    expectTwoDigits(p.gamma, PUBLISHED.gammaGamma.gamma);
  });

  it("shrinks a customer's mean towards the population's, less with more purchases", () => {
    const p = PUBLISHED.gammaGamma;
    const population = (p.p * p.gamma) / (p.q - 1);
    const one = expectedOrderValue(p, { x: 1, m: 100 });
    const ten = expectedOrderValue(p, { x: 10, m: 100 });
    expect(one).toBeGreaterThan(population);
    expect(one).toBeLessThan(ten);
    expect(ten).toBeLessThan(100);
    expect(expectedOrderValue(p, { x: 0, m: 0 })).toBeCloseTo(population, 10);
  });
});
