// The partial-profile reducer on small hand-written event lists: every expected figure is worked out by
// hand from the events in the test, never by calling the reducer another way.
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import {
  emptyPartial,
  LEDGER_MAX,
  ledgerKey,
  type PartialProfile,
  PartialProfile as PartialProfileSchema,
} from '../../lib/profiles/partial.js';
import { applyObject } from '../../lib/profiles/reduce.js';
import { normalizedEvent } from './factories.js';

const NODE = 'user:user-1';
/** Monday 2 March 2026, 10:00 UTC. */
const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const OBJECT_AT = Date.parse('2026-03-10T00:00:00.000Z');
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const at = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();

let seq = 0;
/** A fresh event of user-1; messageIds increase with creation so ties sort in creation order. */
function ev(overrides: Partial<NormalizedEvent>): NormalizedEvent {
  seq += 1;
  return normalizedEvent({
    messageId: `m${String(seq).padStart(5, '0')}`,
    properties: undefined,
    event: undefined,
    ...overrides,
  });
}
const track = (event: string, minutes: number, properties: Record<string, unknown> = {}, o = {}) =>
  ev({ type: 'track', event, properties, timestamp: at(minutes), ...o });
const page = (minutes: number, o: Partial<NormalizedEvent> = {}) =>
  ev({ type: 'page', timestamp: at(minutes), ...o });
const identify = (traits: Record<string, unknown>, minutes: number, o: Partial<NormalizedEvent> = {}) =>
  ev({ type: 'identify', traits, timestamp: at(minutes), ...o });
const inSession = (sessionId: string) => ({ context: { sessionId } });

/** Applies each list as one archive object, in the order given. */
function applyAll(objects: NormalizedEvent[][], start: PartialProfile = emptyPartial(NODE)): PartialProfile {
  let partial = start;
  objects.forEach((events, i) => {
    partial = applyObject(
      partial,
      events,
      `raw/dt=2026-03-10/obj-${seq}-${i}.ndjson.gz`,
      OBJECT_AT + i,
    ).partial;
  });
  return partial;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

describe('applyObject: bookkeeping', () => {
  it('counts calls and names, stamps first/last seen, bumps the version, and never changes its input', () => {
    const start = deepFreeze(emptyPartial(NODE));
    const events = deepFreeze([
      track('Product Viewed', 5),
      page(1),
      identify({ plan: 'pro' }, 3),
      track('Signed Up', -2),
      track('Product Viewed', 7),
    ]);
    const { partial, changed } = applyObject(start, events, 'raw/a.ndjson.gz', OBJECT_AT, OBJECT_AT + 5);

    expect(changed).toBe(true);
    expect(partial.counts).toEqual({ track: 3, page: 1, screen: 0, identify: 1, group: 0, alias: 0 });
    expect(partial.eventCounts).toEqual({ 'Product Viewed': 2, 'Signed Up': 1 });
    expect(partial.firstSeen).toBe(at(-2));
    expect(partial.lastSeen).toBe(at(7));
    expect(partial.version).toBe(1);
    expect(partial.updatedAt).toBe(new Date(OBJECT_AT + 5).toISOString());
    expect(partial.applied).toEqual({ [ledgerKey('raw/a.ndjson.gz')]: OBJECT_AT });
    expect(start).toEqual(emptyPartial(NODE));
  });

  it('applies only the events attributed to its node; none of them means no change at all', () => {
    const anon = emptyPartial('anon:a-1');
    const events = [
      track('Product Viewed', 0, {}, { userId: undefined, anonymousId: 'a-1' }),
      track('Product Viewed', 1, {}, { userId: 'user-2', anonymousId: 'a-1' }),
      track('Product Viewed', 2, {}, { userId: 'user-1' }),
    ];
    expect(applyObject(anon, events, 'raw/b', OBJECT_AT).partial.counts.track).toBe(1);
    expect(applyObject(emptyPartial('user:user-2'), events, 'raw/b', OBJECT_AT).partial.counts.track).toBe(1);

    const stranger = emptyPartial('user:nobody');
    const result = applyObject(stranger, events, 'raw/b', OBJECT_AT);
    expect(result).toEqual({ partial: stranger, changed: false });
    expect(result.partial).toBe(stranger);
  });

  it('reads back through its schema, as the store validates it', () => {
    const partial = applyAll([
      [
        identify({ email: 'enc:v1:abc', address: { country: 'Germany' } }, 0, {
          context: { timezone: 'Europe/Berlin' },
        }),
        track('Product Added', 1, { product_id: 'p1', price: 2, category: 'c', brand: 'b' }),
        track('Order Completed', 2, { order_id: 'o1', revenue: 2, products: [{ product_id: 'p1' }] }),
        page(3, { context: { sessionId: 's1', device: { type: 'mobile' } } }),
      ],
    ]);
    expect(PartialProfileSchema.parse(JSON.parse(JSON.stringify(partial)))).toEqual(partial);
    expect(PartialProfileSchema.safeParse({ ...partial, hours: partial.hours.slice(1) }).success).toBe(false);
    expect(PartialProfileSchema.safeParse({ ...partial, version: -1 }).success).toBe(false);
  });
});

describe('applyObject: idempotency ledger', () => {
  it('applies an object once: a redelivery returns the same partial, unchanged', () => {
    const events = [track('Order Completed', 0, { order_id: 'o1', revenue: 10 })];
    const once = applyObject(emptyPartial(NODE), events, 'raw/x', OBJECT_AT).partial;
    const twice = applyObject(once, events, 'raw/x', OBJECT_AT + 60_000);
    expect(twice.changed).toBe(false);
    expect(twice.partial).toBe(once);
    expect(once.revenue).toBe(10);
    expect(once.version).toBe(1);
  });

  it('prunes entries more than 14 days older than the newest; a redelivery of those counts again', () => {
    const e = () => [track('Product Viewed', 0)];
    let p = applyObject(emptyPartial(NODE), e(), 'raw/day0', OBJECT_AT).partial;
    p = applyObject(p, e(), 'raw/day10', OBJECT_AT + 10 * DAY).partial;
    p = applyObject(p, e(), 'raw/day14', OBJECT_AT + 14 * DAY).partial;
    expect(Object.keys(p.applied).sort()).toEqual(
      [ledgerKey('raw/day0'), ledgerKey('raw/day10'), ledgerKey('raw/day14')].sort(),
    );
    p = applyObject(p, e(), 'raw/day15', OBJECT_AT + 15 * DAY).partial;
    expect(p.applied).toEqual({
      [ledgerKey('raw/day10')]: OBJECT_AT + 10 * DAY,
      [ledgerKey('raw/day14')]: OBJECT_AT + 14 * DAY,
      [ledgerKey('raw/day15')]: OBJECT_AT + 15 * DAY,
    });
    expect(p.productViews).toBe(4);
    // The documented limit: day 0 is forgotten, so its redelivery is counted a second time.
    expect(applyObject(p, e(), 'raw/day0', OBJECT_AT).partial.productViews).toBe(5);
  });

  it(`keeps the ${LEDGER_MAX} newest entries`, () => {
    const applied: Record<string, number> = {};
    for (let i = 0; i < LEDGER_MAX; i++) applied[ledgerKey(`raw/old-${i}`)] = OBJECT_AT + i;
    const full = { ...emptyPartial(NODE), applied };
    const p = applyObject(full, [track('Product Viewed', 0)], 'raw/new', OBJECT_AT + LEDGER_MAX).partial;
    expect(Object.keys(p.applied)).toHaveLength(LEDGER_MAX);
    expect(p.applied[ledgerKey('raw/new')]).toBe(OBJECT_AT + LEDGER_MAX);
    expect(p.applied[ledgerKey('raw/old-0')]).toBeUndefined();
    expect(p.applied[ledgerKey('raw/old-1')]).toBe(OBJECT_AT + 1);
  });

  it('ledger keys are 16 base64url characters of the object key', () => {
    expect(ledgerKey('raw/dt=2026-03-10/x.ndjson.gz')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(ledgerKey('a')).not.toBe(ledgerKey('b'));
  });
});

describe('applyObject: sessions', () => {
  it('counts distinct context.sessionIds, across objects', () => {
    const p = applyAll([
      [
        track('A', 0, {}, inSession('s1')),
        track('A', 5, {}, inSession('s1')),
        track('A', 10, {}, inSession('s2')),
        page(60, inSession('s1')),
      ],
      [track('A', 70, {}, inSession('s2')), track('A', 80, {}, inSession('s3'))],
    ]);
    expect(p.sessions).toBe(3);
    expect(p.recentSessions).toEqual({
      s1: { start: T0, last: T0 + 60 * MINUTE },
      s2: { start: T0 + 10 * MINUTE, last: T0 + 70 * MINUTE },
      s3: { start: T0 + 80 * MINUTE, last: T0 + 80 * MINUTE },
    });
  });

  it('without ids, starts a new session after 30 minutes of inactivity, across objects', () => {
    // 0, 10 | 45 (35 min after 10), 50 | 75 (25 min after 50) | 200
    const p = applyAll([
      [track('A', 0), track('A', 10), track('A', 45), track('A', 50)],
      [track('A', 75), page(200)],
    ]);
    expect(p.sessions).toBe(3);
    expect(Object.keys(p.recentSessions).sort()).toEqual(
      [
        `~${T0.toString(36)}`,
        `~${(T0 + 45 * MINUTE).toString(36)}`,
        `~${(T0 + 200 * MINUTE).toString(36)}`,
      ].sort(),
    );
  });

  it('an event without an id joins the session it falls within 30 min of, id or not', () => {
    const p = applyAll([
      [track('A', 0, {}, inSession('s1')), track('A', 20, {}, inSession('s1')), track('A', 10)],
    ]);
    expect(p.sessions).toBe(1);
    expect(applyAll([[track('B', 100)]], p).sessions).toBe(2);
    // identify calls are not behavior: they open no session.
    expect(applyAll([[identify({ a: 1 }, 300)]], p).sessions).toBe(1);
  });

  it('is order-sensitive by design: a late event does not bridge two inferred sessions', () => {
    const inOrder = applyAll([[track('A', 0), track('A', 25), track('A', 50)]]);
    expect(inOrder.sessions).toBe(1);
    const late = applyAll([[track('A', 0), track('A', 50)], [track('A', 25)]]);
    expect(late.sessions).toBe(2);
  });

  it('remembers the 20 latest sessions; an id seen again after it was forgotten counts again', () => {
    const events = Array.from({ length: 25 }, (_, i) => track('A', i, {}, inSession(`s${i}`)));
    const p = applyAll([events]);
    expect(p.sessions).toBe(25);
    expect(Object.keys(p.recentSessions).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `s${i + 5}`).sort(),
    );
    expect(applyAll([[track('A', 30, {}, inSession('s0'))]], p).sessions).toBe(26);
    expect(applyAll([[track('A', 30, {}, inSession('s7'))]], p).sessions).toBe(25);
  });
});

describe('applyObject: views and dwell', () => {
  it('takes stated dwell, else the time to the next view of the session when under 30 min', () => {
    const s = inSession('s');
    const p = applyAll([
      [
        page(0, s),
        page(1, s), // +60 s for the view at 0
        page(3, { ...s, properties: { dwell_time: 30 } }), // +120 s for the view at 1, +30 s stated
        page(5, s), // nothing: the view at 3 stated its own
        page(45, s), // nothing: 40 min after the view at 5
        ev({ type: 'screen', timestamp: at(46), properties: { duration: 12.5 }, ...s }), // +60 s, +12.5 s
      ],
    ]);
    expect(p.pageViews).toBe(5);
    expect(p.screenViews).toBe(1);
    expect(p.dwellSeconds).toBe(60 + 120 + 30 + 60 + 12.5);
    expect(p.dwellSamples).toBe(5);
  });

  it('sums dwell exactly, in any order', () => {
    const s = inSession('s');
    const views = [0.1, 0.2, 0.3].map((d, i) => page(i * 40, { ...s, properties: { dwell_time: d } }));
    const p = applyAll([
      [views[2] as NormalizedEvent],
      [views[0] as NormalizedEvent],
      [views[1] as NormalizedEvent],
    ]);
    expect([p.dwellSeconds, p.dwellSamples]).toEqual([0.6, 3]);
  });

  it('measures across objects, never across sessions, and reads time_on_page; junk values are ignored', () => {
    const p = applyAll([
      [page(0, inSession('a'))],
      [page(2, inSession('a'))], // +120
      [page(3, inSession('b'))], // another session: nothing
      [page(4, { context: { sessionId: 'c' }, properties: { time_on_page: 7 } })], // +7
      [page(5, { context: { sessionId: 'd' }, properties: { dwell_time: '12' } })],
      [page(6, { context: { sessionId: 'e' }, properties: { duration: -3 } })],
    ]);
    expect(p.dwellSeconds).toBe(127);
    expect(p.dwellSamples).toBe(2);
  });

  it('counts Page Viewed and Screen Viewed tracks as views', () => {
    const s = inSession('s');
    const p = applyAll([
      [track('Page Viewed', 0, {}, s), track('Page Viewed', 2, {}, s), track('screen_view', 3, {}, s)],
    ]);
    expect([p.pageViews, p.screenViews, p.dwellSeconds, p.dwellSamples]).toEqual([2, 1, 180, 2]);
    expect(p.counts.page).toBe(0);
  });
});

describe('applyObject: cart', () => {
  it('adds, removes, keeps tombstones against late older adds, and remembers the last activity', () => {
    const p = applyAll([
      [
        track('Product Added', 0, { product_id: 'p1', quantity: 2, price: 10 }),
        track('Product Added', 1, { product_id: 'p1', quantity: 1 }),
        track('Product Added', 2, { product_id: 'p2', price: 5 }),
        track('Product Removed', 3, { product_id: 'p2' }),
      ],
      [
        track('Product Added', 1.5, { product_id: 'p2', price: 5 }), // before its removal: stays removed
        track('Product Added', 4, { products: [{ product_id: 'p3', quantity: 4, price: 2.5 }] }),
        track('Product Removed', 5, { product_id: 'p3', quantity: 1 }),
        track('Cart Viewed', 6),
      ],
    ]);
    expect(p.cart).toEqual({
      p1: { quantity: 3, price: 10, at: at(1) },
      p2: { quantity: 0, at: at(3) },
      p3: { quantity: 3, price: 2.5, at: at(5) },
    });
    expect([p.cartAdds, p.cartRemoves]).toEqual([5, 2]);
    expect(p.lastCartActivity).toBe(at(6));
  });

  it('an order clears lines changed at or before it, and its own products whenever they were added', () => {
    const p = applyAll([
      [
        track('Product Added', 0, { product_id: 'p1', price: 10 }),
        track('Product Added', 16, { product_id: 'p4', price: 4 }),
        track('Product Added', 20, { product_id: 'p5', price: 1 }),
      ],
      [track('Order Completed', 15, { order_id: 'o1', revenue: 11, products: [{ product_id: 'p5' }] })],
      [track('Product Added', 9, { product_id: 'p6', price: 6 })], // before the order: already bought or dropped
    ]);
    expect(p.cart).toEqual({ p4: { quantity: 1, price: 4, at: at(16) } });
    expect(p.cartClearedAt).toBe(at(15));
    expect(p.cartAdds).toBe(4);
  });
});

describe('applyObject: orders and refunds', () => {
  const DAY2 = (Date.parse('2026-03-03T01:00:00.000Z') - T0) / MINUTE;
  const events = () => [
    track('Order Completed', 0, { order_id: 'o1', revenue: 10.1, total: 12, currency: 'EUR' }),
    track('Order Completed', 60, { order_id: 'o2', total: 0.2, currency: 'GBP' }),
    track('Order Completed', 120, {
      order_id: 'o3',
      products: [
        { product_id: 'a', price: 1.5, quantity: 2 },
        { product_id: 'b', price: 0.25 },
      ],
    }),
    track('Order Completed', DAY2, { revenue: 5.45 }),
    track('Order Refunded', 130, { order_id: 'o1', total: 4, revenue: 99 }),
    track('Order Refunded', 140, { order_id: 'o1', total: 1 }),
    track('Order Refunded', 150, { order_id: 'o7', products: [{ price: 2, quantity: 3 }] }),
    track('Order Cancelled', 160, { order_id: 'o3' }),
  ];

  it('sums revenue (revenue, else total, else products) and refunds (total, else revenue, else products) exactly', () => {
    const p = applyAll([events()]);
    expect(p.orders).toBe(4);
    expect(p.revenue).toBe(19); // 10.1 + 0.2 + (3 + 0.25) + 5.45
    expect(p.refunds).toBe(11); // 4 + 1 + 6
    expect(p.refundCount).toBe(3);
    expect(p.cancellations).toBe(1);
    expect(p.orderDays).toEqual(['2026-03-02', '2026-03-03']);
    expect(p.firstOrderAt).toBe(at(0));
    expect(p.lastOrderAt).toBe('2026-03-03T01:00:00.000Z');
    expect(p.currency).toEqual({ v: 'GBP', at: at(60) });
    expect(p.orderIds).toEqual({
      o1: { at: at(0), revenue: 10.1 },
      o2: { at: at(60), revenue: 0.2 },
      o3: { at: at(120), revenue: 3.25 },
    });
    expect(Object.keys(p.refundIds).sort()).toEqual(['o1 1000', 'o1 4000', 'o7 6000']);
  });

  it('counts an order or a refund re-sent under another messageId once', () => {
    const first = applyAll([events()]);
    const again = applyAll(
      [
        [
          track('Order Completed', 60, { order_id: 'o2', total: 0.2, currency: 'GBP' }),
          track('Order Refunded', 130, { order_id: 'o1', total: 4, revenue: 99 }),
        ],
      ],
      first,
    );
    expect([again.orders, again.revenue, again.refunds, again.refundCount]).toEqual([4, 19, 11, 3]);
    expect(again.orderDays).toEqual(first.orderDays);
    expect(again.counts.track).toBe(first.counts.track + 2);
  });

  it('order days are UTC days, whatever the customer time zone', () => {
    const p = applyAll([
      [
        track(
          'Order Completed',
          0,
          { order_id: 'a', revenue: 1 },
          { timestamp: '2026-03-02T23:30:00.000Z', context: { timezone: 'Asia/Shanghai' } },
        ),
        track('Order Completed', 0, { order_id: 'b', revenue: 1 }, { timestamp: '2026-03-02T00:30:00.000Z' }),
      ],
    ]);
    expect(p.orderDays).toEqual(['2026-03-02']);
  });
});

describe('applyObject: affinities', () => {
  it('weights views 1, clicks 1, adds 3 and purchases 5, from the event and from each of products[]', () => {
    const p = applyAll([
      [
        track('Product Viewed', 0, { product_id: 'x', category: 'Shoes', brand: 'Acme' }),
        track('Product Clicked', 1, { product_id: 'x', category: 'Shoes' }),
        track('Product Added', 2, { product_id: 'x', category: 'Shoes', brand: 'Acme' }),
        track('Order Completed', 3, {
          order_id: 'o',
          revenue: 1,
          products: [
            { product_id: 'x', category: 'Shoes', brand: 'Acme' },
            { product_id: 'y', category: 'Socks' },
          ],
        }),
        track('Product Shared', 4, { product_id: 'x', category: 'Shoes' }), // shares carry no weight
      ],
    ]);
    expect(p.categoryAffinity).toEqual({ Shoes: 1 + 1 + 3 + 5, Socks: 5 });
    expect(p.brandAffinity).toEqual({ Acme: 1 + 3 + 5 });
    expect([p.productViews, p.productClicks, p.cartAdds, p.shares]).toEqual([1, 1, 1, 1]);
  });

  it('keeps the 200 heaviest categories', () => {
    const events = Array.from({ length: 201 }, (_, i) => track('Product Viewed', i, { category: `c${i}` }));
    events.push(
      track('Product Added', 300, { category: 'c0' }),
      track('Product Added', 301, { category: 'c200' }),
    );
    const p = applyAll([events]);
    expect(Object.keys(p.categoryAffinity)).toHaveLength(200);
    // c1..c199 weigh 1; c0 and c200 weigh 4; the lightest by name order goes: c99 sorts last among them.
    expect(p.categoryAffinity.c0).toBe(4);
    expect(p.categoryAffinity.c200).toBe(4);
    expect(p.categoryAffinity.c99).toBeUndefined();
  });

  it('counts at most 200 event names; the rest under (other)', () => {
    const events = Array.from({ length: 203 }, (_, i) => track(`E${String(i).padStart(3, '0')}`, i));
    events.push(track('E202', 500));
    const p = applyAll([events]);
    expect(Object.keys(p.eventCounts)).toHaveLength(201);
    expect(p.eventCounts.E202).toBe(2);
    // E202 weighs 2; of the 202 names weighing 1, the three largest (E199, E200, E201) go to (other).
    expect(p.eventCounts['(other)']).toBe(3);
    expect(p.eventCounts.E199).toBeUndefined();
    expect(p.eventCounts.E198).toBe(1);
  });
});

describe('applyObject: hours and weekdays in the customer time zone', () => {
  /** Sunday 1 March 2026 17:30 UTC: Monday 01:30 in Shanghai. */
  const SUNDAY_EVENING = '2026-03-01T17:30:00.000Z';
  const hoursOf = (p: PartialProfile) => Object.fromEntries(p.hours.flatMap((n, h) => (n ? [[h, n]] : [])));
  const daysOf = (p: PartialProfile) => Object.fromEntries(p.weekdays.flatMap((n, d) => (n ? [[d, n]] : [])));

  it('uses context.timezone, across midnight', () => {
    const p = applyAll([
      [track('A', 0, {}, { timestamp: SUNDAY_EVENING, context: { timezone: 'Asia/Shanghai' } })],
    ]);
    expect(hoursOf(p)).toEqual({ 1: 1 });
    expect(daysOf(p)).toEqual({ 0: 1 });
    expect(p.timezone).toEqual({ v: 'Asia/Shanghai', at: SUNDAY_EVENING });
  });

  it('uses UTC without a zone, and for an invalid one', () => {
    const p = applyAll([
      [
        track('A', 0, {}, { timestamp: SUNDAY_EVENING }),
        track('A', 0, {}, { timestamp: SUNDAY_EVENING, context: { timezone: 'Mars/Olympus_Mons' } }),
      ],
    ]);
    expect(hoursOf(p)).toEqual({ 17: 2 });
    expect(daysOf(p)).toEqual({ 6: 2 });
    expect(p.timezone).toBeUndefined();
  });

  it("uses the node's latest known zone for events without one; identify calls are not counted", () => {
    const p = applyAll([
      [track('A', 0, {}, { timestamp: SUNDAY_EVENING, context: { timezone: 'asia/shanghai' } })],
      [
        track('B', 0, {}, { timestamp: '2026-03-01T20:00:00.000Z' }), // 04:00 Monday in Shanghai
        page(0, { timestamp: '2026-03-02T03:00:00.000Z', context: { timezone: 'America/New_York' } }), // 22:00 Sunday
        identify({ a: 1 }, 0, { timestamp: '2026-03-02T12:00:00.000Z' }),
      ],
    ]);
    expect(hoursOf(p)).toEqual({ 1: 1, 4: 1, 22: 1 });
    expect(daysOf(p)).toEqual({ 0: 2, 6: 1 });
    expect(p.timezone).toEqual({ v: 'America/New_York', at: '2026-03-02T03:00:00.000Z' });
  });
});

describe('applyObject: channels, sources, devices', () => {
  it('derives the channel from context.channel, the library, context.app, then the source id', () => {
    // A source id that says nothing, so that each channel below comes from the context.
    const from = (context: Record<string, unknown>) => ({ context, sourceId: 'src_1' });
    const events = [
      track('A', 0, {}, from({ channel: 'browser' })),
      track('A', 1, {}, from({ channel: 'Social' })),
      track('A', 2, {}, from({ channel: 'nonsense', library: { name: 'analytics-ios' } })),
      track('A', 3, {}, from({ library: { name: 'analytics.js' } })),
      track('A', 4, {}, from({ library: { name: '@segment/analytics-next' } })),
      track('A', 5, {}, from({ library: { name: 'analytics-react-native' } })),
      track('A', 6, {}, from({ library: { name: 'wechat-miniprogram-sdk' } })),
      track('A', 7, {}, from({ library: { name: 'analytics-node' } })),
      track('A', 8, {}, from({ app: { name: 'Shop', version: '1.2' } })),
      track('A', 9, {}, { sourceId: 'src_pos_berlin' }),
      track('A', 10, {}, { sourceId: 'web-shop' }),
      track('A', 11, {}, { sourceId: 'src_misc' }),
      track('A', 12, {}, { sourceId: 'constructor' }),
    ];
    const p = applyAll([events]);
    expect(p.channels).toEqual({
      web: 4,
      app: 3,
      'mini-program': 1,
      store: 1,
      social: 1,
      server: 1,
      other: 2,
    });
    expect(p.sources).toEqual({ src_1: 9, src_pos_berlin: 1, 'web-shop': 1, src_misc: 1, constructor: 1 });
  });

  it('counts devices by context.device.type, else context.os.name, lower case', () => {
    const p = applyAll([
      [
        track('A', 0, {}, { context: { device: { type: 'iOS' } } }),
        track('A', 1, {}, { context: { device: { model: 'x' }, os: { name: 'Android' } } }),
        track('A', 2, {}, { context: { os: { name: 'android' } } }),
        track('A', 3),
      ],
    ]);
    expect(p.devices).toEqual({ ios: 1, android: 2 });
  });
});

describe('applyObject: region, traits, identifiers', () => {
  it('keeps the latest region from context.location or the clear parts of traits.address', () => {
    const p = applyAll([
      [identify({ address: { country: 'Germany', state: 'Berlin', enc: 'enc:v1:street' } }, 0)],
      [
        track(
          'A',
          10,
          {},
          { context: { location: { country: 'China', city: 'Shanghai', region: 'enc:v1:x' } } },
        ),
      ],
      [identify({ address: { country: 'France' } }, 5)], // older: ignored
      [identify({ address: 'enc:v1:whole-address' }, 20)], // nothing clear: ignored
    ]);
    expect(p.region).toEqual({ country: 'China', city: 'Shanghai', at: at(10) });
    const q = applyAll(
      [[track('B', 30, {}, { context: { traits: { address: { country: 'enc:v1:c', city: 'Lyon' } } } })]],
      p,
    );
    expect(q.region).toEqual({ city: 'Lyon', at: at(30) });
  });

  it('keeps the latest value of each trait by event time; a late older event never overwrites', () => {
    const p = applyAll([
      [identify({ email: 'enc:v1:abc', plan: 'pro', prefs: { news: true } }, 10)],
      [identify({ plan: 'free', age: 30 }, 5)],
      [track('A', 20, {}, { context: { traits: { plan: 'gold' } } })],
      [ev({ type: 'group', groupId: 'g1', traits: { plan: 'enterprise' }, timestamp: at(40) })],
    ]);
    expect(p.traits).toEqual({
      email: { v: 'enc:v1:abc', at: at(10) },
      plan: { v: 'gold', at: at(20) },
      prefs: { v: { news: true }, at: at(10) },
      age: { v: 30, at: at(5) },
    });
  });

  it('breaks ties at the same time by value, whatever the arrival order', () => {
    const a = identify({ tier: 'a' }, 30);
    const b = identify({ tier: 'b' }, 30);
    expect(applyAll([[a], [b]]).traits.tier).toEqual({ v: 'b', at: at(30) });
    expect(applyAll([[b], [a]]).traits.tier).toEqual({ v: 'b', at: at(30) });
  });

  it('keeps prototype-named traits (__proto__ too) as data, drops oversized and too deeply nested values', () => {
    const traits = JSON.parse(
      `{"constructor":"x","toString":1,"__proto__":{"polluted":true},"blob":"${'x'.repeat(5000)}"}`,
    );
    const p = applyAll([[identify(traits, 0)]]);
    expect(Object.keys(p.traits).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(p.traits.constructor).toEqual({ v: 'x', at: at(0) });
    expect(p.traits.toString).toEqual({ v: 1, at: at(0) });
    expect(Object.getOwnPropertyDescriptor(p.traits, '__proto__')?.value).toEqual({
      v: { polluted: true },
      at: at(0),
    });
    let deep: unknown = 'bottom';
    for (let i = 0; i < 9; i++) deep = { d: deep };
    const eight = (deep as { d: unknown }).d;
    const q = applyAll([[identify({ deep, eight }, 1)]], p);
    expect(Object.keys(q.traits).sort()).toEqual(['__proto__', 'constructor', 'eight', 'toString']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps one mask for an identifier seen twice at the same time, whatever the arrival order', () => {
    const x = track('A', 9, {}, { identifiers: [{ type: 'phone', hash: 'h', mask: '+1***2' }] });
    const y = track('A', 9, {}, { identifiers: [{ type: 'phone', hash: 'h', mask: '+1***3' }] });
    expect(applyAll([[x], [y]]).identifiers['phone:h']?.mask).toBe('+1***3');
    expect(applyAll([[y], [x]]).identifiers['phone:h']?.mask).toBe('+1***3');
  });

  it('unions identifiers by type and hash, with the latest mask', () => {
    const p = applyAll([
      [
        track('A', 0, {}, { identifiers: [{ type: 'email', hash: 'h1', mask: 'a***@x.com' }] }),
        track(
          'A',
          5,
          {},
          {
            identifiers: [
              { type: 'email', hash: 'h1', mask: 'a***@x.org' },
              { type: 'phone', hash: 'h2', mask: '+49***12' },
            ],
          },
        ),
        track('A', 1, {}, { identifiers: [{ type: 'email', hash: 'h1', mask: 'old' }] }),
      ],
    ]);
    expect(p.identifiers).toEqual({
      'email:h1': { type: 'email', hash: 'h1', mask: 'a***@x.org', at: at(5) },
      'phone:h2': { type: 'phone', hash: 'h2', mask: '+49***12', at: at(5) },
    });
  });
});
