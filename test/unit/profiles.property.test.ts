// Properties of the profile fold over random event lists: the arrival order of archive objects does not
// change the aggregates (except the fields that are order-sensitive by design), redeliveries change
// nothing, the merge is commutative and associative, and merging two nodes' partials gives what one node
// receiving all their events would hold.
import fc from 'fast-check';
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

const BASE = Date.parse('2026-03-01T20:00:00.000Z');
const OBJECT_AT = Date.parse('2026-03-10T00:00:00.000Z');
const OBJECTS = 6;
const ZONES = ['UTC', 'Asia/Shanghai', 'America/New_York', 'Asia/Kolkata'] as const;
const RUNS = 300;

/**
 * Order-sensitive by design (see lib/profiles/merge.ts): sessions inferred without an id and dwell measured
 * to the next view depend on the views applied before (lastView); the cart is a state, not a sum; and
 * updatedAt is the time of the last write.
 */
const ORDER_SENSITIVE = [
  'sessions',
  'recentSessions',
  'lastView',
  'dwellSeconds',
  'dwellSamples',
  'cart',
  'updatedAt',
] as const;

const KINDS = [
  'Product Viewed',
  'Product Clicked',
  'Product Added',
  'Product Removed',
  'Cart Viewed',
  'Checkout Started',
  'Product Shared',
  'Order Completed',
  'Order Refunded',
  'Order Cancelled',
  'Signed Up',
  'page',
  'screen',
  'identify',
] as const;

const maybe = <T>(...values: T[]) => fc.constantFrom<T | undefined>(...values, undefined);
// Small pools, so that keys collide and times tie often: that is where order could leak in.
const trait = fc.option(
  fc.tuple(fc.constantFrom('plan', 'constructor'), fc.constantFrom<unknown>('a', 'b', 1, null)),
  {
    nil: undefined,
  },
);
const product = fc.record({
  product_id: fc.constantFrom('p1', 'p2', 'p3'),
  category: maybe('A', 'B', 'C'),
  brand: maybe('X', 'Y'),
  price: maybe(0.1, 0.2, 1.25, 19.99),
  quantity: maybe(1, 2, 3),
});

/** One event, abstractly; `window` bounds its minute offset from BASE. */
const spec = (window: number, session: fc.Arbitrary<string | undefined>) =>
  fc.record({
    kind: fc.constantFrom(...KINDS),
    minute: fc.integer({ min: 0, max: window }),
    second: fc.constantFrom(0, 0, 0, 30),
    session,
    product,
    products: fc.array(product, { maxLength: 3 }),
    withOrderId: fc.boolean(),
    refundOf: maybe('o1', 'o2'),
    amount: maybe(0.3, 12.345),
    currency: maybe('EUR', 'USD'),
    trait,
    contextTrait: trait,
    location: maybe('DE', 'FR', 'CN'),
    device: maybe('ios', 'Android'),
    source: fc.constantFrom('src_web', 'src_pos_1', 'src_app'),
    library: maybe('analytics.js', 'analytics-ios', 'analytics-node'),
    identifier: fc.option(fc.tuple(fc.constantFrom('h1', 'h2'), fc.constantFrom('m1', 'm2')), {
      nil: undefined,
    }),
    dwell: maybe(3, 60),
    zone: fc.constantFrom(...ZONES),
  });
type Spec = ReturnType<typeof spec> extends fc.Arbitrary<infer S> ? S : never;

const anySession = maybe('s1', 's2', 's3', 's4', 's5');
const alwaysSession = fc.constantFrom('s1', 's2', 's3', 's4', 's5');

function properties(s: Spec, index: number): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  const put = (key: string, value: unknown) => {
    if (value !== undefined) props[key] = value;
  };
  if (s.kind === 'Order Completed') {
    put('order_id', s.withOrderId ? `o${index}` : undefined);
    put('revenue', s.amount);
    put('products', s.products);
  } else if (s.kind === 'Order Refunded') {
    put('order_id', s.refundOf);
    put('total', s.amount);
    put('products', s.products);
  } else if (s.kind === 'page' || s.kind === 'screen') {
    put('dwell_time', s.dwell);
  } else {
    for (const [key, value] of Object.entries(s.product)) put(key, value);
    if (s.products.length > 0 && s.kind !== 'Product Added') put('products', s.products);
  }
  put('currency', s.currency);
  return props;
}

/** The event a spec describes, for `who`; zones: whether every event carries its zone (else none does). */
function toEvent(s: Spec, index: number, who: Partial<NormalizedEvent>, zones: boolean): NormalizedEvent {
  const context: Record<string, unknown> = {};
  if (s.session !== undefined) context.sessionId = s.session;
  if (zones) context.timezone = s.zone;
  if (s.contextTrait !== undefined) context.traits = { [s.contextTrait[0]]: s.contextTrait[1] };
  if (s.location !== undefined) context.location = { country: s.location };
  if (s.device !== undefined) context.device = { type: s.device };
  if (s.library !== undefined) context.library = { name: s.library };
  const e: NormalizedEvent = {
    messageId: `e${String(index).padStart(4, '0')}`,
    type: s.kind === 'page' || s.kind === 'screen' || s.kind === 'identify' ? s.kind : 'track',
    timestamp: new Date(BASE + s.minute * 60_000 + s.second * 1000).toISOString(),
    receivedAt: new Date(OBJECT_AT).toISOString(),
    sourceId: s.source,
    context,
    ...who,
  };
  if (e.type === 'track') {
    e.event = s.kind;
    e.properties = properties(s, index);
  } else if (e.type !== 'identify') {
    e.properties = properties(s, index);
  } else if (s.trait !== undefined) {
    e.traits = { [s.trait[0]]: s.trait[1] };
  }
  if (s.identifier !== undefined)
    e.identifiers = [{ type: 'email', hash: s.identifier[0], mask: s.identifier[1] }];
  return e;
}

/** Events for `who`, with exact copies (new messageIds) of some of them, as a re-sending client makes. */
const eventList = (window: number, session: fc.Arbitrary<string | undefined>, maxLength: number) =>
  fc.record({
    specs: fc.array(spec(window, session), { minLength: 1, maxLength }),
    copies: fc.array(fc.nat(), { maxLength: 4 }),
    zones: fc.boolean(),
  });
type EventList = ReturnType<typeof eventList> extends fc.Arbitrary<infer L> ? L : never;

function eventsOf(list: EventList, who: Partial<NormalizedEvent>, offset = 0): NormalizedEvent[] {
  const events = list.specs.map((s, i) => toEvent(s, offset + i, who, list.zones));
  for (const [k, n] of list.copies.entries()) {
    const original = events[n % events.length] as NormalizedEvent;
    events.push({ ...original, messageId: `${original.messageId}-copy${k}` });
  }
  return events;
}

/** Which object each event is in, and two delivery orders of the objects (the second with redeliveries). */
const deliveries = (n: number) =>
  fc.record({
    objectOf: fc.array(fc.integer({ min: 0, max: OBJECTS - 1 }), { minLength: n, maxLength: n }),
    first: fc.shuffledSubarray(range(OBJECTS), { minLength: OBJECTS, maxLength: OBJECTS }),
    second: fc.shuffledSubarray(range(OBJECTS), { minLength: OBJECTS, maxLength: OBJECTS }),
    again: fc.array(fc.integer({ min: 0, max: OBJECTS - 1 }), { maxLength: 3 }),
  });
type Delivery = ReturnType<typeof deliveries> extends fc.Arbitrary<infer D> ? D : never;

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function deliver(
  node: string,
  events: NormalizedEvent[],
  objectOf: number[],
  order: number[],
): PartialProfile {
  const objects: NormalizedEvent[][] = range(OBJECTS).map(() => []);
  events.forEach((e, i) => {
    objects[objectOf[i] ?? 0]?.push(e);
  });
  let p = emptyPartial(node);
  for (const id of order) {
    p = applyObject(p, objects[id] ?? [], `raw/dt=2026-03-10/${id}.ndjson.gz`, OBJECT_AT + id * 1000).partial;
  }
  return p;
}

/** Delivers the events under some split and order: for merges, where the order is not under test. */
const deliverAll = (node: string, events: NormalizedEvent[], d: Delivery) =>
  deliver(node, events, d.objectOf, d.first);

function without<T extends object>(value: T, keys: readonly string[]): Partial<T> {
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const key of keys) delete out[key];
  return out as Partial<T>;
}

/** A list of events with the split and orders to deliver it in. */
const scenario = (window: number, session: fc.Arbitrary<string | undefined>, maxLength: number) =>
  eventList(window, session, maxLength).chain((list) =>
    deliveries(list.specs.length + list.copies.length).map((d) => ({ list, d })),
  );

describe('profile fold properties', () => {
  it('any delivery order of the objects, with redeliveries, gives the same aggregates (bar the order-sensitive fields)', () => {
    fc.assert(
      fc.property(scenario(120, anySession, 40), ({ list, d }) => {
        const events = eventsOf(list, { userId: 'u' });
        const a = deliver('user:u', events, d.objectOf, d.first);
        const b = deliver('user:u', events, d.objectOf, [...d.second, ...d.again]);
        expect(without(b, ORDER_SENSITIVE)).toEqual(without(a, ORDER_SENSITIVE));
      }),
      { numRuns: RUNS },
    );
  });

  it('with a sessionId on every event, sessions are order-independent too', () => {
    fc.assert(
      fc.property(scenario(120, alwaysSession, 40), ({ list, d }) => {
        const events = eventsOf(list, { userId: 'u' });
        const a = deliver('user:u', events, d.objectOf, d.first);
        const b = deliver('user:u', events, d.objectOf, [...d.second, ...d.again]);
        expect([b.sessions, b.recentSessions]).toEqual([a.sessions, a.recentSessions]);
        expect(a.sessions).toBe(
          new Set(list.specs.filter((s) => s.kind !== 'identify').map((s) => s.session)).size,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('mergeAggregates is commutative and associative, with the empty customer as identity', () => {
    // A 2-hour window bounds the inferred sessions so the three nodes stay within the 20 recent sessions.
    const three = fc.tuple(
      scenario(120, anySession, 20),
      scenario(120, anySession, 20),
      scenario(120, anySession, 20),
    );
    fc.assert(
      fc.property(three, (scenarios) => {
        const [x, y, z] = scenarios.map(({ list, d }, i) => {
          const who = i === 2 ? { anonymousId: `n${i}` } : { userId: `n${i}` };
          const node = i === 2 ? `anon:n${i}` : `user:n${i}`;
          return toAggregates(deliverAll(node, eventsOf(list, who, i * 100), d));
        }) as [CustomerAggregates, CustomerAggregates, CustomerAggregates];
        expect(mergeAggregates(x, y)).toEqual(mergeAggregates(y, x));
        expect(mergeAggregates(mergeAggregates(x, y), z)).toEqual(mergeAggregates(x, mergeAggregates(y, z)));
        expect(mergeAggregates(x, emptyAggregates())).toEqual(x);
        expect(mergeAggregates(emptyAggregates(), z)).toEqual(z);
      }),
      { numRuns: RUNS },
    );
  });

  it('mergePartials ignores the order of the partials', () => {
    const three = fc.tuple(
      scenario(120, anySession, 15),
      scenario(120, anySession, 15),
      scenario(120, anySession, 15),
    );
    fc.assert(
      fc.property(
        three,
        fc.shuffledSubarray([0, 1, 2], { minLength: 3, maxLength: 3 }),
        (scenarios, order) => {
          const partials = scenarios.map(({ list, d }, i) =>
            deliverAll(`user:n${i}`, eventsOf(list, { userId: `n${i}` }, i * 100), d),
          );
          expect(mergePartials(order.map((i) => partials[i] as PartialProfile))).toEqual(
            mergePartials(partials),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("merging two nodes' partials equals one node that received both nodes' events", () => {
    // Every event has a sessionId, so sessions compare too; order ids are unique across the two nodes
    // (an order both nodes hold is counted once by the merge but its affinities twice: see merge.ts).
    const two = fc.tuple(scenario(120, alwaysSession, 30), scenario(120, alwaysSession, 30));
    fc.assert(
      fc.property(two, ([a, b]) => {
        const userEvents = eventsOf(a.list, { userId: 'a' });
        // Both nodes with zones or both without: an event without one counts in its node's known zone.
        const anonEvents = eventsOf({ ...b.list, zones: a.list.zones }, { anonymousId: 'b' }, 100);
        const merged = mergePartials([
          deliverAll('user:a', userEvents, a.d),
          deliverAll('anon:b', anonEvents, b.d),
        ]);
        const all = [...userEvents, ...anonEvents].map((e) => ({
          ...e,
          userId: 'c',
          anonymousId: undefined,
        }));
        const one = toAggregates(
          deliverAll('user:c', all, { ...a.d, objectOf: [...a.d.objectOf, ...b.d.objectOf] }),
        );
        const differ = ['nodes', 'updatedAt', 'dwellSeconds', 'dwellSamples', 'cart'];
        expect(without(merged, differ)).toEqual(without(one, differ));
      }),
      { numRuns: RUNS },
    );
  });
});
