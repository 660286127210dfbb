// Applies one archive object's events to the partial profile of one attribution node: a pure function,
// idempotent per object through the ledger. It runs for every node of every archive object, so the loop
// allocates only what it writes and copies a map of the partial only when it first changes it.

import { attributionNode } from '../identity/nodes.js';
import type { NormalizedEvent } from '../ingest/normalized.js';
import { channelOf } from './channel.js';
import { trackKind } from './kinds.js';
import {
  addMoney,
  capCounts,
  dict,
  dropLowest,
  fromMilli,
  get,
  increment,
  isLater,
  keepTop,
  keyOf,
  laterRegion,
  maxIso,
  toMilli,
} from './maps.js';
import {
  AFFINITY_MAX,
  AFFINITY_WEIGHTS,
  CANCELLED_IDS_MAX,
  CART_MAX,
  type CartLine,
  DEVICES_MAX,
  EVENT_NAMES_MAX,
  ID_MAX_CHARS,
  IDENTIFIERS_MAX,
  KEY_MAX_CHARS,
  LEDGER_DAYS,
  LEDGER_MAX,
  ledgerKey,
  ORDER_DAYS_MAX,
  ORDER_IDS_MAX,
  OTHER,
  type PartialProfile,
  RECENT_SESSIONS_MAX,
  REFUND_IDS_MAX,
  type Region,
  SESSION_GAP_MS,
  SOURCES_MAX,
  TRAIT_MAX_CHARS,
  TRAIT_MAX_DEPTH,
  TRAITS_MAX,
} from './partial.js';
import { hourWeekday, validZone } from './time.js';
import { mergeTimelines, toTimelineEvent } from './timeline.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** A stated dwell above a day is not a dwell. */
const DWELL_MAX_SECONDS = 86_400;
const ENCRYPTED = 'enc:v1:';

type Json = Record<string, unknown>;

export interface ApplyResult {
  readonly partial: PartialProfile;
  /** False when the object was applied before (or holds no event of the node): nothing to write. */
  readonly changed: boolean;
}

/**
 * Applies the events of one archive object that are attributed to `partial.node` (others are ignored, so
 * a consumer may pass an object's events unsorted and ungrouped, though grouping first is cheaper), in
 * order of timestamp then messageId. Returns the input itself, unchanged, when the ledger already holds
 * the object or no event is the node's. `objectAt` (epoch ms) is the object's time, kept in the ledger;
 * `now` stamps `updatedAt`.
 */
export function applyObject(
  partial: PartialProfile,
  events: readonly NormalizedEvent[],
  objectKey: string,
  objectAt: number,
  now: number = objectAt,
): ApplyResult {
  const key = ledgerKeyOf(objectKey);
  if (Object.hasOwn(partial.applied, key)) return { partial, changed: false };
  const mine = eventsOf(partial.node, events);
  if (mine.length === 0) return { partial, changed: false };
  const draft = new Draft(partial);
  for (const { e, t, iso } of mine) applyEvent(draft, e, t, iso);
  draft.p.recentEvents = mergeTimelines(
    partial.recentEvents,
    mine.map(({ e }) => toTimelineEvent(e)),
  );
  draft.finish(key, objectAt, now);
  return { partial: draft.p, changed: true };
}

// A consumer applies one object to each of its nodes in turn: hash its key once.
let lastObjectKey: string | undefined;
let lastLedgerKey = '';
function ledgerKeyOf(objectKey: string): string {
  if (objectKey !== lastObjectKey) {
    lastLedgerKey = ledgerKey(objectKey);
    lastObjectKey = objectKey;
  }
  return lastLedgerKey;
}

interface Timed {
  e: NormalizedEvent;
  t: number;
  iso: string;
}

function eventsOf(node: string, events: readonly NormalizedEvent[]): Timed[] {
  const out: Timed[] = [];
  for (const e of events) {
    if (attributionNode(e) !== node) continue;
    const t = Date.parse(e.timestamp);
    if (Number.isNaN(t)) continue;
    // Normalized timestamps are toISOString() already; anything else is rewritten so string order is time order.
    const iso =
      e.timestamp.length === 24 && e.timestamp.endsWith('Z') ? e.timestamp : new Date(t).toISOString();
    out.push({ e, t, iso });
  }
  out.sort(byTimeThenId);
  return out;
}

function byTimeThenId(a: Timed, b: Timed): number {
  if (a.t !== b.t) return a.t - b.t;
  return a.e.messageId < b.e.messageId ? -1 : a.e.messageId > b.e.messageId ? 1 : 0;
}

/** The maps and arrays of a partial: copied on first write, so the input partial is never changed. */
type Container = {
  [K in keyof PartialProfile]-?: NonNullable<PartialProfile[K]> extends object ? K : never;
}[keyof PartialProfile];

class Draft {
  readonly p: PartialProfile;
  private readonly owned = new Set<Container>();
  /** Number of entries in p.recentSessions, once it is owned. */
  sessionCount = 0;

  constructor(source: PartialProfile) {
    this.p = { ...source };
  }

  own<K extends Container>(key: K): NonNullable<PartialProfile[K]> {
    const p = this.p;
    if (!this.owned.has(key)) {
      this.owned.add(key);
      const value = p[key] as object;
      p[key] = (
        Array.isArray(value) ? value.slice() : dict(value as Record<string, unknown>)
      ) as PartialProfile[K];
      if (key === 'recentSessions') this.sessionCount = Object.keys(p.recentSessions).length;
    }
    return p[key] as NonNullable<PartialProfile[K]>;
  }

  owns(key: Container): boolean {
    return this.owned.has(key);
  }

  /** Ledger entry, caps on the maps that grew, version. */
  finish(key: string, objectAt: number, now: number): void {
    const p = this.p;
    p.applied = withLedgerEntry(p.applied, key, objectAt);
    if (this.owns('eventCounts')) p.eventCounts = capCounts(p.eventCounts, EVENT_NAMES_MAX, OTHER);
    if (this.owns('categoryAffinity')) p.categoryAffinity = capCounts(p.categoryAffinity, AFFINITY_MAX);
    if (this.owns('brandAffinity')) p.brandAffinity = capCounts(p.brandAffinity, AFFINITY_MAX);
    if (this.owns('sources')) p.sources = capCounts(p.sources, SOURCES_MAX, OTHER);
    if (this.owns('devices')) p.devices = capCounts(p.devices, DEVICES_MAX, OTHER);
    if (this.owns('cart')) p.cart = keepTop(p.cart, CART_MAX, atOf);
    if (this.owns('orderIds')) p.orderIds = keepTop(p.orderIds, ORDER_IDS_MAX, atOf);
    if (this.owns('refundIds')) p.refundIds = keepTop(p.refundIds, REFUND_IDS_MAX, atOf);
    if (this.owns('cancelledIds')) p.cancelledIds = keepTop(p.cancelledIds, CANCELLED_IDS_MAX, atOf);
    if (this.owns('traits')) p.traits = keepTop(p.traits, TRAITS_MAX, atOf);
    if (this.owns('identifiers')) p.identifiers = keepTop(p.identifiers, IDENTIFIERS_MAX, atOf);
    p.version += 1;
    p.updatedAt = new Date(now).toISOString();
  }
}

const atOf = (value: { at: string }): string => value.at;
const epoch = (at: number): number => at;

/**
 * The ledger with `key` added, less the entries more than LEDGER_DAYS older than the newest, and then
 * the oldest ones past LEDGER_MAX (ties: the larger key goes). One pass and one copy: a busy node's ledger
 * holds thousands of entries and is rewritten on every object it appears in.
 */
export function withLedgerEntry(
  applied: Record<string, number>,
  key: string,
  at: number,
): Record<string, number> {
  const keys = Object.keys(applied);
  let newest = at;
  for (const k of keys) newest = Math.max(newest, applied[k] as number);
  const horizon = newest - LEDGER_DAYS * DAY_MS;
  const out = dict<number>();
  let count = 0;
  for (const k of keys) {
    const t = applied[k] as number;
    if (t >= horizon) {
      out[k] = t;
      count++;
    }
  }
  if (at >= horizon) {
    out[key] = at;
    count++;
  }
  if (count <= LEDGER_MAX) return out;
  return count - LEDGER_MAX <= 4
    ? dropLowest(out, count - LEDGER_MAX, epoch)
    : keepTop(out, LEDGER_MAX, epoch);
}

function applyEvent(d: Draft, e: NormalizedEvent, t: number, iso: string): void {
  const p = d.p;
  if (p.firstSeen === undefined || iso < p.firstSeen) p.firstSeen = iso;
  if (p.lastSeen === undefined || iso > p.lastSeen) p.lastSeen = iso;
  d.own('counts')[e.type] += 1;
  d.own('channels')[channelOf(e)] += 1;
  const source = keyOf(e.sourceId, KEY_MAX_CHARS);
  if (source !== undefined) increment(d.own('sources'), source);

  const ctx = e.context;
  const zone = ctx === undefined ? undefined : validZone(ctx.timezone);
  if (ctx !== undefined) applyContext(d, ctx, zone, iso);
  if (e.type === 'identify' && e.traits !== undefined) applyTraits(d, e.traits, iso);
  if (e.type === 'identify' || ctx !== undefined) applyRegion(d, e, iso);
  if (e.identifiers !== undefined) applyIdentifiers(d, e.identifiers, iso);

  if (e.type === 'track' || e.type === 'page' || e.type === 'screen') {
    // An event without a zone counts in the zone known when it is applied (see the order notes in merge.ts).
    const hw = hourWeekday(t, zone ?? p.timezone?.v);
    const hours = d.own('hours');
    const hour = Math.floor(hw / 7);
    hours[hour] = (hours[hour] ?? 0) + 1;
    const weekdays = d.own('weekdays');
    weekdays[hw % 7] = (weekdays[hw % 7] ?? 0) + 1;
    const session = assignSession(d, ctx?.sessionId, t);
    if (e.type === 'track') applyTrack(d, e, t, iso, session);
    else applyView(d, e.properties, t, e.type, session);
  }
}

function applyContext(d: Draft, ctx: Json, zone: string | undefined, iso: string): void {
  const p = d.p;
  if (zone !== undefined && isLater(iso, zone, p.timezone)) p.timezone = { v: zone, at: iso };
  const device = deviceOf(ctx);
  if (device !== undefined) increment(d.own('devices'), device);
  const traits = ctx.traits;
  if (isObject(traits)) applyTraits(d, traits, iso);
}

function deviceOf(ctx: Json): string | undefined {
  const device = ctx.device;
  const type = isObject(device) ? device.type : undefined;
  let name = typeof type === 'string' && type !== '' ? type : undefined;
  if (name === undefined) {
    const os = ctx.os;
    const osName = isObject(os) ? os.name : undefined;
    if (typeof osName === 'string') name = osName;
  }
  return name === undefined ? undefined : keyOf(name.toLowerCase(), 40);
}

function applyTraits(d: Draft, traits: Json, iso: string): void {
  for (const key of Object.keys(traits)) {
    const value = traits[key];
    const name = keyOf(key, KEY_MAX_CHARS);
    if (value === undefined || name === undefined) continue;
    // Size last: context.traits repeat the same values on every event, and only a newer one is measured.
    if (!isLater(iso, value, get(d.p.traits, name)) || !storable(value)) continue;
    d.own('traits')[name] = { v: value, at: iso };
  }
}

/**
 * Whether a trait value can be kept: at most TRAIT_MAX_CHARS of JSON and TRAIT_MAX_DEPTH levels deep
 * (DynamoDB rejects an item nested over 32 levels, and a rejected write would fail the object forever).
 */
export function storable(value: unknown): boolean {
  if (typeof value === 'string') return value.length <= TRAIT_MAX_CHARS;
  if (value === null || typeof value !== 'object') return true;
  return JSON.stringify(value).length <= TRAIT_MAX_CHARS && depthWithin(value, TRAIT_MAX_DEPTH);
}

function depthWithin(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (levels === 0) return false;
  for (const v of Object.values(value)) if (!depthWithin(v, levels - 1)) return false;
  return true;
}

/** A clear (not encrypted) non-empty string, cut to 100 characters. */
function clear(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.startsWith(ENCRYPTED)) return undefined;
  return keyOf(value, KEY_MAX_CHARS);
}

/** `context.location`, else the clear country/state/city of `traits.address` (identify, then context). */
function regionOf(e: NormalizedEvent, iso: string): Region | undefined {
  const location = e.context?.location;
  if (isObject(location)) {
    const region = place(iso, clear(location.country), clear(location.region), clear(location.city));
    if (region !== undefined) return region;
  }
  const address = (e.type === 'identify' ? e.traits?.address : undefined) ?? contextTraits(e)?.address;
  if (isObject(address)) return place(iso, clear(address.country), clear(address.state), clear(address.city));
  return undefined;
}

function contextTraits(e: NormalizedEvent): Json | undefined {
  const traits = e.context?.traits;
  return isObject(traits) ? traits : undefined;
}

function place(at: string, country?: string, region?: string, city?: string): Region | undefined {
  if (country === undefined && region === undefined && city === undefined) return undefined;
  const out: Region = { at };
  if (country !== undefined) out.country = country;
  if (region !== undefined) out.region = region;
  if (city !== undefined) out.city = city;
  return out;
}

function applyRegion(d: Draft, e: NormalizedEvent, iso: string): void {
  const current = d.p.region;
  if (current !== undefined && iso < current.at) return;
  const region = regionOf(e, iso);
  if (region !== undefined && laterRegion(region, current)) d.p.region = region;
}

function applyIdentifiers(d: Draft, identifiers: NonNullable<NormalizedEvent['identifiers']>, iso: string) {
  for (const { type, hash, mask } of identifiers) {
    const key = `${type}:${hash}`;
    const current = get(d.p.identifiers, key);
    if (current === undefined || iso > current.at || (iso === current.at && mask > current.mask)) {
      d.own('identifiers')[key] = { type, hash, mask, at: iso };
    }
  }
}

// --- sessions -------------------------------------------------------------------------------------------

/**
 * The session an event belongs to. With a `context.sessionId`, that id (a new session the first time it
 * is seen among the recent ones). Without, the recent session whose span the event falls within 30 min of
 * (the nearest), else a new inferred session. Exact for events applied in time order; a late event may
 * open a session that a time-ordered pass would have merged into its neighbours (or bridged two).
 */
function assignSession(d: Draft, sessionId: unknown, t: number): string {
  const sessions = d.own('recentSessions');
  const id = keyOf(sessionId, ID_MAX_CHARS);
  if (id !== undefined) {
    const span = get(sessions, id);
    if (span !== undefined) {
      if (t < span.start || t > span.last) {
        sessions[id] = { start: Math.min(span.start, t), last: Math.max(span.last, t) };
      }
      return id;
    }
    return openSession(d, sessions, id, t);
  }
  let best: string | undefined;
  let bestDistance = SESSION_GAP_MS;
  for (const key of Object.keys(sessions)) {
    const span = sessions[key] as { start: number; last: number };
    const distance = t < span.start ? span.start - t : t > span.last ? t - span.last : 0;
    if (distance < bestDistance || (distance === bestDistance && best !== undefined && key < best)) {
      best = key;
      bestDistance = distance;
    }
  }
  if (best === undefined) return openSession(d, sessions, `~${t.toString(36)}`, t);
  if (bestDistance > 0) {
    const span = sessions[best] as { start: number; last: number };
    sessions[best] = { start: Math.min(span.start, t), last: Math.max(span.last, t) };
  }
  return best;
}

function openSession(d: Draft, sessions: PartialProfile['recentSessions'], id: string, t: number): string {
  d.p.sessions += 1;
  sessions[id] = { start: t, last: t };
  d.sessionCount += 1;
  if (d.sessionCount > RECENT_SESSIONS_MAX) {
    // Forget the session with the oldest activity (ties: the larger id, as keepTop would).
    let oldest: string | undefined;
    let oldestLast = Number.POSITIVE_INFINITY;
    for (const key of Object.keys(sessions)) {
      const last = (sessions[key] as { last: number }).last;
      if (last < oldestLast || (last === oldestLast && oldest !== undefined && key > oldest)) {
        oldest = key;
        oldestLast = last;
      }
    }
    if (oldest !== undefined) {
      delete sessions[oldest];
      d.sessionCount -= 1;
    }
  }
  return id;
}

// --- views and dwell ------------------------------------------------------------------------------------

export function statedDwell(props: Json | undefined): number | undefined {
  if (props === undefined) return undefined;
  const value = props.dwell_time ?? props.duration ?? props.time_on_page;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= DWELL_MAX_SECONDS
    ? value
    : undefined;
}

/**
 * A page or screen view. Its dwell is what it states, else the time until the next view of the same
 * session if under 30 min: added when that next view is applied, so only views applied in time order
 * measure it (a late view neither measures nor is measured).
 */
function applyView(d: Draft, props: Json | undefined, t: number, kind: 'page' | 'screen', session: string) {
  const p = d.p;
  if (kind === 'page') p.pageViews += 1;
  else p.screenViews += 1;
  const stated = statedDwell(props);
  if (stated !== undefined) addDwell(p, stated);
  const last = p.lastView;
  if (last !== undefined && last.session === session && !last.timed && t > last.at) {
    if (t - last.at < SESSION_GAP_MS) addDwell(p, (t - last.at) / 1000);
  }
  if (last === undefined || t >= last.at) p.lastView = { at: t, session, timed: stated !== undefined };
}

function addDwell(p: PartialProfile, seconds: number): void {
  p.dwellSeconds = addMoney(p.dwellSeconds, seconds);
  p.dwellSamples += 1;
}

// --- track events ---------------------------------------------------------------------------------------

function applyTrack(d: Draft, e: NormalizedEvent, t: number, iso: string, session: string): void {
  const p = d.p;
  const name = keyOf(e.event, KEY_MAX_CHARS);
  if (name !== undefined) increment(d.own('eventCounts'), name);
  const props = e.properties;
  if (props !== undefined && typeof props.currency === 'string' && props.currency !== '') {
    if (isLater(iso, props.currency, p.currency)) p.currency = { v: props.currency, at: iso };
  }
  switch (trackKind(e.event)) {
    case 'productView':
      p.productViews += 1;
      addAffinity(d, props, AFFINITY_WEIGHTS.view);
      return;
    case 'productClick':
      p.productClicks += 1;
      addAffinity(d, props, AFFINITY_WEIGHTS.click);
      return;
    case 'cartAdd':
      p.cartAdds += 1;
      p.lastCartActivity = maxIso(p.lastCartActivity, iso);
      addAffinity(d, props, AFFINITY_WEIGHTS.add);
      if (props !== undefined) changeCart(d, props, iso, 1);
      return;
    case 'cartRemove':
      p.cartRemoves += 1;
      p.lastCartActivity = maxIso(p.lastCartActivity, iso);
      if (props !== undefined) changeCart(d, props, iso, -1);
      return;
    case 'cartView':
      p.lastCartActivity = maxIso(p.lastCartActivity, iso);
      return;
    case 'checkout':
      p.checkouts += 1;
      p.lastCartActivity = maxIso(p.lastCartActivity, iso);
      return;
    case 'share':
      p.shares += 1;
      return;
    case 'order':
      applyOrder(d, props ?? {}, iso);
      return;
    case 'refund':
      applyRefund(d, props ?? {}, iso);
      return;
    case 'cancellation':
      applyCancellation(d, props ?? {}, iso);
      return;
    case 'pageView':
      applyView(d, props, t, 'page', session);
      return;
    case 'screenView':
      applyView(d, props, t, 'screen', session);
      return;
  }
}

function productsOf(props: Json | undefined): Json[] {
  const products = props?.products;
  if (!Array.isArray(products)) return [];
  return products.filter(isObject);
}

function addAffinity(d: Draft, props: Json | undefined, weight: number): void {
  if (props !== undefined) for (const item of affinityItems(props)) addAffinityOf(d, item, weight);
}

/** What an affinity event weighs: the event's own category and brand, then each of its products'. */
const affinityItems = (props: Json): Json[] => [props, ...productsOf(props)];

/** The products of an affinity event (its own product_id, then each of products[]), each once. */
export function affinityProducts(props: Json | undefined): string[] {
  if (props === undefined) return [];
  const out = new Set<string>();
  for (const item of affinityItems(props)) {
    const id = keyOf(item.product_id, ID_MAX_CHARS);
    if (id !== undefined) out.add(id);
  }
  return [...out];
}

/** The categories an affinity event adds weight to, as the reducer keys them. */
export function affinityCategories(props: Json | undefined): string[] {
  const out: string[] = [];
  if (props === undefined) return out;
  for (const item of affinityItems(props)) {
    const category = keyOf(item.category, KEY_MAX_CHARS);
    if (category !== undefined) out.push(category);
  }
  return out;
}

function addAffinityOf(d: Draft, item: Json, weight: number): void {
  const category = keyOf(item.category, KEY_MAX_CHARS);
  if (category !== undefined) increment(d.own('categoryAffinity'), category, weight);
  const brand = keyOf(item.brand, KEY_MAX_CHARS);
  if (brand !== undefined) increment(d.own('brandAffinity'), brand, weight);
}

/** A finite, non-negative number (amounts) or undefined. */
function amount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Sum of price × quantity (1 when absent) over products[], in thousandths. */
function productsMilli(props: Json): number {
  let milli = 0;
  for (const product of productsOf(props)) {
    const price = amount(product.price);
    if (price !== undefined) milli += Math.round(price * (positive(product.quantity) ?? 1) * 1000);
  }
  return milli;
}

// --- cart -----------------------------------------------------------------------------------------------

/**
 * Adds (sign 1) or removes (sign -1) the event's product (`product_id`, else each of products[]). Events
 * at or before the latest order are ignored: that order emptied the cart. A remove without a quantity, or
 * one that empties the line, leaves a tombstone so an older add arriving late stays removed.
 */
function changeCart(d: Draft, props: Json, iso: string, sign: 1 | -1): void {
  const cleared = d.p.cartClearedAt;
  if (cleared !== undefined && iso <= cleared) return;
  if (props.product_id !== undefined) changeLine(d, props, iso, sign);
  else for (const product of productsOf(props)) changeLine(d, product, iso, sign);
}

function changeLine(d: Draft, item: Json, iso: string, sign: 1 | -1): void {
  const id = keyOf(item.product_id, ID_MAX_CHARS);
  if (id === undefined) return;
  const cart = d.own('cart');
  const line = get(cart, id);
  const quantity = positive(item.quantity);
  if (sign === 1) cart[id] = addedLine(line, quantity ?? 1, amount(item.price), iso) ?? (line as CartLine);
  else cart[id] = removedLine(line, quantity, iso);
}

/** The line after an add; undefined when the add is older than the line's removal (it stays removed). */
function addedLine(line: CartLine | undefined, quantity: number, price: number | undefined, iso: string) {
  if (line === undefined || line.quantity === 0) {
    return line === undefined || iso > line.at ? cartLine(quantity, price, iso) : undefined;
  }
  const newer = iso >= line.at;
  const keptPrice = newer ? (price ?? line.price) : (line.price ?? price);
  return cartLine(line.quantity + quantity, keptPrice, newer ? iso : line.at);
}

/** The line after a remove of `quantity` (all of it when undefined): a tombstone once empty. */
function removedLine(line: CartLine | undefined, quantity: number | undefined, iso: string): CartLine {
  const at = line === undefined || iso > line.at ? iso : line.at;
  const rest = line === undefined || quantity === undefined ? 0 : line.quantity - quantity;
  return rest > 0 ? cartLine(rest, line?.price, at) : { quantity: 0, at };
}

function cartLine(quantity: number, price: number | undefined, at: string): CartLine {
  return price === undefined ? { quantity, at } : { quantity, price, at };
}

// --- orders and refunds ---------------------------------------------------------------------------------

function applyOrder(d: Draft, props: Json, iso: string): void {
  const p = d.p;
  const orderId = keyOf(props.order_id, ID_MAX_CHARS);
  // The same order re-sent under another messageId counts once. Its categories and brands still count
  // as engaged with (at no weight): history SQL's distinct counts see every affinity event, and a
  // customer's category breadth must be the same on both paths.
  if (orderId !== undefined && get(p.orderIds, orderId) !== undefined) {
    addAffinity(d, props, 0);
    return;
  }
  const milli = orderMilli(props, 'revenue', 'total');
  p.orders += 1;
  p.revenue = fromMilli(toMilli(p.revenue) + milli);
  if (orderId !== undefined) d.own('orderIds')[orderId] = { at: iso, revenue: fromMilli(milli) };
  addOrderDay(d, iso.slice(0, 10));
  if (p.firstOrderAt === undefined || iso < p.firstOrderAt) p.firstOrderAt = iso;
  if (p.lastOrderAt === undefined || iso > p.lastOrderAt) p.lastOrderAt = iso;
  addAffinity(d, props, AFFINITY_WEIGHTS.purchase);
  clearCart(d, props, iso);
}

/** `first`, else `second`, else the products' price × quantity, in thousandths. */
export function orderMilli(props: Json, first: string, second: string): number {
  const stated = amount(props[first]) ?? amount(props[second]);
  return stated === undefined ? productsMilli(props) : toMilli(stated);
}

function addOrderDay(d: Draft, day: string): void {
  const days = d.p.orderDays;
  // Days mostly arrive in order: look from the end.
  let i = days.length;
  while (i > 0 && (days[i - 1] as string) > day) i--;
  if (i > 0 && days[i - 1] === day) return;
  const owned = d.own('orderDays');
  owned.splice(i, 0, day);
  if (owned.length > ORDER_DAYS_MAX) owned.splice(0, owned.length - ORDER_DAYS_MAX);
}

/** The order empties the cart as it was then, and takes its products out whenever they were added. */
function clearCart(d: Draft, props: Json, iso: string): void {
  const p = d.p;
  p.cartClearedAt = maxIso(p.cartClearedAt, iso);
  const cart = p.cart;
  let owned: PartialProfile['cart'] | undefined;
  for (const id of Object.keys(cart)) {
    if ((cart[id] as CartLine).at > iso) continue;
    owned ??= d.own('cart');
    delete owned[id];
  }
  for (const product of productsOf(props)) {
    const id = keyOf(product.product_id, ID_MAX_CHARS);
    if (id === undefined || get(d.p.cart, id) === undefined) continue;
    owned ??= d.own('cart');
    delete owned[id];
  }
}

/**
 * Each (order_id, amount) counts once: a refund re-sent under another messageId is not counted twice,
 * partial refunds of different amounts all count (two equal partial refunds of one order count once).
 */
function applyRefund(d: Draft, props: Json, iso: string): void {
  const p = d.p;
  const milli = orderMilli(props, 'total', 'revenue');
  const orderId = keyOf(props.order_id, ID_MAX_CHARS);
  const key = orderId === undefined ? undefined : refundKey(orderId, milli);
  const seen = key === undefined ? undefined : get(p.refundIds, key);
  if (seen !== undefined) {
    // Whichever copy arrives first, the refund is dated by the earliest.
    if (iso < seen.at) d.own('refundIds')[key as string] = { at: iso, amount: seen.amount };
    return;
  }
  p.refundCount += 1;
  p.refunds = fromMilli(toMilli(p.refunds) + milli);
  if (key !== undefined) d.own('refundIds')[key] = { at: iso, amount: fromMilli(milli) };
}

/** `<order_id> <amount in thousandths>`: the order id is what precedes the last space. */
/** Counts the event; remembers the order id with its earliest cancellation (a re-sent copy changes nothing). */
function applyCancellation(d: Draft, props: Json, iso: string): void {
  d.p.cancellations += 1;
  const orderId = keyOf(props.order_id, ID_MAX_CHARS);
  if (orderId === undefined) return;
  const seen = get(d.p.cancelledIds, orderId);
  if (seen === undefined || iso < seen.at) d.own('cancelledIds')[orderId] = { at: iso };
}

export const refundKey = (orderId: string, milli: number): string => `${orderId} ${milli}`;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
