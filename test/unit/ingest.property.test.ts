// Property tests of the ingest hot path: whatever a client sends, prepareEvent and routeRequest answer
// with values (accepted events, or rejections naming a path and a reason) — never a crash.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { type Prepared, prepareEvent, routeRequest } from '../../lib/ingest/route.js';
import { EVENT_TYPES, type EventType, MAX_EVENT_BYTES } from '../../lib/ingest/spec.js';
import { defaultQuality, RECEIVED_AT, requestContext, SOURCE_ID } from './factories.js';

const quality = defaultQuality();
const ctx = requestContext();
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Arbitrary JavaScript values, well beyond what JSON.parse produces (but no bigint: JSON has none). */
const anyValue = fc.anything({
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
});

function checkRejectionShape(result: Prepared) {
  if (result.ok) return;
  expect(result.issues.length).toBeGreaterThan(0);
  for (const issue of result.issues) {
    expect(issue.path).not.toBe('');
    expect(issue.code).not.toBe('');
    expect(issue.message).not.toBe('');
  }
}

function checkAcceptedShape(result: Prepared) {
  if (!result.ok) return;
  const e = result.event;
  expect(e.messageId.length).toBeGreaterThan(0);
  expect(e.timestamp).toMatch(ISO_UTC);
  expect(e.receivedAt).toBe(new Date(RECEIVED_AT).toISOString());
  expect(e.sourceId).toBe(SOURCE_ID);
  // What is enqueued must read back as a NormalizedEvent on the consumer side.
  expect(NormalizedEvent.safeParse(JSON.parse(JSON.stringify(e))).success).toBe(true);
}

// --- Near-valid events: a valid event of each type, then a few random mutations. ---

// Prefixed, so that no generated id is one of the junk placeholders ("nan", "none", "true"...).
const id = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,20}$/).map((s) => `id-${s}`),
  fc.integer({ min: 1000, max: 1e9 }),
);
/** Client timestamps between 2020 and the receive time, in UTC or with an offset. */
const isoTimestamp = fc
  .record({
    ms: fc.integer({ min: Date.parse('2020-01-01T00:00:00Z'), max: RECEIVED_AT }),
    offsetMinutes: fc.constantFrom(0, 120, -330, 345),
  })
  .map(({ ms, offsetMinutes }) => {
    if (offsetMinutes === 0) return new Date(ms).toISOString();
    const abs = Math.abs(offsetMinutes);
    const offset = `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    return `${new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23)}${offset}`;
  });
const props = fc.dictionary(
  fc.string({ maxLength: 10 }),
  fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean()),
  { maxKeys: 4 },
);

const validEvent = fc
  .record({
    type: fc.constantFrom(...EVENT_TYPES),
    userId: id,
    anonymousId: id,
    event: fc.constantFrom('Signed Up', 'Product Viewed', 'order_completed', 'add_to_cart'),
    groupId: id,
    previousId: id,
    timestamp: isoTimestamp,
    messageId: fc.option(fc.uuid(), { nil: undefined }),
    properties: props,
    traits: props,
    context: fc.record({ ip: fc.ipV4(), locale: fc.constantFrom('en-US', 'fr-FR') }),
  })
  .map((r): RawEvent => {
    const common = {
      type: r.type,
      userId: r.userId,
      anonymousId: r.anonymousId,
      timestamp: r.timestamp,
      context: r.context,
      ...(r.messageId === undefined ? {} : { messageId: r.messageId }),
    };
    const specific: Record<EventType, RawEvent> = {
      track: { event: r.event, properties: r.properties },
      page: { name: 'Home', properties: r.properties },
      screen: { name: 'Home', properties: r.properties },
      identify: { traits: r.traits },
      group: { groupId: r.groupId, traits: r.traits },
      alias: { previousId: r.previousId },
    };
    return { ...common, ...specific[r.type] };
  });

const FIELDS = [
  'type',
  'userId',
  'anonymousId',
  'event',
  'groupId',
  'previousId',
  'timestamp',
  'originalTimestamp',
  'sentAt',
  'messageId',
  'properties',
  'traits',
  'context',
  'integrations',
  'name',
];
const wrongValue = fc.oneof(
  fc.constantFrom(null, true, 0, -1, '', ' ', 'null', '[object Object]', [], {}, '2024-02-31T25:00:00Z'),
  fc.string({ maxLength: 30 }),
  fc.double(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.string({ minLength: 1, maxLength: 5 }).map((s) => s.repeat(8_000)),
);
type RawEvent = Record<string, unknown>;
type Mutation = (e: RawEvent) => void;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // A field set to a value of the wrong type or shape (or a 40 KB string).
  fc.record({ field: fc.constantFrom(...FIELDS), value: wrongValue }).map(
    ({ field, value }): Mutation =>
      (e) => {
        e[field] = value;
      },
  ),
  // A field deleted, required or not.
  fc.constantFrom(...FIELDS).map(
    (field): Mutation =>
      (e) => {
        delete e[field];
      },
  ),
  // Random extra keys, which may also overwrite known ones.
  fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).map(
    (extra): Mutation =>
      (e) => {
        Object.assign(e, extra);
      },
  ),
  // An amount or quantity of any sign, size or type.
  fc
    .record({
      amount: fc.oneof(fc.double(), fc.string({ maxLength: 8 })),
      key: fc.constantFrom('price', 'revenue', 'quantity'),
    })
    .map(
      ({ amount, key }): Mutation =>
        (e) => {
          e.properties = { ...(e.properties as object), [key]: amount };
        },
    ),
  // Properties around the 32 KB event limit.
  fc.integer({ min: MAX_EVENT_BYTES - 200, max: MAX_EVENT_BYTES + 200 }).map(
    (n): Mutation =>
      (e) => {
        e.properties = { blob: 'x'.repeat(n) };
      },
  ),
);
const nearValidEvent = fc
  .tuple(validEvent, fc.array(mutation, { maxLength: 3 }))
  .map(([event, mutations]) => {
    for (const mutate of mutations) mutate(event);
    return event;
  });

describe('prepareEvent', () => {
  it('never throws on arbitrary values, and every rejection names a path, a code and a reason', () => {
    fc.assert(
      fc.property(fc.oneof(anyValue, fc.jsonValue()), (raw) => {
        const result = prepareEvent(raw, ctx, quality);
        checkRejectionShape(result);
        checkAcceptedShape(result);
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts every unmutated valid event (the generator below really is near-valid)', () => {
    fc.assert(
      fc.property(validEvent, (raw) => {
        const result = prepareEvent(raw, ctx, quality);
        if (!result.ok) throw new Error(`rejected ${JSON.stringify(result.issues)}`);
        checkAcceptedShape(result);
        if (typeof raw.messageId === 'string') expect(result.event.messageId).toBe(raw.messageId);
        // No sentAt, so the client's instant stands, written in UTC.
        expect(result.event.timestamp).toBe(new Date(Date.parse(String(raw.timestamp))).toISOString());
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on mutated events; accepted ones are complete, rejected ones explained', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(nearValidEvent, (raw) => {
        const result = prepareEvent(raw, ctx, quality);
        if (result.ok) accepted += 1;
        else rejected += 1;
        checkRejectionShape(result);
        checkAcceptedShape(result);
      }),
      { numRuns: 1000 },
    );
    // Both outcomes must be exercised, or the property says little.
    expect(accepted).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(50);
  });

  it('rejects any event over 32 KB with event_too_large at the root', () => {
    fc.assert(
      fc.property(validEvent, fc.integer({ min: 1, max: 2000 }), (raw, over) => {
        const base = Buffer.byteLength(JSON.stringify({ ...raw, pad: '' }));
        const padded = { ...raw, pad: 'p'.repeat(MAX_EVENT_BYTES - base + over) };
        const result = prepareEvent(padded, ctx, quality);
        expect(result.ok).toBe(false);
        if (!result.ok)
          expect(result.issues.map((i) => [i.path, i.code])).toEqual([['(root)', 'event_too_large']]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('routeRequest batch', () => {
  /** Mostly valid batch-level fields, sometimes wrong, so that both outcomes below are common. */
  const mostly = <T>(valid: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: wrongValue, weight: 1 });
  const batchBody = fc.record(
    {
      batch: mostly(fc.array(fc.oneof(nearValidEvent, validEvent, anyValue), { maxLength: 8 })),
      sentAt: mostly(isoTimestamp),
      context: mostly(fc.record({ library: fc.record({ name: fc.string() }), locale: fc.constant('en-US') })),
      integrations: mostly(fc.constant({ All: true })),
      writeKey: mostly(fc.string()),
    },
    { requiredKeys: ['batch'] },
  );

  it('throws nothing: refuses a body with issues, or accounts for every event', () => {
    let refused = 0;
    let routedCount = 0;
    fc.assert(
      fc.property(
        fc.oneof({ arbitrary: batchBody, weight: 3 }, { arbitrary: anyValue, weight: 1 }),
        (body) => {
          const routed = routeRequest('batch', body, ctx, { quality, bodyBytes: 100_000 });
          if (!routed.ok) {
            refused += 1;
            expect(routed.message).not.toBe('');
            expect(routed.issues.length).toBeGreaterThan(0);
            for (const issue of routed.issues) {
              expect(issue.path).not.toBe('');
              expect(issue.code).not.toBe('');
              expect(issue.message).not.toBe('');
            }
            return;
          }
          routedCount += 1;
          const batch = (body as { batch: unknown[] }).batch;
          expect(routed.accepted.length + routed.rejected.length).toBe(batch.length);
          const indexes = routed.rejected.map((r) => r.index);
          expect(new Set(indexes).size).toBe(indexes.length);
          for (const i of indexes) expect(i >= 0 && i < batch.length).toBe(true);
          for (const r of routed.rejected) expect(r.issues.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 500 },
    );
    expect(refused).toBeGreaterThan(25);
    expect(routedCount).toBeGreaterThan(25);
  });
});
