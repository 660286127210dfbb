// The customer read model the API returns: figures derived from the merged aggregates (net revenue,
// average order value, cart value, top categories, channel mix, favourite times, recency) and the
// aggregates themselves. Traits are returned as stored; decrypting or masking them is the API's job.

import { fromMilli, get, subMoney, toMilli } from './maps.js';
import type { CustomerAggregates } from './merge.js';
import { CHANNELS, type Channel, type Region, type SeenIdentifier, type TraitValue } from './partial.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const TOP = 5;

export interface CartItem {
  productId: string;
  quantity: number;
  /** Unit price, when an add stated one. */
  price?: number;
  /** quantity × price, when the price is known. */
  value?: number;
  /** Last change of the line. */
  at: string;
}

export interface Ranked {
  name: string;
  weight: number;
  /** weight / the total weight of all kept keys. */
  share: number;
}

export interface CustomerView {
  nodes: string[];
  firstSeen?: string;
  lastSeen?: string;
  /** Whole days from lastSeen to `now` (null before any event). */
  daysSinceLastSeen: number | null;
  orders: number;
  revenue: number;
  refunds: number;
  /** revenue - refunds. */
  netRevenue: number;
  /** revenue / orders; null without orders. */
  averageOrderValue: number | null;
  distinctOrderDays: number;
  firstOrderAt?: string;
  lastOrderAt?: string;
  /** Whole days from the last order to `now` (RFM recency); null without orders. */
  daysSinceLastOrder: number | null;
  /** Distinct recent orders with a refund. */
  refundedOrders: number;
  currency?: string;
  cart: {
    /** Lines with a quantity, latest change first. */
    items: CartItem[];
    quantity: number;
    /** Sum of the values of the lines whose price is known. */
    value: number;
    lastActivity?: string;
  };
  topCategories: Ranked[];
  topBrands: Ranked[];
  /** Share of events by channel (all zero before any event). */
  channelMix: Record<Channel, number>;
  /** Hour 0-23 with the most behavior events in the customer's zone (ties: the earliest); null if none. */
  favouriteHour: number | null;
  /** Weekday with the most behavior events, Monday = 0 (ties: the earliest); null if none. */
  favouriteWeekday: number | null;
  sessions: number;
  pageViews: number;
  screenViews: number;
  /** dwellSeconds / dwellSamples; null without samples. */
  averageDwellSeconds: number | null;
  timezone?: string;
  region?: Region;
  /** Trait -> latest value and its time, as stored (tokens included). */
  traits: Record<string, TraitValue>;
  /** Latest seen first. */
  identifiers: SeenIdentifier[];
  /** The merged aggregates, without traits (they are above, where the API masks them). */
  aggregates: Omit<CustomerAggregates, 'traits' | 'recentEvents'>;
}

export function customerView(agg: CustomerAggregates, now: number): CustomerView {
  // Events are served by GET .../events; the view keeps the figures.
  const { traits, recentEvents: _events, ...aggregates } = agg;
  const view: CustomerView = {
    nodes: agg.nodes,
    daysSinceLastSeen: daysSince(agg.lastSeen, now),
    orders: agg.orders,
    revenue: agg.revenue,
    refunds: agg.refunds,
    netRevenue: subMoney(agg.revenue, agg.refunds),
    averageOrderValue: agg.orders === 0 ? null : round3(agg.revenue / agg.orders),
    distinctOrderDays: agg.orderDays.length,
    daysSinceLastOrder: daysSince(agg.lastOrderAt, now),
    refundedOrders: refundedOrders(agg),
    cart: cartOf(agg),
    topCategories: top(agg.categoryAffinity),
    topBrands: top(agg.brandAffinity),
    channelMix: channelMix(agg),
    favouriteHour: argMax(agg.hours),
    favouriteWeekday: argMax(agg.weekdays),
    sessions: agg.sessions,
    pageViews: agg.pageViews,
    screenViews: agg.screenViews,
    averageDwellSeconds: agg.dwellSamples === 0 ? null : round3(agg.dwellSeconds / agg.dwellSamples),
    traits,
    identifiers: Object.entries(agg.identifiers)
      .sort(([xk, x], [yk, y]) => (x.at !== y.at ? (x.at > y.at ? -1 : 1) : xk < yk ? -1 : 1))
      .map(([, identifier]) => identifier),
    aggregates,
  };
  if (agg.firstSeen !== undefined) view.firstSeen = agg.firstSeen;
  if (agg.lastSeen !== undefined) view.lastSeen = agg.lastSeen;
  if (agg.firstOrderAt !== undefined) view.firstOrderAt = agg.firstOrderAt;
  if (agg.lastOrderAt !== undefined) view.lastOrderAt = agg.lastOrderAt;
  if (agg.currency !== undefined) view.currency = agg.currency.v;
  if (agg.timezone !== undefined) view.timezone = agg.timezone.v;
  if (agg.region !== undefined) view.region = agg.region;
  return view;
}

const round3 = (x: number): number => fromMilli(toMilli(x));
const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

function daysSince(iso: string | undefined, now: number): number | null {
  if (iso === undefined) return null;
  return Math.max(0, Math.floor((now - Date.parse(iso)) / DAY_MS));
}

function refundedOrders(agg: CustomerAggregates): number {
  const orders = new Set<string>();
  for (const key of Object.keys(agg.refundIds)) {
    const orderId = key.slice(0, key.lastIndexOf(' '));
    if (get(agg.orderIds, orderId) !== undefined) orders.add(orderId);
  }
  return orders.size;
}

function cartOf(agg: CustomerAggregates): CustomerView['cart'] {
  const items: CartItem[] = [];
  let quantity = 0;
  let valueMilli = 0;
  for (const [productId, line] of Object.entries(agg.cart)) {
    if (line.quantity <= 0) continue;
    const item: CartItem = { productId, quantity: line.quantity, at: line.at };
    if (line.price !== undefined) {
      const milli = Math.round(line.price * line.quantity * 1000);
      item.price = line.price;
      item.value = fromMilli(milli);
      valueMilli += milli;
    }
    quantity += line.quantity;
    items.push(item);
  }
  items.sort((x, y) => (x.at !== y.at ? (x.at > y.at ? -1 : 1) : x.productId < y.productId ? -1 : 1));
  const cart: CustomerView['cart'] = { items, quantity, value: fromMilli(valueMilli) };
  if (agg.lastCartActivity !== undefined) cart.lastActivity = agg.lastCartActivity;
  return cart;
}

/** The TOP heaviest keys (ties: the smaller name) with their share of the total weight. */
function top(weights: Record<string, number>): Ranked[] {
  // Keys at no weight (the categories of a re-sent order) are engaged with, but not a preference.
  const entries = Object.entries(weights).filter(([, w]) => w > 0);
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  return entries
    .sort(([xn, xw], [yn, yw]) => yw - xw || (xn < yn ? -1 : xn > yn ? 1 : 0))
    .slice(0, TOP)
    .map(([name, weight]) => ({ name, weight, share: round4(weight / total) }));
}

function channelMix(agg: CustomerAggregates): Record<Channel, number> {
  const total = CHANNELS.reduce((sum, c) => sum + agg.channels[c], 0);
  const mix = {} as Record<Channel, number>;
  for (const c of CHANNELS) mix[c] = total === 0 ? 0 : round4(agg.channels[c] / total);
  return mix;
}

function argMax(counts: readonly number[]): number | null {
  let best: number | null = null;
  let bestCount = 0;
  counts.forEach((n, i) => {
    if (n > bestCount) {
      best = i;
      bestCount = n;
    }
  });
  return best;
}
