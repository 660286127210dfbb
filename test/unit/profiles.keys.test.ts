// Any string a client sends as a name, id or key reaches the profile under that key (trimmed and cut to
// the documented length), through the reducer, the merge, the view and the stored item's encoding, and
// never makes a write throw: an event named `constructor` once poisoned the profiles consumer.
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromItem, toItem } from '../../lib/adapters/dynamodb/profilesTable.js';
import { get } from '../../lib/profiles/maps.js';
import { mergePartials } from '../../lib/profiles/merge.js';
import { emptyPartial, type PartialProfile, TRAIT_MAX_CHARS } from '../../lib/profiles/partial.js';
import { applyObject, refundKey } from '../../lib/profiles/reduce.js';
import { customerView } from '../../lib/profiles/view.js';
import { clientKey, eventsKeyedBy, expectedKeys, PROTOTYPE_NAMES } from '../support/mapKeys.js';

const OBJECT_AT = Date.parse('2026-03-10T00:00:00.000Z');
const NODE = 'user:u-keys';

const applied = (key: string, objectKey = 'raw/dt=2026-03-10/keys.ndjson.gz'): PartialProfile =>
  applyObject(emptyPartial(NODE), eventsKeyedBy(key), objectKey, OBJECT_AT).partial;

/** The document client's marshalling, as the profiles table's writes and reads use it. */
const throughDocumentClient = (p: PartialProfile): PartialProfile =>
  fromItem(unmarshall(marshall(toItem(p), { removeUndefinedValues: true })));

function expectKeyed(p: PartialProfile, key: string, times: number): void {
  for (const [field, stored] of expectedKeys(key)) {
    if (stored === undefined) continue;
    const map = p[field] as Record<string, unknown>;
    expect(Object.hasOwn(map, stored), `${field} holds ${JSON.stringify(stored)}`).toBe(true);
  }
  const [, name] = expectedKeys(key)[0] as [string, string | undefined];
  if (name !== undefined) {
    expect(get(p.eventCounts, name)).toBeGreaterThanOrEqual(times);
    expect(get(p.categoryAffinity, name)).toBe(times * (5 + 3));
    if (name !== 'nested') expect(get(p.traits, name)?.v).toBe('v');
  }
  const nested = { [key]: 1, deeper: { [key]: [key] } };
  // A trait value over TRAIT_MAX_CHARS of JSON is not kept (the item must stay under 400 KB).
  if (key !== 'nested' && JSON.stringify(nested).length <= TRAIT_MAX_CHARS) {
    expect(get(p.traits, 'nested')?.v).toEqual(nested);
  }
  const [, id] = expectedKeys(key)[6] as [string, string | undefined];
  if (id !== undefined) expect(get(p.refundIds, refundKey(id, 1000))?.amount).toBe(1);
}

describe('client strings as map keys', () => {
  it.each(PROTOTYPE_NAMES)('keeps %s as an event name, category, brand, id and trait', (key) => {
    const p = applied(key);
    expectKeyed(p, key, 1);
    // Nothing in a map comes from a prototype: a fresh name is absent, not a function.
    expect(get(p.eventCounts, 'hasOwnProperty' === key ? 'valueOf' : 'hasOwnProperty')).toBeUndefined();
    expect(throughDocumentClient(p)).toEqual(p);
  });

  it('reaches the partial, the merge, the view and the stored item for any string', () => {
    fc.assert(
      fc.property(clientKey, (key) => {
        const p = applied(key);
        expectKeyed(p, key, 1);
        const stored = throughDocumentClient(p);
        expect(stored).toEqual(p);
        expectKeyed(stored, key, 1);

        // Two nodes holding the same keys merge key by key.
        const other = applyObject(
          { ...emptyPartial('anon:a-keys') },
          eventsKeyedBy(key).map((e) => {
            const { userId: _userId, ...rest } = e;
            return { ...rest, anonymousId: 'a-keys' };
          }),
          'raw/dt=2026-03-10/other.ndjson.gz',
          OBJECT_AT,
        ).partial;
        const merged = mergePartials([stored, throughDocumentClient(other)]);
        const name = expectedKeys(key)[0]?.[1];
        if (name !== undefined) {
          expect(get(merged.eventCounts, name)).toBeGreaterThanOrEqual(2);
          const view = customerView(merged, OBJECT_AT);
          expect(view.topCategories.map((c) => c.name)).toContain(name);
          expect(JSON.parse(JSON.stringify(view)).aggregates.eventCounts[name]).toBe(
            get(merged.eventCounts, name),
          );
        }
        // Applying the same object again is a no-op, whatever the keys.
        expect(
          applyObject(stored, eventsKeyedBy(key), 'raw/dt=2026-03-10/keys.ndjson.gz', OBJECT_AT).changed,
        ).toBe(false);
      }),
      { numRuns: 150, endOnFailure: true },
    );
  });

  it('never lets a key change the prototype of a map', () => {
    const p = applied('__proto__');
    for (const map of [p.eventCounts, p.categoryAffinity, p.cart, p.orderIds, p.traits]) {
      expect(Object.keys(map)).toContain('__proto__');
      expect(Object.getPrototypeOf(map)).not.toEqual(expect.objectContaining({ v: 'v' }));
    }
    expect(({} as Record<string, unknown>).v).toBeUndefined();
  });
});
