// The features a segmentation run works on, per customer, from the customer's aggregates as of the run's
// as-of time. Buyers (at least one paid order) get RFM; everyone gets the behavioral features.
import type { CustomerAggregates } from '../profiles/merge.js';
import { OTHER } from '../profiles/partial.js';
import type { RfmValues } from './rfm.js';

const DAY_MS = 24 * 60 * 60 * 1000;

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
}

const daysBetween = (iso: string | undefined, asOf: number): number =>
  iso === undefined ? 0 : Math.max(0, Math.floor((asOf - Date.parse(iso)) / DAY_MS));
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Orders as RFM sees them. A paid order has a positive revenue: a zero-revenue order (a free replacement,
 * a sample) is not a purchase. A cancelled order (an `Order Cancelled` with its order_id) is not one
 * either: it leaves frequency, and its revenue, less what was already refunded of it, leaves monetary
 * value. Only the latest 300 orders keep their revenue and the latest 100 cancellations their id
 * (profiles/partial.ts), so for customers with more, older free or cancelled orders still count.
 */
function orderFacts(agg: CustomerAggregates) {
  const refunded = new Map<string, number>();
  for (const [key, refund] of Object.entries(agg.refundIds)) {
    const orderId = key.slice(0, key.lastIndexOf(' '));
    refunded.set(orderId, (refunded.get(orderId) ?? 0) + refund.amount);
  }
  let unpaid = 0;
  let cancelledRevenue = 0;
  let lastPaid: string | undefined;
  for (const [orderId, order] of Object.entries(agg.orderIds)) {
    const cancelled = Object.hasOwn(agg.cancelledIds, orderId);
    if (order.revenue === 0 || cancelled) unpaid++;
    if (cancelled) cancelledRevenue += Math.max(0, order.revenue - (refunded.get(orderId) ?? 0));
    else if (order.revenue > 0 && (lastPaid === undefined || order.at > lastPaid)) lastPaid = order.at;
  }
  const frequency = Math.max(0, agg.orders - unpaid);
  return {
    frequency,
    monetary: round3(Math.max(0, agg.revenue - agg.refunds - cancelledRevenue)),
    // Older paid orders past the 300 kept: the latest order time is then the best known.
    lastPaidOrderAt: lastPaid ?? (frequency > 0 ? agg.lastOrderAt : undefined),
  };
}

export function featuresOf(customerId: string, agg: CustomerAggregates, asOf: number): CustomerFeatures {
  const { frequency, monetary, lastPaidOrderAt } = orderFacts(agg);
  const channelTotal = Object.values(agg.channels).reduce((sum, n) => sum + n, 0);
  const values: FeatureValues = {
    recencyDays: frequency > 0 ? daysBetween(lastPaidOrderAt, asOf) : 0,
    frequency,
    monetary,
    averageOrderValue: frequency > 0 ? round3(monetary / frequency) : 0,
    visitRecencyDays: daysBetween(agg.lastSeen, asOf),
    sessions: agg.sessions,
    productViews: agg.productViews,
    cartAdds: agg.cartAdds,
    // Orders per cart add, inverted: 0 when every add ended in an order (or there were no adds).
    abandonmentRate: agg.cartAdds > 0 ? round3(Math.max(0, 1 - agg.orders / agg.cartAdds)) : 0,
    shares: agg.shares,
    tenureDays: daysBetween(agg.firstSeen, asOf),
    categoryBreadth: Object.keys(agg.categoryAffinity).filter((c) => c !== OTHER).length,
    avgDwellSeconds: agg.dwellSamples > 0 ? round3(agg.dwellSeconds / agg.dwellSamples) : 0,
    appShare: channelTotal > 0 ? round3((agg.channels.app + agg.channels['mini-program']) / channelTotal) : 0,
    storeShare: channelTotal > 0 ? round3(agg.channels.store / channelTotal) : 0,
  };
  return { customerId, buyer: frequency > 0, values };
}

export const rfmValuesOf = (f: CustomerFeatures): RfmValues => ({
  recencyDays: f.values.recencyDays,
  frequency: f.values.frequency,
  monetary: f.values.monetary,
});
