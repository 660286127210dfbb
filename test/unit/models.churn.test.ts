// The churn warning: the logistic regression recovers known coefficients, AUC is the rank statistic,
// the nightly churn model ranks and is calibrated on the CDNOW holdout, and declines are measured
// against the customer's own baseline.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../lib/clustering/random.js';
import { declines, fitChurn } from '../../lib/models/churn.js';
import { auc, calibrationBins, fitLogistic, predictLogistic } from '../../lib/models/logistic.js';
import { DAY_MS, dayOf, purchaseDaysOf } from '../../lib/models/purchases.js';
import { cdnowPurchases, PUBLISHED } from '../support/cdnow.js';

describe('logistic regression', () => {
  it('recovers the coefficients of the process that made the labels', () => {
    const random = seededRandom(3);
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const a = random() * 4 - 2;
      const b = random() * 4 - 2;
      rows.push([a, b]);
      labels.push(random() < 1 / (1 + Math.exp(-(0.5 + 1.5 * a - 1 * b))) ? 1 : 0);
    }
    const model = fitLogistic(['a', 'b'], rows, labels);
    expect(model.converged).toBe(true);
    // Back on the raw scale: coefficient / scale, intercept less the means' share.
    const slope = (j: number) => (model.coefficients[j + 1] as number) / (model.scales[j] as number);
    expect(slope(0)).toBeCloseTo(1.5, 1);
    expect(slope(1)).toBeCloseTo(-1, 1);
    expect(predictLogistic(model, [0, 0])).toBeCloseTo(1 / (1 + Math.exp(-0.5)), 1);
  });

  it('AUC: 1 for a perfect ranking, 0 reversed, ties count half, null without both classes', () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(auc([0.1, 0.2], [1, 1])).toBeNull();
    expect(calibrationBins([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1], 2)).toEqual([
      { customers: 2, predicted: 0.15, observed: 0 },
      { customers: 2, predicted: 0.35, observed: 1 },
    ]);
  });
});

describe('the nightly churn model on the CDNOW holdout (39 weeks after the calibration period)', () => {
  const asOf = Date.parse('1998-07-01T00:00:00Z');
  const holdoutDay = dayOf(Date.parse('1997-10-01T00:00:00Z'));
  const orders = new Map<string, { at: number; milli: number }[]>();
  for (const p of cdnowPurchases()) {
    if (p.dollars === 0) continue;
    const list = orders.get(p.customer) ?? [];
    list.push({ at: Date.parse(`${p.date}T00:00:00Z`), milli: Math.round(p.dollars * 1000) });
    orders.set(p.customer, list);
  }
  const buyers = [...orders.values()].map((list) => ({ purchases: purchaseDaysOf(list, holdoutDay) }));

  it('ranks who buys again (AUC well above chance) with calibrated probabilities', () => {
    const published = {
      r: PUBLISHED.bgNbd.r,
      alpha: PUBLISHED.bgNbd.alpha * 7,
      a: PUBLISHED.bgNbd.a,
      b: PUBLISHED.bgNbd.b,
    };
    const churn = fitChurn(buyers, holdoutDay, dayOf(asOf) - holdoutDay, published, '1997-10-01');
    const report = churn.report;
    expect(report).toMatchObject({ status: 'fitted', trainCustomers: 1879, testCustomers: 470 });
    expect(report.auc).toBeGreaterThan(0.7);
    // Calibrated: every decile's mean prediction within 0.12 of what happened in it.
    for (const bin of report.calibration) expect(Math.abs(bin.predicted - bin.observed)).toBeLessThan(0.12);
    // More repeat purchases, less churn.
    expect(report.coefficients['log repeat purchases']).toBeLessThan(0);
  });

  it('says too little data rather than fitting a handful', () => {
    const churn = fitChurn(buyers.slice(0, 20), holdoutDay, 273, undefined, '1997-10-01');
    expect(churn.report.status).toBe('too-little-data');
    expect(
      churn.score({ x: 1, tx: 10, T: 20 }, buyers[0]?.purchases ?? ({} as never), undefined),
    ).toBeUndefined();
  });
});

describe('activity decline against the customer’s own baseline', () => {
  const day = (d: number) => d * DAY_MS;
  it('flags a buyer whose recent purchases fell to half their earlier rate, not one who keeps it', () => {
    // Every 10 days for 200 days, then nothing for the last 90 (the window starts on day 200).
    const stopped = purchaseDaysOf(
      Array.from({ length: 20 }, (_, i) => ({ at: day(i * 10), milli: 1000 })),
      200,
    );
    expect(declines(stopped, 200, 90, undefined)).toEqual([{ kind: 'purchases', recent: 0, usual: 9 }]);
    const steady = purchaseDaysOf(
      Array.from({ length: 29 }, (_, i) => ({ at: day(i * 10), milli: 1000 })),
      200,
    );
    expect(declines(steady, 200, 90, undefined)).toEqual([]);
  });

  it('flags a visit silence of three usual gaps between sessions', () => {
    const none = purchaseDaysOf([], 200);
    expect(declines(none, 200, 90, { sessions: 30, tenureDays: 300, visitRecencyDays: 45 })).toEqual([
      { kind: 'visits', recent: 45, usual: 10 },
    ]);
    expect(declines(none, 200, 90, { sessions: 30, tenureDays: 300, visitRecencyDays: 20 })).toEqual([]);
    expect(declines(none, 200, 90, { sessions: 2, tenureDays: 300, visitRecencyDays: 299 })).toEqual([]);
  });
});
