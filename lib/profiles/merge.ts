// A customer's aggregates: the merge of its nodes' partial profiles, computed on read. The merge is
// commutative and associative (sums, min/max, latest-by-time, set unions; caps keep the top entries by a
// total order), so a customer's figures depend on which nodes it has, never on how they were grouped.
//
// What depends on arrival order, by design (everything else is the same in any order of events and
// objects, within the caps):
// - sessions without a context.sessionId are inferred from 30 min gaps among the recent sessions: a late
//   event may open a session that a time-ordered pass would have merged with or bridged between others;
// - dwell measured as the time to the next view needs the views in time order: late views are not measured;
// - lastView (internal) is the latest view applied, and the two items above follow from it;
// - the cart is a state, not a sum: a remove applied before the add it undoes, or an order applied after
//   adds that followed it, leaves a different cart (adds and removes older than the latest order are ignored
//   whatever their arrival, and removed lines keep a tombstone against older adds arriving late);
// - hours/weekdays of events without a context.timezone use the node's zone known when they are applied;
// - duplicates of one order_id (or refund) that differ: the copy applied first is the one counted;
// - past a cap (200 event names, 200 categories...), which keys keep their own count depends on the order.
// Merging sums sessions less those whose id two nodes share (a login mid-session), and counts an order_id
// or refund that two nodes both hold once; inferred sessions of two nodes are never recognized as one.
import {
  addMoney,
  capCounts,
  dict,
  fromMilli,
  get,
  keepTop,
  later,
  laterRegion,
  maxIso,
  minIso,
  sumCounts,
  tieKey,
  toMilli,
  unionSorted,
} from './maps.js';
import {
  AFFINITY_MAX,
  CANCELLED_IDS_MAX,
  CART_MAX,
  type CartLine,
  DEVICES_MAX,
  EVENT_NAMES_MAX,
  emptyPartial,
  IDENTIFIERS_MAX,
  ORDER_DAYS_MAX,
  ORDER_IDS_MAX,
  type OrderRef,
  OTHER,
  type PartialProfile,
  RECENT_SESSIONS_MAX,
  REFUND_IDS_MAX,
  type RefundRef,
  type SeenIdentifier,
  type SessionSpan,
  SOURCES_MAX,
  TRAITS_MAX,
  type TraitValue,
} from './partial.js';
import { mergeTimelines } from './timeline.js';

/** A partial without its bookkeeping (version, ledger, last view), for the nodes listed in `nodes`. */
export type CustomerAggregates = Omit<PartialProfile, 'node' | 'version' | 'applied' | 'lastView'> & {
  /** The attribution nodes merged, sorted. */
  nodes: string[];
};

export function toAggregates(partial: PartialProfile): CustomerAggregates {
  const { node, version: _version, applied: _applied, lastView: _lastView, ...aggregates } = partial;
  return { ...aggregates, nodes: [node] };
}

/** The aggregates of no node: the identity of mergeAggregates. */
export function emptyAggregates(): CustomerAggregates {
  return { ...toAggregates(emptyPartial('')), nodes: [] };
}

/** The customer made of these partials (in any order). */
export function mergePartials(partials: readonly PartialProfile[]): CustomerAggregates {
  let out = emptyAggregates();
  for (const partial of partials) out = mergeAggregates(out, toAggregates(partial));
  return out;
}

export function mergeAggregates(a: CustomerAggregates, b: CustomerAggregates): CustomerAggregates {
  const sessions = mergeSessions(a.recentSessions, b.recentSessions);
  const orders = mergeOnce(a.orderIds, b.orderIds, (x) => x.revenue);
  const refunds = mergeOnce(a.refundIds, b.refundIds, (x) => x.amount);
  const cartClearedAt = maxIso(a.cartClearedAt, b.cartClearedAt);
  const out: CustomerAggregates = {
    nodes: unionSorted(a.nodes, b.nodes, Number.POSITIVE_INFINITY),
    updatedAt: maxIso(a.updatedAt, b.updatedAt),
    firstSeen: minIso(a.firstSeen, b.firstSeen),
    lastSeen: maxIso(a.lastSeen, b.lastSeen),
    counts: sumFixed(a.counts, b.counts),
    eventCounts: capCounts(sumCounts(a.eventCounts, b.eventCounts), EVENT_NAMES_MAX, OTHER),
    sessions: a.sessions + b.sessions - sessions.shared,
    recentSessions: sessions.recent,
    pageViews: a.pageViews + b.pageViews,
    screenViews: a.screenViews + b.screenViews,
    dwellSeconds: addMoney(a.dwellSeconds, b.dwellSeconds),
    dwellSamples: a.dwellSamples + b.dwellSamples,
    productViews: a.productViews + b.productViews,
    productClicks: a.productClicks + b.productClicks,
    cartAdds: a.cartAdds + b.cartAdds,
    cartRemoves: a.cartRemoves + b.cartRemoves,
    shares: a.shares + b.shares,
    checkouts: a.checkouts + b.checkouts,
    cart: mergeCart(a.cart, b.cart, cartClearedAt),
    cartClearedAt,
    lastCartActivity: maxIso(a.lastCartActivity, b.lastCartActivity),
    orders: a.orders + b.orders - orders.duplicates,
    orderIds: keepTop(orders.merged, ORDER_IDS_MAX, atOf),
    orderDays: unionSorted(a.orderDays, b.orderDays, ORDER_DAYS_MAX),
    revenue: fromMilli(toMilli(a.revenue) + toMilli(b.revenue) - orders.duplicateMilli),
    refunds: fromMilli(toMilli(a.refunds) + toMilli(b.refunds) - refunds.duplicateMilli),
    refundCount: a.refundCount + b.refundCount - refunds.duplicates,
    refundIds: keepTop(refunds.merged, REFUND_IDS_MAX, atOf),
    cancellations: a.cancellations + b.cancellations,
    cancelledIds: keepTop(mergeLatest(a.cancelledIds, b.cancelledIds, earlier), CANCELLED_IDS_MAX, atOf),
    firstOrderAt: minIso(a.firstOrderAt, b.firstOrderAt),
    lastOrderAt: maxIso(a.lastOrderAt, b.lastOrderAt),
    currency: later(a.currency, b.currency),
    categoryAffinity: capCounts(sumCounts(a.categoryAffinity, b.categoryAffinity), AFFINITY_MAX),
    brandAffinity: capCounts(sumCounts(a.brandAffinity, b.brandAffinity), AFFINITY_MAX),
    hours: a.hours.map((n, i) => n + (b.hours[i] ?? 0)),
    weekdays: a.weekdays.map((n, i) => n + (b.weekdays[i] ?? 0)),
    timezone: later(a.timezone, b.timezone),
    channels: sumFixed(a.channels, b.channels),
    sources: capCounts(sumCounts(a.sources, b.sources), SOURCES_MAX, OTHER),
    devices: capCounts(sumCounts(a.devices, b.devices), DEVICES_MAX, OTHER),
    region: b.region !== undefined && laterRegion(b.region, a.region) ? b.region : a.region,
    traits: keepTop(mergeLatest(a.traits, b.traits, laterTrait), TRAITS_MAX, atOf),
    identifiers: keepTop(mergeLatest(a.identifiers, b.identifiers, laterIdentifier), IDENTIFIERS_MAX, atOf),
    recentEvents: mergeTimelines(a.recentEvents, b.recentEvents),
  };
  return withoutUndefined(out);
}

const atOf = (value: { at: string }): string => value.at;
const earlier = <V extends { at: string }>(x: V, y: V): V => (y.at < x.at ? y : x);

function sumFixed<T extends Record<string, number>>(a: T, b: T): T {
  const out: Record<string, number> = { ...a };
  // Fixed keys (call types, channels), never client data: a plain object is fine.
  for (const key of Object.keys(b)) out[key] = (a[key] ?? 0) + (b[key] ?? 0);
  return out as T;
}

/** Per key, the value `pick` prefers; `pick` must be a total order so the result ignores argument order. */
function mergeLatest<V>(
  a: Record<string, V>,
  b: Record<string, V>,
  pick: (x: V, y: V) => V,
): Record<string, V> {
  const out = dict(a);
  for (const key of Object.keys(b)) {
    const x = get(out, key);
    const y = b[key] as V;
    out[key] = x === undefined ? y : pick(x, y);
  }
  return out;
}

const laterTrait = (x: TraitValue, y: TraitValue): TraitValue =>
  y.at > x.at || (y.at === x.at && tieKey(y.v) > tieKey(x.v)) ? y : x;

const laterIdentifier = (x: SeenIdentifier, y: SeenIdentifier): SeenIdentifier =>
  y.at > x.at || (y.at === x.at && y.mask > x.mask) ? y : x;

/** Sessions two nodes both saw (by id) are one session of the customer. */
function mergeSessions(a: Record<string, SessionSpan>, b: Record<string, SessionSpan>) {
  let shared = 0;
  const merged = dict(a);
  for (const id of Object.keys(b)) {
    const x = get(merged, id);
    const y = b[id] as SessionSpan;
    if (x === undefined) merged[id] = y;
    else {
      shared += 1;
      merged[id] = { start: Math.min(x.start, y.start), last: Math.max(x.last, y.last) };
    }
  }
  return { shared, recent: keepTop(merged, RECENT_SESSIONS_MAX, (s) => s.last) };
}

/**
 * An order (or refund) both sides counted is counted once: the earlier copy is kept (ties: the smaller
 * amount) and the other's amount is taken off the sum.
 */
function mergeOnce<V extends OrderRef | RefundRef>(
  a: Record<string, V>,
  b: Record<string, V>,
  amountOf: (x: V) => number,
) {
  let duplicates = 0;
  let duplicateMilli = 0;
  const merged = dict(a);
  for (const key of Object.keys(b)) {
    const x = get(merged, key);
    const y = b[key] as V;
    if (x === undefined) {
      merged[key] = y;
      continue;
    }
    duplicates += 1;
    const keepY = y.at < x.at || (y.at === x.at && amountOf(y) < amountOf(x));
    duplicateMilli += toMilli(amountOf(keepY ? x : y));
    merged[key] = keepY ? y : x;
  }
  return { merged, duplicates, duplicateMilli };
}

/** Per product, the line changed last; lines at or before the latest order of any node are gone. */
function mergeCart(
  a: Record<string, CartLine>,
  b: Record<string, CartLine>,
  clearedAt: string | undefined,
): Record<string, CartLine> {
  const merged = mergeLatest(a, b, laterLine);
  if (clearedAt !== undefined) {
    for (const id of Object.keys(merged)) if ((merged[id] as CartLine).at <= clearedAt) delete merged[id];
  }
  return keepTop(merged, CART_MAX, atOf);
}

function laterLine(x: CartLine, y: CartLine): CartLine {
  if (y.at !== x.at) return y.at > x.at ? y : x;
  if (y.quantity !== x.quantity) return y.quantity > x.quantity ? y : x;
  return (y.price ?? -1) > (x.price ?? -1) ? y : x;
}

/** Optional fields absent rather than undefined: the same JSON whichever side had them. */
function withoutUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}
