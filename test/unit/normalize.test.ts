// Normalization: Segment's clock-skew correction and the content-derived messageId.
import { afterEach, describe, expect, it } from 'vitest';
import {
  correctedTimestamp,
  derivedMessageId,
  normalizeEvent,
  stableStringify,
} from '../../lib/ingest/normalize.js';
import { SpecEvent, type SpecEventInput } from '../../lib/ingest/spec.js';
import { RECEIVED_AT, requestContext, SOURCE_ID } from './factories.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const normalize = (input: SpecEventInput, ctx = requestContext()) =>
  normalizeEvent(SpecEvent.parse(input), ctx);

describe('clock-skew correction', () => {
  // The device measures the time between the event and its sending on its own (wrong) clock; the
  // server knows when the request arrived. The true event time is therefore recoverable.
  it('puts the event of a device whose clock is 1 hour fast at its true server time', () => {
    const trueEventTime = RECEIVED_AT - 5 * 60_000 - 250; // 5 min queued on the device, 250 ms in transit
    const deviceTimestamp = trueEventTime + HOUR;
    const deviceSentAt = RECEIVED_AT - 250 + HOUR;
    const expected = RECEIVED_AT - (deviceSentAt - deviceTimestamp);

    const e = normalize({
      type: 'identify',
      userId: 'u1',
      timestamp: iso(deviceTimestamp),
      sentAt: iso(deviceSentAt),
    });
    expect(e.timestamp).toBe(iso(expected));
    // The formula recovers the true time up to the transit latency.
    expect(Date.parse(e.timestamp) - trueEventTime).toBe(250);
  });

  it('puts the event of a device whose clock is 3 days slow at its true server time', () => {
    const trueEventTime = RECEIVED_AT - 40_000;
    const deviceOriginal = trueEventTime - 3 * DAY;
    const deviceSentAt = RECEIVED_AT - 3 * DAY - 100;
    const expected = RECEIVED_AT - (deviceSentAt - deviceOriginal);

    const e = normalize({
      type: 'track',
      event: 'Signed Up',
      anonymousId: 'a1',
      originalTimestamp: iso(deviceOriginal),
      sentAt: iso(deviceSentAt),
    });
    expect(e.timestamp).toBe(iso(expected));
    expect(Date.parse(e.timestamp) - trueEventTime).toBe(100);
  });

  it('keeps the client timestamp when there is no sentAt to correct with', () => {
    const sent = '2026-11-20T08:15:00+01:00';
    const e = normalize({ type: 'identify', userId: 'u1', timestamp: sent });
    expect(e.timestamp).toBe(iso(Date.parse(sent)));
    expect(e.originalTimestamp).toBe(sent);
  });

  it('uses the receive time when the event has no timestamp at all', () => {
    const e = normalize({ type: 'identify', userId: 'u1', sentAt: iso(RECEIVED_AT - 10 * HOUR) });
    expect(e.timestamp).toBe(iso(RECEIVED_AT));
    expect(e.originalTimestamp).toBeUndefined();
    expect(correctedTimestamp(RECEIVED_AT)).toBe(RECEIVED_AT);
  });

  it('uses the batch-level sentAt when the event has none, and the event sentAt over it', () => {
    const original = RECEIVED_AT - 2 * DAY;
    const batchSentAt = iso(original + 30_000);
    const ownSentAt = iso(original + 90_000);
    const fromBatch = normalize(
      { type: 'identify', userId: 'u1', timestamp: iso(original) },
      requestContext({ sentAt: batchSentAt }),
    );
    expect(fromBatch.timestamp).toBe(iso(RECEIVED_AT - 30_000));
    expect(fromBatch.sentAt).toBe(batchSentAt);

    const own = normalize(
      { type: 'identify', userId: 'u1', timestamp: iso(original), sentAt: ownSentAt },
      requestContext({ sentAt: batchSentAt }),
    );
    expect(own.timestamp).toBe(iso(RECEIVED_AT - 90_000));
    expect(own.sentAt).toBe(ownSentAt);
  });

  it('keeps an explicit timestamp sent beside originalTimestamp as it is: the caller set it', () => {
    // A backfill through the RudderStack SDK: it stamps originalTimestamp and sentAt with the call
    // time and passes the caller's timestamp through. As Segment documents for historical imports,
    // the explicit timestamp wins; correcting from originalTimestamp would put a 2011 order today.
    const now = iso(RECEIVED_AT - 1_500);
    const e = normalize({
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      timestamp: '2011-12-09T12:50:00.000Z',
      originalTimestamp: now,
      sentAt: now,
      properties: { order_id: '581587', revenue: 249.3 },
    });
    expect(e.timestamp).toBe('2011-12-09T12:50:00.000Z');
    expect(e.originalTimestamp).toBe(now);
    expect(e.sentAt).toBe(now);
  });

  it('corrects from originalTimestamp when it is the only event time sent', () => {
    const originalTimestamp = '2026-11-22T15:29:00.000+01:00';
    const e = normalize({
      type: 'identify',
      userId: 'u1',
      originalTimestamp,
      sentAt: '2026-11-22T15:30:00.000+01:00',
    });
    expect(e.originalTimestamp).toBe(originalTimestamp);
    expect(e.timestamp).toBe(iso(RECEIVED_AT - 60_000));
  });

  describe('a date-time without offset', () => {
    const savedTz = process.env.TZ;
    afterEach(() => {
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    });

    it('is read as UTC whatever the time zone of the machine', () => {
      for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
        process.env.TZ = tz;
        expect(
          normalize({ type: 'identify', userId: 'u1', timestamp: '2024-05-01T12:30:00' }).timestamp,
        ).toBe('2024-05-01T12:30:00.000Z');
        expect(correctedTimestamp(RECEIVED_AT, '2024-05-01 12:30', '2024-05-01T12:31:00Z')).toBe(
          RECEIVED_AT - 60_000,
        );
      }
    });
  });
});

describe('derived messageIds', () => {
  const base = {
    type: 'track',
    event: 'Signed Up',
    userId: 'u1',
    timestamp: '2026-11-22T10:00:00.000Z',
    properties: { plan: 'pro', seats: 3, tags: ['a', 'b'] },
  } as const;
  const idOf = (input: SpecEventInput, sourceId = SOURCE_ID) =>
    derivedMessageId(SpecEvent.parse(input), sourceId);

  it('is given to events sent without a messageId, and a sent one is kept', () => {
    expect(normalize(base).messageId).toBe(idOf(base));
    expect(normalize({ ...base, messageId: 'client-id' }).messageId).toBe('client-id');
  });

  it('is stable for the same content', () => {
    expect(idOf(base)).toBe(idOf(structuredClone(base)));
    expect(idOf(base)).toMatch(/^derived-[0-9a-f]{40}$/);
  });

  it('differs when the content differs, however little', () => {
    const ids = new Set([
      idOf(base),
      idOf({ ...base, userId: 'u2' }),
      idOf({ ...base, properties: { ...base.properties, seats: 4 } }),
      idOf({ ...base, properties: { ...base.properties, tags: ['b', 'a'] } }),
      idOf({ ...base, timestamp: '2026-11-22T10:00:00.001Z' }),
    ]);
    expect(ids.size).toBe(5);
  });

  it('differs between sources for the same content', () => {
    expect(idOf(base, 'src_a')).not.toBe(idOf(base, 'src_b'));
  });

  it('does not depend on key order', () => {
    const reordered = {
      properties: { tags: ['a', 'b'], seats: 3, plan: 'pro' },
      timestamp: base.timestamp,
      userId: 'u1',
      event: 'Signed Up',
      type: 'track',
    } as const;
    expect(idOf(reordered)).toBe(idOf(base));
  });

  it('does not change when a retry re-stamps sentAt', () => {
    expect(idOf({ ...base, sentAt: '2026-11-22T10:00:05Z' })).toBe(
      idOf({ ...base, sentAt: '2026-11-22T10:07:00Z' }),
    );
  });
});

describe('stableStringify', () => {
  it('sorts keys at every depth, keeps array order and drops undefined like JSON', () => {
    const a = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, u: undefined };
    expect(stableStringify(a)).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(JSON.parse(stableStringify(a))).toEqual(JSON.parse(JSON.stringify(a)));
  });

  it('writes primitives as JSON does', () => {
    expect([1, 'x', true, null].map(stableStringify)).toEqual(['1', '"x"', 'true', 'null']);
  });
});
