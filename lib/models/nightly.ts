// The predictive models of a nightly run: fitted on the customers' purchase days as of the run's date,
// checked on a holdout, and a scorer that gives each buyer P(alive), expected purchases, expected order
// value, CLV, the next purchase's due date and an absolute lifecycle stage. Pure: the run (segmentation/
// run.ts) hands it the customers and writes what it returns.
import { sampleIndices } from '../clustering/random.js';
import { stageTimings } from '../timings.js';
import { type BgNbdParams, expectedPurchases, fitBgNbd, pAlive, type RepeatHistory } from './bgnbd.js';
import { type ChurnReport, declines, fitChurn, type VisitActivity } from './churn.js';
import { expectedOrderValue, fitGammaGamma, type GammaGammaParams } from './gammaGamma.js';
import type { FitReport } from './mle.js';
import type { Predictions } from './predictions.js';
import {
  calibrationHistoryOf,
  DAY_MS,
  dayOf,
  holdoutPurchases,
  type PurchaseDays,
  repeatHistoryOf,
  spendOf,
} from './purchases.js';
import {
  expectedIntervalDays,
  type LifecycleStage,
  lifecycleStage,
  medianPrior,
  type RhythmPrior,
} from './rhythm.js';

export interface ModelSettings {
  /** The run's as-of time: its history is the days before it. */
  readonly asOf: number;
  /** The holdout is the last `holdoutDays` days; its length is also the horizon of expected purchases. */
  readonly holdoutDays: number;
  readonly clvMonths: number;
  readonly monthlyDiscountRate: number;
  readonly seed: number;
  /** Customers a fit sees at most: a deterministic sample past it (the estimates' error is then tiny). */
  readonly fitSample?: number;
}

export const FIT_SAMPLE = 100_000;

export interface FrequencyBucket {
  /** Repeat purchases in the calibration period: '0' ... '6', '7+'. */
  readonly repeatPurchases: string;
  readonly customers: number;
  readonly actual: number;
  readonly predicted: number;
}

export interface HoldoutReport {
  readonly from: string;
  readonly days: number;
  /** BG/NBD fitted on the calibration period (the days before `from`). */
  readonly calibration: FitReport<keyof BgNbdParams>;
  /** Buyers whose first purchase was before `from`. */
  readonly customers: number;
  /** Null when the calibration fit is not usable. */
  readonly metrics: HoldoutMetrics | null;
}

export interface HoldoutMetrics {
  /** Repeat purchases in the holdout, summed: what happened, what the calibration fit predicted. */
  readonly actual: number;
  readonly predicted: number;
  /** Mean per customer, by calibration frequency (lifetimes' calibration_purchases_vs_holdout_purchases). */
  readonly byFrequency: FrequencyBucket[];
  /** Per-customer errors of the model, and of the naive rate x / T for comparison. */
  readonly mae: number;
  readonly rmse: number;
  readonly naiveMae: number;
}

export interface ModelReport {
  /** Days: α and every duration below are in days. */
  readonly unit: 'day';
  readonly horizonDays: number;
  readonly buyers: number;
  readonly bgNbd: FitReport<keyof BgNbdParams>;
  readonly gammaGamma: FitReport<keyof GammaGammaParams> & {
    /** Gamma-Gamma assumes spend and frequency independent: their correlation among repeat buyers. */
    readonly spendFrequencyCorrelation: number | null;
  };
  readonly holdout: HoldoutReport;
  /** The churn-probability model, trained at the holdout's start on what happened after it. */
  readonly churn: ChurnReport;
  /** The population's median days between purchases (what one-time buyers' overdue is measured in). */
  readonly medianIntervalDays: number | null;
  readonly lifecycle: Record<LifecycleStage, number>;
  readonly timingsMs: Record<string, number>;
}

interface Buyer {
  readonly customerId: string;
  readonly purchases: PurchaseDays;
  /** Visit activity, for the visit-decline check (absent: not checked). */
  readonly values?: VisitActivity;
}

export interface FittedModels {
  readonly report: ModelReport;
  /** A buyer's predictions; undefined for a customer without purchases. */
  predict(customer: Omit<Buyer, 'customerId'>): Predictions | undefined;
  /** Only the lifecycle stage: cheap (no CLV), for counting and naming every buyer. */
  stage(purchases: PurchaseDays): LifecycleStage | undefined;
}

const round = (x: number, digits = 4) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const dateOf = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

export function fitModels(customers: readonly Buyer[], settings: ModelSettings): FittedModels {
  const { timings, timed } = stageTimings();
  const lastDay = dayOf(settings.asOf - 1);
  const holdoutDay = lastDay + 1 - settings.holdoutDays;
  const buyers = customers
    .filter((c) => c.purchases.days > 0)
    .sort((a, b) => (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0));
  const cap = settings.fitSample ?? FIT_SAMPLE;
  const sample =
    buyers.length <= cap
      ? buyers
      : sampleIndices(buyers.length, cap, settings.seed).map((i) => buyers[i] as Buyer);

  const histories = sample.map((b) => repeatHistoryOf(b.purchases, lastDay) as RepeatHistory);
  const bgNbd = timed('bgNbd', () => fitBgNbd(histories));
  const spends = sample.map((b) => spendOf(b.purchases)).filter((s) => s.x > 0);
  const gammaGamma = timed('gammaGamma', () => fitGammaGamma(spends));
  const holdout = timed('holdout', () => holdoutCheck(sample, holdoutDay, settings.holdoutDays));
  const calibrated =
    holdout.calibration.status === 'fitted' ? (holdout.calibration.params as BgNbdParams) : undefined;
  const churn = timed('churn', () =>
    fitChurn(sample, holdoutDay, settings.holdoutDays, calibrated, dateOf(holdoutDay)),
  );

  const bg = bgNbd.status === 'fitted' ? (bgNbd.params as BgNbdParams) : undefined;
  const gg = gammaGamma.status === 'fitted' ? (gammaGamma.params as GammaGammaParams) : undefined;
  const median = medianPrior(histories);
  const prior: RhythmPrior | undefined = bg ? { kind: 'bg-nbd', params: bg } : median;
  const medianInterval = median?.kind === 'median' ? median.intervalDays : null;

  /** What the lifecycle stage needs, and the stage. */
  const rhythm = (purchases: PurchaseDays) => {
    const h = repeatHistoryOf(purchases, lastDay);
    if (!h || purchases.lastDay === null) return undefined;
    const own = prior ? expectedIntervalDays(prior, h) : undefined;
    const alive = bg ? pAlive(bg, h) : undefined;
    const life = lifecycleStage({
      recencyDays: lastDay - purchases.lastDay,
      ageDays: h.T,
      repeatPurchases: h.x,
      intervalDays: own ?? medianInterval ?? settings.holdoutDays,
      pAlive: alive,
    });
    return { h, own, alive, lastPurchaseDay: purchases.lastDay, ...life };
  };

  const predict = ({ purchases, values }: Omit<Buyer, 'customerId'>): Predictions | undefined => {
    const r = rhythm(purchases);
    if (!r) return undefined;
    const { h, own, alive, stage, overdue } = r;
    const aov = gg ? expectedOrderValue(gg, spendOf(purchases)) : undefined;
    const churnRisk = churn.score(h, purchases, alive);
    return {
      churnRisk: churnRisk === undefined ? null : round(churnRisk, 3),
      declines: declines(purchases, holdoutDay, settings.holdoutDays, values),
      pAlive: alive === undefined ? null : round(alive),
      expectedPurchases: bg ? round(expectedPurchases(bg, h, settings.holdoutDays)) : null,
      expectedOrderValue: aov === undefined ? null : round(aov, 2),
      clv: bg && aov !== undefined ? round(clv(bg, h, aov, settings), 2) : null,
      intervalDays: own === undefined ? null : round(own, 1),
      nextPurchaseDue: own === undefined ? null : dateOf(r.lastPurchaseDay + Math.round(own)),
      overdue,
      lifecycle: stage,
    };
  };

  const stage = (purchases: PurchaseDays) => rhythm(purchases)?.stage;
  const lifecycle: Record<LifecycleStage, number> = { new: 0, active: 0, 'at-risk': 0, dormant: 0, lost: 0 };
  timed('lifecycle', () => {
    for (const b of buyers) {
      const s = stage(b.purchases);
      if (s) lifecycle[s]++;
    }
  });
  return {
    predict,
    stage,
    report: {
      unit: 'day',
      horizonDays: settings.holdoutDays,
      buyers: buyers.length,
      bgNbd,
      gammaGamma: { ...gammaGamma, spendFrequencyCorrelation: correlation(spends.map((s) => [s.x, s.m])) },
      holdout,
      churn: churn.report,
      medianIntervalDays: medianInterval === null ? null : round(medianInterval, 1),
      lifecycle,
      timingsMs: timings,
    },
  };
}

/**
 * Discounted expected value over `clvMonths` months of 30 days: each month's expected purchases (the
 * difference of the cumulative expectation) times the expected order value, discounted per month.
 */
function clv(p: BgNbdParams, h: RepeatHistory, orderValue: number, s: ModelSettings): number {
  let total = 0;
  let before = 0;
  for (let month = 1; month <= s.clvMonths; month++) {
    const upTo = expectedPurchases(p, h, 30 * month);
    total += ((upTo - before) * orderValue) / (1 + s.monthlyDiscountRate) ** month;
    before = upTo;
  }
  return total;
}

const BUCKETS = ['0', '1', '2', '3', '4', '5', '6', '7+'];

/** Fit on the days before the holdout, predict each customer's repeat purchases in it, compare. */
function holdoutCheck(buyers: readonly Buyer[], holdoutDay: number, days: number): HoldoutReport {
  const rows = buyers.flatMap((b) => {
    const calibration = calibrationHistoryOf(b.purchases, holdoutDay);
    return calibration ? [{ calibration, actual: holdoutPurchases(b.purchases) }] : [];
  });
  const calibration = fitBgNbd(rows.map((r) => r.calibration));
  const base = { from: dateOf(holdoutDay), days, calibration, customers: rows.length };
  if (calibration.status !== 'fitted' || !calibration.params) return { ...base, metrics: null };
  const params = calibration.params as BgNbdParams;
  const buckets = BUCKETS.map((label) => ({ repeatPurchases: label, customers: 0, actual: 0, predicted: 0 }));
  let actual = 0;
  let predicted = 0;
  let absolute = 0;
  let squared = 0;
  let naive = 0;
  for (const row of rows) {
    const guess = expectedPurchases(params, row.calibration, days);
    const bucket = buckets[Math.min(row.calibration.x, BUCKETS.length - 1)] as (typeof buckets)[number];
    bucket.customers++;
    bucket.actual += row.actual;
    bucket.predicted += guess;
    actual += row.actual;
    predicted += guess;
    absolute += Math.abs(guess - row.actual);
    squared += (guess - row.actual) ** 2;
    const T = Math.max(1, row.calibration.T);
    naive += Math.abs((row.calibration.x / T) * days - row.actual);
  }
  const n = Math.max(1, rows.length);
  const metrics: HoldoutMetrics = {
    actual,
    predicted: round(predicted, 1),
    byFrequency: buckets
      .filter((b) => b.customers > 0)
      .map((b) => ({
        ...b,
        actual: round(b.actual / b.customers, 3),
        predicted: round(b.predicted / b.customers, 3),
      })),
    mae: round(absolute / n),
    rmse: round(Math.sqrt(squared / n)),
    naiveMae: round(naive / n),
  };
  return { ...base, metrics };
}

/** Pearson's correlation, null for fewer than 3 pairs or a constant column. */
function correlation(pairs: readonly (readonly [number, number])[]): number | null {
  const n = pairs.length;
  if (n < 3) return null;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of pairs) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let cov = 0;
  let vx = 0;
  let vy = 0;
  for (const [x, y] of pairs) {
    cov += (x - mx) * (y - my);
    vx += (x - mx) ** 2;
    vy += (y - my) ** 2;
  }
  return vx > 0 && vy > 0 ? round(cov / Math.sqrt(vx * vy), 3) : null;
}
