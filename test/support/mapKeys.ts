// Client strings that end up as map keys of a partial profile (event names, categories, brands, product,
// order and session ids, trait names, devices, sources): arbitrary text, the names of Object.prototype's
// members, blank and very long strings. Shared by the reducer's property test and the DynamoDB round trip.
import fc from 'fast-check';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { keyOf } from '../../lib/profiles/maps.js';
import { ID_MAX_CHARS, KEY_MAX_CHARS, type PartialProfile } from '../../lib/profiles/partial.js';

/** Names a plain object answers without holding them, and `__proto__`, whose assignment is a setter. */
export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  'toLocaleString',
] as const;

/** Any string a client may send as a name, id or key (the ingest edge caps an event at 32 KB). */
export const clientKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...PROTOTYPE_NAMES, '', ' ', ' constructor ', 'Constructor', '(other)'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', minLength: 90, maxLength: 2_000 }),
  fc
    .constantFrom(...PROTOTYPE_NAMES)
    .chain((name) => fc.string({ maxLength: 3 }).map((affix) => `${name}${affix}`)),
);

const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/**
 * Events of `user:<userId>` that use `key` in every place a map key comes from. The order and the
 * cancellation come before the cart add, so the add's line stays in the cart.
 */
export function eventsKeyedBy(key: string, userId = 'u-keys'): NormalizedEvent[] {
  const base = { userId, receivedAt: at(60), sourceId: key === '' ? 'src' : key };
  const traits = { [key]: 'v', nested: { [key]: 1, deeper: { [key]: [key] } } };
  return [
    {
      ...base,
      messageId: 'k1',
      type: 'track',
      event: 'Order Completed',
      timestamp: at(0),
      properties: { order_id: key, revenue: 2, products: [{ category: key, brand: key }] },
    },
    {
      ...base,
      messageId: 'k2',
      type: 'track',
      event: 'Order Cancelled',
      timestamp: at(1),
      properties: { order_id: key },
    },
    {
      ...base,
      messageId: 'k3',
      type: 'track',
      event: 'Order Refunded',
      timestamp: at(2),
      properties: { order_id: key, total: 1 },
    },
    {
      ...base,
      messageId: 'k4',
      type: 'track',
      event: 'Product Added',
      timestamp: at(3),
      properties: { product_id: key, category: key, brand: key, price: 1 },
      context: { sessionId: key, device: { type: key }, traits },
    },
    { ...base, messageId: 'k5', type: 'track', event: key, timestamp: at(4), properties: { [key]: key } },
    { ...base, messageId: 'k6', type: 'identify', timestamp: at(5), traits },
  ];
}

/** Where each map of a partial must hold `key` after eventsKeyedBy(key): the map, and the key it is stored under. */
export function expectedKeys(key: string): [keyof PartialProfile, string | undefined][] {
  const name = keyOf(key, KEY_MAX_CHARS);
  const id = keyOf(key, ID_MAX_CHARS);
  return [
    ['eventCounts', name],
    ['categoryAffinity', name],
    ['brandAffinity', name],
    ['sources', key === '' ? 'src' : name],
    ['devices', keyOf(key.toLowerCase(), 40)],
    ['traits', name],
    ['cart', id],
    ['orderIds', id],
    ['cancelledIds', id],
    ['recentSessions', id],
  ];
}
