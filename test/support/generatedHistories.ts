// Generated customer histories for the history SQL's property tests: five nodes (two users, two
// anonymous ids, an identify that merges), behavior with and without session ids and with gaps around
// the 30-minute session gap, stated and measured dwell, re-sent orders, refunds, cancellations, CRM ids,
// categories including `(other)`, and channels.
import fc from 'fast-check';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';

export const START = Date.parse('2026-03-01T08:00:00.000Z');
export const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** `value` with this weight against 1 for undefined. */
const sometimes = <T>(value: fc.Arbitrary<T>, weight: number) =>
  fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    { arbitrary: value, weight: Math.round(weight * 4) },
  );

/** What one generated event does; `gap` is the minutes since the previous one. */
export const step = fc.record({
  gap: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 20, max: 45 }), fc.constant(24 * 60)),
  who: fc.constantFrom('user:u1', 'user:u1', 'user:u2', 'anon:a1', 'anon:a2'),
  what: fc.constantFrom(
    'page',
    'Page Viewed',
    'screen',
    'Product Viewed',
    'Product Added',
    'Product Shared',
    'Order Completed',
    'Order Refunded',
    'Order Cancelled',
    'identify',
    'Signed Up',
  ),
  // Half the behavior without a session id (sessions are then inferred), half the views without a dwell.
  session: sometimes(fc.constantFrom('s1', 's2', 's3'), 1),
  dwell: sometimes(fc.integer({ min: 1, max: 600 }), 1),
  order: sometimes(fc.constantFrom('o1', 'o2', 'o3', 'o4'), 3),
  amount: fc.constantFrom(0, 9.99, 25, 100.005),
  category: sometimes(fc.constantFrom('shoes', 'bags', '(other)', ' hats '), 1),
  crm: sometimes(fc.constantFrom('C-1', 'C-2', 7), 0.25),
  channel: fc.constantFrom('web', 'ios', 'pos', undefined),
  // Days after the event that it is received, when the history is generated with late arrivals.
  delay: fc.oneof(
    { arbitrary: fc.constant(0), weight: 4 },
    { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 },
  ),
});
export type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function contextOf(s: Step): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  if (s.session !== undefined) context.sessionId = s.session;
  if (s.channel !== undefined) context.channel = s.channel;
  if (s.crm !== undefined && s.what !== 'identify') context.traits = { crm_id: s.crm };
  return context;
}

function propertiesOf(s: Step): Record<string, unknown> {
  const properties: Record<string, unknown> = { revenue: s.amount, total: s.amount };
  if (s.order !== undefined) properties.order_id = s.order;
  if (s.dwell !== undefined) properties.dwell_time = s.dwell;
  if (s.category !== undefined) properties.products = [{ product_id: 'p1', category: s.category, price: 5 }];
  return properties;
}

/**
 * The events of `steps`, in arrival order. Each is received 5 s after it happened, or with `late` its
 * step's delay later (a day or more: it lands in a later received day, as a retry or a backfill does).
 * The first happens at `start` (START by default) plus its gap.
 */
export function eventsOf(
  steps: readonly Step[],
  options: { late?: boolean; start?: number } = {},
): NormalizedEvent[] {
  let t = options.start ?? START;
  return steps.map((s, i) => {
    t += s.gap * MINUTE;
    const [kind, id] = s.who.split(':') as [string, string];
    // An identify of an anonymous node names its user, which merges the two customers.
    const userId = kind === 'user' ? id : s.what === 'identify' ? 'u3' : undefined;
    const type = s.what === 'page' || s.what === 'screen' || s.what === 'identify' ? s.what : 'track';
    const crmTraits = type === 'identify' && s.crm !== undefined ? { traits: { crm_id: s.crm } } : {};
    return {
      messageId: `m${String(i).padStart(4, '0')}`,
      type,
      ...(type === 'track' ? { event: s.what } : {}),
      ...(userId === undefined ? {} : { userId }),
      ...(kind === 'anon' ? { anonymousId: id } : {}),
      ...crmTraits,
      properties: propertiesOf(s),
      context: contextOf(s),
      timestamp: new Date(t).toISOString(),
      receivedAt: new Date(t + 5_000 + (options.late ? s.delay * DAY : 0)).toISOString(),
      sourceId: 'src_web',
    } as NormalizedEvent;
  });
}
