// The features a segmentation run works on, per customer, from the customer's aggregates as of the run's
// as-of time. Buyers (at least one paid order) get RFM; everyone gets the behavioral features.

import { DAY_MS, dayOf, type PurchaseDays, purchaseDaysOf } from '../models/purchases.js';
import { fromMilli, toMilli } from '../profiles/maps.js';
import type { CustomerAggregates } from '../profiles/merge.js';
import { OTHER } from '../profiles/partial.js';
import type { RfmValues } from './rfm.js';

export const FEATURES = [
  'recencyDays',
  'frequency',
  'monetary',
  'averageOrderValue',
  'visitRecencyDays',
  'sessions',
  'productViews',
  'cartAdds',
  'abandonmentRate',
  'shares',
  'tenureDays',
  'categoryBreadth',
  'avgDwellSeconds',
  'appShare',
  'storeShare',
] as const;
export type FeatureName = (typeof FEATURES)[number];
export type FeatureValues = Record<FeatureName, number>;

/** What clusters buyers: RFM and behavior (not average order value: it is M / F). Constant features are
 * dropped by the scaling. */
export const BUYER_FEATURES: readonly FeatureName[] = FEATURES.filter((f) => f !== 'averageOrderValue');

const RFM_FEATURES: readonly FeatureName[] = ['recencyDays', 'frequency', 'monetary'];

/** What clusters prospects (no paid order): behavior only, so they never land in buyer clusters. */
export const PROSPECT_FEATURES: readonly FeatureName[] = BUYER_FEATURES.filter(
  (f) => !RFM_FEATURES.includes(f),
);

/** Skewed counts, amounts and durations: log1p before robust scaling. Shares and rates stay linear. */
export const LOGGED_FEATURES: ReadonlySet<FeatureName> = new Set(
  FEATURES.filter((f) => !['abandonmentRate', 'appShare', 'storeShare'].includes(f)),
);

export interface CustomerFeatures {
  readonly customerId: string;
  /** At least one paid order before the as-of time. */
  readonly buyer: boolean;
  readonly values: FeatureValues;
  /** Paid orders by day: what the predictive models see (lib/models). Not clustered. */
  readonly purchases: PurchaseDays;
}

const daysBetween = (iso: string | undefined, asOf: number): number =>
  iso === undefined ? 0 : Math.max(0, Math.floor((asOf - Date.parse(iso)) / DAY_MS));
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * What the features are computed from: per customer, as of the run's time. Two sources give them — the
 * customer's merged aggregates (`featureInputsOf`, the reducer's path) and the history SQL over the
 * columnar archive (lib/history) — and one function (`featuresFrom`) turns them into features.
 */
export interface FeatureInputs {
  /** Paid orders (see `featureInputsOf`). */
  readonly frequency: number;
  /** Revenue net of refunds and cancelled orders, in thousandths. */
  readonly monetaryMilli: number;
  /** Orders of any kind, each order id once: what abandonment is measured against. */
  readonly orders: number;
  readonly lastPaidOrderAt: string | undefined;
  readonly firstSeen: string | undefined;
  readonly lastSeen: string | undefined;
  readonly sessions: number;
  readonly productViews: number;
  readonly cartAdds: number;
  readonly shares: number;
  /** Distinct categories (at most AFFINITY_MAX), `(other)` not counted. */
  readonly categoryBreadth: number;
  readonly dwellSeconds: number;
  readonly dwellSamples: number;
  /** Events through the app or a mini-program, through a store, and in all. */
  readonly appEvents: number;
  readonly storeEvents: number;
  readonly events: number;
  /** Paid orders (with an order id, a positive value, not cancelled) by day, split at the holdout day. */
  readonly purchases: PurchaseDays;
}

/**
 * Orders as RFM sees them. A paid order has a positive revenue: a zero-revenue order (a free replacement,
 * a sample) is not a purchase. A cancelled order (an `Order Cancelled` with its order_id) is not one
 * either: it leaves frequency, and its revenue, less what was already refunded of it, leaves monetary
 * value. Only the latest 300 orders keep their revenue and the latest 100 cancellations their id
 * (profiles/partial.ts), so for customers with more, older free or cancelled orders still count.
 */
export function featureInputsOf(agg: CustomerAggregates, holdoutDay: number): FeatureInputs {
  const refunded = new Map<string, number>();
  for (const [key, refund] of Object.entries(agg.refundIds)) {
    const orderId = key.slice(0, key.lastIndexOf(' '));
    refunded.set(orderId, (refunded.get(orderId) ?? 0) + toMilli(refund.amount));
  }
  let unpaid = 0;
  let cancelledMilli = 0;
  let lastPaid: string | undefined;
  const paid: { at: number; milli: number }[] = [];
  for (const [orderId, order] of Object.entries(agg.orderIds)) {
    const cancelled = Object.hasOwn(agg.cancelledIds, orderId);
    if (order.revenue === 0 || cancelled) unpaid++;
    if (cancelled) cancelledMilli += Math.max(0, toMilli(order.revenue) - (refunded.get(orderId) ?? 0));
    else if (order.revenue > 0) {
      paid.push({ at: Date.parse(order.at), milli: toMilli(order.revenue) });
      if (lastPaid === undefined || order.at > lastPaid) lastPaid = order.at;
    }
  }
  const frequency = Math.max(0, agg.orders - unpaid);
  const channels = agg.channels;
  return {
    frequency,
    monetaryMilli: Math.max(0, toMilli(agg.revenue) - toMilli(agg.refunds) - cancelledMilli),
    orders: agg.orders,
    // Older paid orders past the 300 kept: the latest order time is then the best known.
    lastPaidOrderAt: lastPaid ?? (frequency > 0 ? agg.lastOrderAt : undefined),
    firstSeen: agg.firstSeen,
    lastSeen: agg.lastSeen,
    sessions: agg.sessions,
    productViews: agg.productViews,
    cartAdds: agg.cartAdds,
    shares: agg.shares,
    categoryBreadth: Object.keys(agg.categoryAffinity).filter((c) => c !== OTHER).length,
    dwellSeconds: agg.dwellSeconds,
    dwellSamples: agg.dwellSamples,
    appEvents: channels.app + channels['mini-program'],
    storeEvents: channels.store,
    events: Object.values(channels).reduce((sum, n) => sum + n, 0),
    purchases: purchaseDaysOf(paid, holdoutDay),
  };
}

export function featuresFrom(customerId: string, x: FeatureInputs, asOf: number): CustomerFeatures {
  const { frequency } = x;
  const monetary = fromMilli(x.monetaryMilli);
  const values: FeatureValues = {
    recencyDays: frequency > 0 ? daysBetween(x.lastPaidOrderAt, asOf) : 0,
    frequency,
    monetary,
    averageOrderValue: frequency > 0 ? round3(monetary / frequency) : 0,
    visitRecencyDays: daysBetween(x.lastSeen, asOf),
    sessions: x.sessions,
    productViews: x.productViews,
    cartAdds: x.cartAdds,
    // Orders per cart add, inverted: 0 when every add ended in an order (or there were no adds).
    abandonmentRate: x.cartAdds > 0 ? round3(Math.max(0, 1 - x.orders / x.cartAdds)) : 0,
    shares: x.shares,
    tenureDays: daysBetween(x.firstSeen, asOf),
    categoryBreadth: x.categoryBreadth,
    avgDwellSeconds: x.dwellSamples > 0 ? round3(x.dwellSeconds / x.dwellSamples) : 0,
    appShare: x.events > 0 ? round3(x.appEvents / x.events) : 0,
    storeShare: x.events > 0 ? round3(x.storeEvents / x.events) : 0,
  };
  return { customerId, buyer: frequency > 0, values, purchases: x.purchases };
}

/**
 * The first day of a run's holdout: the model check fits on the days before it and predicts the last
 * `holdoutDays` days before `asOf`. With no holdout (0), the day after the last: every day is calibration.
 */
export const holdoutDayOf = (asOf: number, holdoutDays = 0): number => dayOf(asOf - 1) + 1 - holdoutDays;

export const featuresOf = (
  customerId: string,
  agg: CustomerAggregates,
  asOf: number,
  holdoutDay = holdoutDayOf(asOf),
): CustomerFeatures => featuresFrom(customerId, featureInputsOf(agg, holdoutDay), asOf);

export const rfmValuesOf = (f: CustomerFeatures): RfmValues => ({
  recencyDays: f.values.recencyDays,
  frequency: f.values.frequency,
  monetary: f.values.monetary,
});
