// A customer's own purchase rhythm: the expected days between their purchases, and from it the date
// their next one is due and how overdue they are. The rate a repeat customer buys at is estimated from
// their x intervals over t_x days, shrunk towards the population's by the BG/NBD prior λ ~ Gamma(r, α):
// given x purchases in t_x days, λ ~ Gamma(r + x, α + t_x), whose expected 1 / λ is
// (α + t_x) / (r + x - 1). With one interval it is mostly the population's; with twenty, mostly theirs.
// Without a fitted model the prior is the population's median interval, weighted as one interval.
import type { BgNbdParams, RepeatHistory } from './bgnbd.js';

export type RhythmPrior =
  | { readonly kind: 'bg-nbd'; readonly params: BgNbdParams }
  | { readonly kind: 'median'; readonly intervalDays: number };

/** The prior when BG/NBD has no fit: the median interval of the repeat customers (t_x / x). */
export function medianPrior(histories: readonly RepeatHistory[]): RhythmPrior | undefined {
  const intervals = histories
    .filter((h) => h.x > 0)
    .map((h) => h.tx / h.x)
    .sort((a, b) => a - b);
  if (intervals.length === 0) return undefined;
  const median = intervals[Math.floor(intervals.length / 2)] as number;
  return { kind: 'median', intervalDays: Math.max(1, median) };
}

/** Expected days between the customer's purchases; undefined before their second purchase. */
export function expectedIntervalDays(prior: RhythmPrior, h: RepeatHistory): number | undefined {
  if (h.x === 0) return undefined;
  if (prior.kind === 'median') return (prior.intervalDays + h.tx) / (1 + h.x);
  const { r, alpha } = prior.params;
  return (alpha + h.tx) / (r + h.x - 1);
}

/** Absolute lifecycle stages: from the customer's own history, never from their rank among others. */
export const LIFECYCLE_STAGES = ['new', 'active', 'at-risk', 'dormant', 'lost'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

export interface LifecycleInputs {
  /** Days since the last purchase. */
  readonly recencyDays: number;
  /** Days since the first purchase. */
  readonly ageDays: number;
  readonly repeatPurchases: number;
  /** Their own expected interval; for one-time buyers, the population's median interval. */
  readonly intervalDays: number;
  /** BG/NBD P(alive), when fitted (1 for one-time buyers, by the model's assumption). */
  readonly pAlive: number | undefined;
}

/** A one-time buyer is new for this long at least (they have no rhythm of their own yet). */
export const NEW_DAYS = 30;

/**
 * The stage, by how many of their own intervals have passed since the last purchase (overdue) and, for
 * repeat buyers, P(alive): active within 1.5 intervals, at risk to 3, dormant to 6, lost after (or at
 * P(alive) under 0.05; dormant under 0.2). A year-long silence is at least dormant and two years lost,
 * whatever the rhythm: a customer who bought once every three years is not "active" a year later.
 */
export function lifecycleStage(x: LifecycleInputs): { stage: LifecycleStage; overdue: number } {
  const overdue = x.recencyDays / Math.max(1, x.intervalDays);
  const p = x.repeatPurchases > 0 ? (x.pAlive ?? 1) : 1;
  let stage: LifecycleStage;
  if (overdue > 6 || p < 0.05 || x.recencyDays > 730) stage = 'lost';
  else if (overdue > 3 || p < 0.2 || x.recencyDays > 365) stage = 'dormant';
  else if (x.repeatPurchases === 0 && x.ageDays <= Math.max(NEW_DAYS, x.intervalDays)) stage = 'new';
  else if (overdue > 1.5 || p < 0.5) stage = 'at-risk';
  else stage = 'active';
  return { stage, overdue: Math.round(overdue * 100) / 100 };
}
