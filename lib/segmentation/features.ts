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

/** What clusters buyers: RFM and behavior. Constant features are dropped by the scaling. */
export const BUYER_FEATURES: readonly FeatureName[] = [
  'recencyDays',
  'frequency',
  'monetary',
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
];

/** What clusters prospects (no paid order): behavior only, so they never land in buyer clusters. */
export const PROSPECT_FEATURES: readonly FeatureName[] = [
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
];

/** Skewed counts, amounts and durations: log1p before robust scaling. Shares and rates stay linear. */
export const LOGGED_FEATURES: ReadonlySet<FeatureName> = new Set([
  'recencyDays',
  'frequency',
  'monetary',
  'averageOrderValue',
  'visitRecencyDays',
  'sessions',
  'productViews',
  'cartAdds',
  'shares',
  'tenureDays',
  'categoryBreadth',
  'avgDwellSeconds',
]);

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
 * Paid orders: orders with a positive revenue. A zero-revenue order (a free replacement, a sample) is not a
 * purchase for RFM. Only the latest 300 order ids keep their revenue (profiles/partial.ts), so for a
 * customer with more orders than that, older zero-revenue orders still count.
 */
function paidOrders(agg: CustomerAggregates): number {
  let free = 0;
  for (const order of Object.values(agg.orderIds)) if (order.revenue === 0) free++;
  return Math.max(0, agg.orders - free);
}

/** The latest paid order: recency is measured from a purchase, not from a free replacement. */
function lastPaidOrderAt(agg: CustomerAggregates): string | undefined {
  let latest: string | undefined;
  for (const order of Object.values(agg.orderIds)) {
    if (order.revenue > 0 && (latest === undefined || order.at > latest)) latest = order.at;
  }
  return latest ?? agg.lastOrderAt;
}

export function featuresOf(customerId: string, agg: CustomerAggregates, asOf: number): CustomerFeatures {
  const frequency = paidOrders(agg);
  const monetary = round3(Math.max(0, agg.revenue - agg.refunds));
  const channelTotal = Object.values(agg.channels).reduce((sum, n) => sum + n, 0);
  const values: FeatureValues = {
    recencyDays: frequency > 0 ? daysBetween(lastPaidOrderAt(agg), asOf) : 0,
    frequency,
    monetary,
    averageOrderValue: frequency > 0 ? round3(agg.revenue / frequency) : 0,
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
