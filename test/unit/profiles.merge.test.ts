// Customers as merges of their nodes' partials, and the read model derived from them. Expected figures are
// worked out by hand from the events (or the aggregates) written in each test.
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import {
  type CustomerAggregates,
  emptyAggregates,
  mergeAggregates,
  mergePartials,
  toAggregates,
} from '../../lib/profiles/merge.js';
import { emptyPartial, type PartialProfile } from '../../lib/profiles/partial.js';
import { applyObject } from '../../lib/profiles/reduce.js';
import { customerView } from '../../lib/profiles/view.js';
import { normalizedEvent } from './factories.js';

const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const MINUTE = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();
const USER = { userId: 'u-1', anonymousId: 'a-1' };
const ANON = { userId: undefined, anonymousId: 'a-1' };

let seq = 0;
function ev(who: Partial<NormalizedEvent>, overrides: Partial<NormalizedEvent>): NormalizedEvent {
  seq += 1;
  return normalizedEvent({
    messageId: `mm${seq}`,
    event: undefined,
    properties: undefined,
    ...who,
    ...overrides,
  });
}
const track = (who: Partial<NormalizedEvent>, event: string, minutes: number, properties = {}, o = {}) =>
  ev(who, { type: 'track', event, properties, timestamp: at(minutes), ...o });

function partialOf(node: string, events: NormalizedEvent[]): PartialProfile {
  return applyObject(emptyPartial(node), events, `raw/merge-${seq}`, T0).partial;
}

describe('mergePartials', () => {
  it('of nothing is the empty customer; of one partial, that partial without its bookkeeping', () => {
    expect(mergePartials([])).toEqual(emptyAggregates());
    const p = partialOf('user:u-1', [track(USER, 'Product Viewed', 0, { category: 'c' })]);
    const merged = mergePartials([p]);
    expect(merged).toEqual(toAggregates(p));
    expect(merged).not.toHaveProperty('applied');
    expect(merged).not.toHaveProperty('version');
    expect(merged.nodes).toEqual(['user:u-1']);
  });

  it('counts a session both nodes saw (a login mid-session) once', () => {
    const anon = partialOf('anon:a-1', [
      ev(ANON, { type: 'page', timestamp: at(0), context: { sessionId: 's1' } }),
      ev(ANON, { type: 'page', timestamp: at(5), context: { sessionId: 's1' } }),
    ]);
    const user = partialOf('user:u-1', [
      track(USER, 'Signed In', 10, {}, { context: { sessionId: 's1' } }),
      track(USER, 'Product Viewed', 60, {}, { context: { sessionId: 's2' } }),
    ]);
    const merged = mergePartials([anon, user]);
    expect([anon.sessions, user.sessions, merged.sessions]).toEqual([1, 2, 2]);
    expect(merged.recentSessions).toEqual({
      s1: { start: T0, last: T0 + 10 * MINUTE },
      s2: { start: T0 + 60 * MINUTE, last: T0 + 60 * MINUTE },
    });
    expect(merged.nodes).toEqual(['anon:a-1', 'user:u-1']);
    expect(merged.counts).toEqual({ track: 2, page: 2, screen: 0, identify: 0, group: 0, alias: 0 });
    expect(merged.firstSeen).toBe(at(0));
    expect(merged.lastSeen).toBe(at(60));
  });

  it('counts an order and a refund that two nodes both recorded once', () => {
    const anon = partialOf('anon:a-1', [
      track(ANON, 'Order Completed', 0, { order_id: 'o1', revenue: 10 }),
      track(ANON, 'Order Refunded', 50, { order_id: 'o1', total: 3 }),
    ]);
    const user = partialOf('user:u-1', [
      track(USER, 'Order Completed', 0, { order_id: 'o1', revenue: 10 }),
      track(USER, 'Order Completed', 30, { order_id: 'o2', revenue: 5.5 }),
      track(USER, 'Order Refunded', 50, { order_id: 'o1', total: 3 }),
    ]);
    const merged = mergePartials([anon, user]);
    expect([merged.orders, merged.revenue, merged.refunds, merged.refundCount]).toEqual([2, 15.5, 3, 1]);
    expect(merged.orderIds).toEqual({ o1: { at: at(0), revenue: 10 }, o2: { at: at(30), revenue: 5.5 } });
    expect(merged.orderDays).toEqual(['2026-03-02']);
    expect(merged.eventCounts).toEqual({ 'Order Completed': 3, 'Order Refunded': 2 });
  });

  it('combines carts by the latest change per product; an order on any node clears what came before it', () => {
    const anon = partialOf('anon:a-1', [
      track(ANON, 'Product Added', 0, { product_id: 'p1', price: 1 }),
      track(ANON, 'Product Added', 20, { product_id: 'p2', price: 2 }),
      track(ANON, 'Product Removed', 30, { product_id: 'p3' }),
    ]);
    const user = partialOf('user:u-1', [
      track(USER, 'Order Completed', 10, { order_id: 'o1', revenue: 1 }),
      track(USER, 'Product Added', 25, { product_id: 'p3', quantity: 2, price: 3 }),
      track(USER, 'Product Added', 26, { product_id: 'p2', quantity: 5, price: 2 }),
    ]);
    const merged = mergePartials([anon, user]);
    expect(merged.cart).toEqual({
      p2: { quantity: 5, price: 2, at: at(26) },
      p3: { quantity: 0, at: at(30) },
    });
    expect(merged.cartClearedAt).toBe(at(10));
    expect(merged.lastCartActivity).toBe(at(30));
    expect(customerView(merged, T0).cart).toEqual({
      items: [{ productId: 'p2', quantity: 5, price: 2, value: 10, at: at(26) }],
      quantity: 5,
      value: 10,
      lastActivity: at(30),
    });
  });

  it("breaks a tie between two nodes' lines of one product changed at the same time by quantity", () => {
    const anon = partialOf('anon:a-1', [track(ANON, 'Product Added', 5, { product_id: 'p1', quantity: 2 })]);
    const user = partialOf('user:u-1', [
      track(USER, 'Product Added', 5, { product_id: 'p1', quantity: 1, price: 9 }),
    ]);
    expect(mergePartials([anon, user]).cart).toEqual({ p1: { quantity: 2, at: at(5) } });
    expect(mergePartials([user, anon]).cart).toEqual({ p1: { quantity: 2, at: at(5) } });
  });

  it('takes the latest traits, region, time zone and currency of any node, and unions identifiers', () => {
    const anon = partialOf('anon:a-1', [
      ev(ANON, {
        type: 'identify',
        timestamp: at(0),
        traits: { plan: 'free', email: 'enc:v1:old' },
        context: { timezone: 'Europe/Paris', location: { country: 'France' } },
        identifiers: [{ type: 'device', hash: 'd1', mask: 'dev…1' }],
      }),
      track(ANON, 'Product Viewed', 40, { currency: 'EUR' }, { context: { traits: { plan: 'plus' } } }),
    ]);
    const user = partialOf('user:u-1', [
      ev(USER, {
        type: 'identify',
        timestamp: at(20),
        traits: { plan: 'pro', email: 'enc:v1:new' },
        context: { timezone: 'Asia/Shanghai', location: { country: 'China' } },
        identifiers: [{ type: 'email', hash: 'e1', mask: 'a***@b.cn' }],
      }),
      track(USER, 'Order Completed', 30, { order_id: 'o', revenue: 1, currency: 'CNY' }),
    ]);
    const merged = mergePartials([user, anon]);
    expect(merged.traits).toEqual({
      plan: { v: 'plus', at: at(40) },
      email: { v: 'enc:v1:new', at: at(20) },
    });
    expect(merged.region).toEqual({ country: 'China', at: at(20) });
    expect(merged.timezone).toEqual({ v: 'Asia/Shanghai', at: at(20) });
    expect(merged.currency).toEqual({ v: 'EUR', at: at(40) });
    expect(Object.keys(merged.identifiers).sort()).toEqual(['device:d1', 'email:e1']);
  });

  it('sums counted maps, folding names past the cap into (other)', () => {
    const a = {
      ...emptyAggregates(),
      eventCounts: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`a${i}`, 2])),
    };
    const b = {
      ...emptyAggregates(),
      eventCounts: {
        ...Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`b${i}`, 1])),
        '(other)': 7,
      },
    };
    const merged = mergeAggregates(a, b);
    // 250 names: the 150 a's (2 each) and the 50 smallest b names stay; 50 b names (1 each) join (other).
    expect(Object.keys(merged.eventCounts)).toHaveLength(201);
    expect(merged.eventCounts['(other)']).toBe(57);
    expect(merged.eventCounts.a149).toBe(2);
    expect(merged.eventCounts.b0).toBe(1);
  });
});

describe('customerView', () => {
  const NOW = Date.parse('2026-03-14T09:00:00.000Z');

  /** A customer written out by hand, as the merge would hold it. */
  function customer(): CustomerAggregates {
    const hours = new Array<number>(24).fill(0);
    hours[20] = 4;
    hours[9] = 4;
    hours[3] = 1;
    const weekdays = [1, 0, 0, 0, 5, 3, 0];
    return {
      ...emptyAggregates(),
      nodes: ['anon:a-1', 'user:u-1'],
      firstSeen: '2026-03-01T08:00:00.000Z',
      lastSeen: '2026-03-12T08:59:59.000Z',
      sessions: 4,
      pageViews: 7,
      dwellSeconds: 100,
      dwellSamples: 8,
      orders: 2,
      revenue: 40,
      refunds: 5.5,
      refundCount: 1,
      orderIds: {
        o1: { at: '2026-03-02T10:00:00.000Z', revenue: 30 },
        o2: { at: '2026-03-04T08:00:00.000Z', revenue: 10 },
      },
      refundIds: {
        'o1 5500': { at: '2026-03-05T00:00:00.000Z', amount: 5.5 },
        'zz 1000': { at: '2026-03-05T00:00:00.000Z', amount: 1 },
      },
      orderDays: ['2026-03-02', '2026-03-04'],
      firstOrderAt: '2026-03-02T10:00:00.000Z',
      lastOrderAt: '2026-03-04T08:00:00.000Z',
      currency: { v: 'EUR', at: '2026-03-04T08:00:00.000Z' },
      cart: {
        p1: { quantity: 2, price: 3.5, at: '2026-03-10T00:00:00.000Z' },
        p2: { quantity: 1, at: '2026-03-11T00:00:00.000Z' },
        p3: { quantity: 0, at: '2026-03-12T00:00:00.000Z' },
      },
      lastCartActivity: '2026-03-12T00:00:00.000Z',
      categoryAffinity: { A: 8, B: 3, C: 5, E: 1, D: 1, F: 2 },
      brandAffinity: {},
      channels: { web: 3, app: 1, 'mini-program': 0, store: 0, social: 0, server: 0, other: 0 },
      hours,
      weekdays,
      traits: { email: { v: 'enc:v1:tok', at: '2026-03-01T08:00:00.000Z' } },
      identifiers: {
        'email:e1': { type: 'email', hash: 'e1', mask: 'a***@b.de', at: '2026-03-02T00:00:00.000Z' },
        'device:d1': { type: 'device', hash: 'd1', mask: 'dev…1', at: '2026-03-05T00:00:00.000Z' },
      },
      region: { country: 'Germany', at: '2026-03-01T08:00:00.000Z' },
      timezone: { v: 'Europe/Berlin', at: '2026-03-01T08:00:00.000Z' },
    };
  }

  it('derives the figures an API returns', () => {
    const view = customerView(customer(), NOW);
    expect(view).toMatchObject({
      nodes: ['anon:a-1', 'user:u-1'],
      daysSinceLastSeen: 2, // 2 days and 1 second
      orders: 2,
      revenue: 40,
      refunds: 5.5,
      netRevenue: 34.5,
      averageOrderValue: 20,
      distinctOrderDays: 2,
      daysSinceLastOrder: 10, // 10 days and 1 hour
      refundedOrders: 1, // zz is not an order of this customer
      currency: 'EUR',
      favouriteHour: 9, // 9 and 20 tie at 4: the earlier
      favouriteWeekday: 4,
      sessions: 4,
      pageViews: 7,
      averageDwellSeconds: 12.5,
      timezone: 'Europe/Berlin',
      region: { country: 'Germany', at: '2026-03-01T08:00:00.000Z' },
      traits: { email: { v: 'enc:v1:tok', at: '2026-03-01T08:00:00.000Z' } },
    });
    expect(view.cart).toEqual({
      items: [
        { productId: 'p2', quantity: 1, at: '2026-03-11T00:00:00.000Z' },
        { productId: 'p1', quantity: 2, price: 3.5, value: 7, at: '2026-03-10T00:00:00.000Z' },
      ],
      quantity: 3,
      value: 7,
      lastActivity: '2026-03-12T00:00:00.000Z',
    });
    // Total weight 20.
    expect(view.topCategories).toEqual([
      { name: 'A', weight: 8, share: 0.4 },
      { name: 'C', weight: 5, share: 0.25 },
      { name: 'B', weight: 3, share: 0.15 },
      { name: 'F', weight: 2, share: 0.1 },
      { name: 'D', weight: 1, share: 0.05 },
    ]);
    expect(view.topBrands).toEqual([]);
    expect(view.identifiers.map((i) => i.hash)).toEqual(['d1', 'e1']);
    expect(view.channelMix).toEqual({
      web: 0.75,
      app: 0.25,
      'mini-program': 0,
      store: 0,
      social: 0,
      server: 0,
      other: 0,
    });
    expect(view.aggregates).not.toHaveProperty('traits');
    expect(view.aggregates.orders).toBe(2);
  });

  it('has nulls where a figure does not exist yet', () => {
    const view = customerView(emptyAggregates(), NOW);
    expect(view).toMatchObject({
      daysSinceLastSeen: null,
      averageOrderValue: null,
      daysSinceLastOrder: null,
      favouriteHour: null,
      favouriteWeekday: null,
      averageDwellSeconds: null,
      netRevenue: 0,
      cart: { items: [], quantity: 0, value: 0 },
    });
    expect(view.channelMix.web).toBe(0);
    expect(view).not.toHaveProperty('currency');
  });
});
