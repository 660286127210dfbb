// A customer's paid orders by UTC day: what history gives the models (both history paths compute it:
// the SQL's `paid_days` columns and the fold's order list, segmentation/features.ts). As in the
// literature, a day with several orders is one purchase occasion of their summed value, and the first
// day is the customer's "birth": repeat purchases are the days after it.
import type { RepeatHistory } from './bgnbd.js';
import type { SpendHistory } from './gammaGamma.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
/** The UTC day number (days since 1970-01-01) of an instant. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

export interface PurchaseDays {
  /** Distinct days with a paid order (models/README: paid = positive value, not cancelled). */
  readonly days: number;
  readonly firstDay: number | null;
  readonly lastDay: number | null;
  /** Paid orders' value in thousandths (gross: refunds are not a purchase's value), all days... */
  readonly valueMilli: number;
  /** ...and of the first day alone (Gamma-Gamma models repeat purchases only). */
  readonly firstDayMilli: number;
  /** The same before the holdout's first day: the calibration period of the run's model check. */
  readonly calibrationDays: number;
  readonly calibrationLastDay: number | null;
  readonly calibrationMilli: number;
}

export const NO_PURCHASES: PurchaseDays = {
  days: 0,
  firstDay: null,
  lastDay: null,
  valueMilli: 0,
  firstDayMilli: 0,
  calibrationDays: 0,
  calibrationLastDay: null,
  calibrationMilli: 0,
};

/**
 * Purchase days from a customer's paid orders (time, value), with the holdout starting on `holdoutDay`:
 * the fold's path, and the tests' oracle for the SQL's.
 */
export function purchaseDaysOf(
  orders: Iterable<{ readonly at: number; readonly milli: number }>,
  holdoutDay: number,
): PurchaseDays {
  const byDay = new Map<number, number>();
  for (const o of orders) byDay.set(dayOf(o.at), (byDay.get(dayOf(o.at)) ?? 0) + o.milli);
  if (byDay.size === 0) return NO_PURCHASES;
  const days = [...byDay.keys()].sort((a, b) => a - b);
  const firstDay = days[0] as number;
  const calibration = days.filter((d) => d < holdoutDay);
  const sum = (list: readonly number[]) => list.reduce((s, d) => s + (byDay.get(d) ?? 0), 0);
  return {
    days: days.length,
    firstDay,
    lastDay: days.at(-1) as number,
    valueMilli: sum(days),
    firstDayMilli: byDay.get(firstDay) ?? 0,
    calibrationDays: calibration.length,
    calibrationLastDay: calibration.at(-1) ?? null,
    calibrationMilli: sum(calibration),
  };
}

/** BG/NBD's view of the customer through `throughDay` (the last day of the run's history); none if no purchase. */
export function repeatHistoryOf(p: PurchaseDays, throughDay: number): RepeatHistory | undefined {
  if (p.days === 0 || p.firstDay === null || p.lastDay === null) return undefined;
  return { x: p.days - 1, tx: p.lastDay - p.firstDay, T: Math.max(0, throughDay - p.firstDay) };
}

/** The same through the day before the holdout: what the calibration fit sees. */
export function calibrationHistoryOf(p: PurchaseDays, holdoutDay: number): RepeatHistory | undefined {
  if (p.calibrationDays === 0 || p.firstDay === null || p.calibrationLastDay === null) return undefined;
  return {
    x: p.calibrationDays - 1,
    tx: p.calibrationLastDay - p.firstDay,
    T: Math.max(0, holdoutDay - 1 - p.firstDay),
  };
}

/** Repeat purchases made in the holdout (days from `holdoutDay` on) by a customer born before it. */
export const holdoutPurchases = (p: PurchaseDays): number => p.days - p.calibrationDays;

/** Gamma-Gamma's view: the mean value of the repeat days, in currency units. */
export function spendOf(p: PurchaseDays): SpendHistory {
  const x = Math.max(0, p.days - 1);
  return { x, m: x > 0 ? (p.valueMilli - p.firstDayMilli) / x / 1000 : 0 };
}
