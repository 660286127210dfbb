// Churn warning, two ways. A churn-probability model: logistic regression trained each night on the
// buyers as they were at the holdout's start (their purchase history and P(alive) then) against what
// happened after it (no purchase in the holdout = churned), checked on a fifth of them held out of the
// training (AUC, calibration by decile), then applied to every buyer as of the run's date: the probability
// they make no purchase in the next `horizon` days. And activity decline: a customer's recent purchase
// and visit rates against their own baseline, with the figures a reason needs.
import { type BgNbdParams, pAlive, type RepeatHistory } from './bgnbd.js';
import {
  auc,
  type CalibrationBin,
  calibrationBins,
  fitLogistic,
  type LogisticModel,
  predictLogistic,
} from './logistic.js';
import { calibrationHistoryOf, holdoutPurchases, type PurchaseDays } from './purchases.js';

export interface ChurnReport {
  readonly status: 'fitted' | 'too-little-data' | 'not-converged';
  /** Churned: no purchase in the `horizonDays` after the cut-off. */
  readonly horizonDays: number;
  readonly cutoff: string;
  /** Standardized coefficients by feature (and the intercept). */
  readonly coefficients: Record<string, number>;
  readonly trainCustomers: number;
  readonly testCustomers: number;
  /** Share of churned among the test customers. */
  readonly baseRate: number | null;
  readonly auc: number | null;
  readonly calibration: CalibrationBin[];
}

interface Buyer {
  readonly purchases: PurchaseDays;
}

const BASE_FEATURES = ['log recency days', 'log repeat purchases', 'log age days', 'log mean order value'];
/** Too few to learn from or to check on. */
const MIN_CUSTOMERS = 50;
/** Every TEST_EVERY-th buyer (in customer id order) is held out of the training. */
const TEST_EVERY = 5;

function row(h: RepeatHistory, valueMilli: number, days: number, alive: number | undefined): number[] {
  const base = [
    Math.log1p(h.T - h.tx),
    Math.log1p(h.x),
    Math.log1p(h.T),
    Math.log1p(valueMilli / Math.max(1, days) / 1000),
  ];
  return alive === undefined ? base : [...base, alive];
}

export interface ChurnModel {
  readonly report: ChurnReport;
  /** P(no purchase in the horizon) for a buyer as of the run's date (h: their history through it). */
  score(h: RepeatHistory, purchases: PurchaseDays, alive: number | undefined): number | undefined;
}

export function fitChurn(
  buyers: readonly Buyer[],
  holdoutDay: number,
  horizonDays: number,
  calibrationFit: BgNbdParams | undefined,
  cutoff: string,
): ChurnModel {
  const features = calibrationFit ? [...BASE_FEATURES, 'P(alive)'] : BASE_FEATURES;
  const train: { x: number[]; y: number }[] = [];
  const test: { x: number[]; y: number }[] = [];
  buyers.forEach((b, i) => {
    const h = calibrationHistoryOf(b.purchases, holdoutDay);
    if (!h) return;
    const alive = calibrationFit ? pAlive(calibrationFit, h) : undefined;
    const x = row(h, b.purchases.calibrationMilli, b.purchases.calibrationDays, alive);
    (i % TEST_EVERY === 0 ? test : train).push({ x, y: holdoutPurchases(b.purchases) === 0 ? 1 : 0 });
  });
  const base = { horizonDays, cutoff, trainCustomers: train.length, testCustomers: test.length };
  const classes = new Set(train.map((r) => r.y));
  if (train.length < MIN_CUSTOMERS || test.length < MIN_CUSTOMERS / TEST_EVERY || classes.size < 2) {
    const report: ChurnReport = {
      ...base,
      status: 'too-little-data',
      coefficients: {},
      baseRate: null,
      auc: null,
      calibration: [],
    };
    return { report, score: () => undefined };
  }
  const model: LogisticModel = fitLogistic(
    features,
    train.map((r) => r.x),
    train.map((r) => r.y),
  );
  const scores = test.map((r) => predictLogistic(model, r.x));
  const labels = test.map((r) => r.y);
  const area = auc(scores, labels);
  const report: ChurnReport = {
    ...base,
    status: model.converged ? 'fitted' : 'not-converged',
    coefficients: Object.fromEntries(
      ['intercept', ...features].map((f, j) => [
        f,
        Math.round((model.coefficients[j] as number) * 1000) / 1000,
      ]),
    ),
    baseRate: Math.round((labels.reduce((s, y) => s + y, 0) / labels.length) * 1000) / 1000,
    auc: area === null ? null : Math.round(area * 1000) / 1000,
    calibration: calibrationBins(scores, labels),
  };
  if (!model.converged) return { report, score: () => undefined };
  return {
    report,
    score: (h, purchases, alive) =>
      predictLogistic(
        model,
        row(h, purchases.valueMilli, purchases.days, calibrationFit ? alive : undefined),
      ),
  };
}

/** What a visit-rate decline is measured from (segmentation features). */
export interface VisitActivity {
  readonly sessions: number;
  readonly tenureDays: number;
  readonly visitRecencyDays: number;
}

export interface Decline {
  readonly kind: 'purchases' | 'visits';
  /** purchases: purchase days in the recent window; visits: days since the last visit. */
  readonly recent: number;
  /** purchases: expected in the window at their own earlier rate; visits: their usual days between sessions. */
  readonly usual: number;
}

/**
 * Declines against the customer's own baseline: purchase days in the recent window (the holdout) at most
 * half those their earlier rate gives (when it gives at least one), and a visit silence of three usual
 * gaps between sessions (at least a week, with at least three sessions to know the gap from).
 */
export function declines(
  p: PurchaseDays,
  holdoutDay: number,
  windowDays: number,
  visits: VisitActivity | undefined,
): Decline[] {
  const out: Decline[] = [];
  if (p.firstDay !== null && p.firstDay < holdoutDay && p.calibrationDays > 0) {
    const rate = p.calibrationDays / Math.max(1, holdoutDay - p.firstDay);
    const expected = rate * windowDays;
    const recent = holdoutPurchases(p);
    if (expected >= 1 && recent <= expected / 2) {
      out.push({ kind: 'purchases', recent, usual: Math.round(expected * 10) / 10 });
    }
  }
  if (visits && visits.sessions >= 3 && visits.tenureDays > 0) {
    const gap = visits.tenureDays / visits.sessions;
    if (visits.visitRecencyDays >= Math.max(7, 3 * gap)) {
      out.push({ kind: 'visits', recent: visits.visitRecencyDays, usual: Math.round(gap * 10) / 10 });
    }
  }
  return out;
}
