// The raw archive's row format: one fixed schema (every column, nulls for absent values, nested objects
// as JSON text), time-sortable object keys, and gzip NDJSON that reads back as written.
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ARCHIVE_COLUMNS,
  archiveObjectKey,
  archiveObjectTime,
  decodeArchiveObject,
  encodeArchiveObject,
  fromArchiveRecord,
  partitionOf,
  toArchiveRecord,
} from '../../lib/archive/record.js';
import { normalizedEvent } from './factories.js';

const ARCHIVED_AT = '2026-11-22T14:31:00.000Z';

describe('toArchiveRecord', () => {
  it('emits exactly the archive columns, in order, for a sparse and for a full event', () => {
    const sparse = normalizedEvent({ type: 'identify', event: undefined, properties: undefined });
    const full = normalizedEvent({
      originalEvent: 'purchase',
      name: 'n',
      category: 'c',
      anonymousId: 'a',
      groupId: 'g',
      previousId: 'p',
      traits: { t: 1 },
      context: { ip: '203.0.113.1' },
      integrations: { All: false },
      originalTimestamp: '2026-11-22T15:29:00+01:00',
      sentAt: '2026-11-22T15:29:30+01:00',
    });
    for (const e of [sparse, full]) {
      expect(Object.keys(toArchiveRecord(e, ARCHIVED_AT))).toEqual([...ARCHIVE_COLUMNS]);
    }
  });

  it('writes null for every absent value (never omits a column)', () => {
    const e = normalizedEvent({
      type: 'identify',
      event: undefined,
      properties: undefined,
      userId: undefined,
      anonymousId: 'a1',
    });
    const r = toArchiveRecord(e, ARCHIVED_AT);
    for (const column of [
      'event',
      'original_event',
      'name',
      'category',
      'user_id',
      'group_id',
      'previous_id',
      'original_timestamp',
      'sent_at',
      'properties',
      'traits',
      'context',
      'integrations',
      'identifiers',
    ] as const) {
      expect(r[column]).toBeNull();
    }
    expect(r.anonymous_id).toBe('a1');
    // JSON keeps nulls, so the column survives the trip to the file.
    expect(Object.keys(JSON.parse(JSON.stringify(r)))).toEqual([...ARCHIVE_COLUMNS]);
  });

  it('maps scalar fields to their snake_case columns', () => {
    const e = normalizedEvent({
      originalEvent: 'purchase',
      event: 'Order Completed',
      sentAt: '2026-11-22T14:29:59Z',
    });
    expect(toArchiveRecord(e, ARCHIVED_AT)).toMatchObject({
      schema_version: 2,
      message_id: e.messageId,
      type: 'track',
      event: 'Order Completed',
      original_event: 'purchase',
      user_id: e.userId,
      timestamp: e.timestamp,
      sent_at: '2026-11-22T14:29:59Z',
      received_at: e.receivedAt,
      archived_at: ARCHIVED_AT,
      source_id: e.sourceId,
    });
  });

  it('stores nested objects as JSON text that parses back to the same value', () => {
    const properties = {
      products: [{ product_id: 'p1', price: 9.5 }],
      currency: 'EUR',
      note: 'a "quoted" é',
    };
    const context = { page: { path: '/cart' }, traits: { plan: 'pro' } };
    const r = toArchiveRecord(normalizedEvent({ properties, context, traits: {} }), ARCHIVED_AT);
    expect(typeof r.properties).toBe('string');
    expect(JSON.parse(r.properties ?? 'null')).toEqual(properties);
    expect(JSON.parse(r.context ?? 'null')).toEqual(context);
    expect(r.traits).toBe('{}');
  });
});

describe('archiveObjectKey', () => {
  it('is raw/dt=<day>/<compact UTC stamp>-<writer>.ndjson.gz', () => {
    const at = Date.UTC(2026, 10, 22, 14, 30, 1, 987);
    expect(archiveObjectKey('2026-11-22', at, 'w-abc')).toBe(
      'raw/dt=2026-11-22/20261122T143001Z-w-abc.ndjson.gz',
    );
  });

  it('pads single-digit parts and sorts by time', () => {
    const early = archiveObjectKey('2026-01-02', Date.UTC(2026, 0, 2, 3, 4, 5), 'w');
    const late = archiveObjectKey('2026-01-02', Date.UTC(2026, 0, 2, 13, 0, 0), 'w');
    expect(early).toBe('raw/dt=2026-01-02/20260102T030405Z-w.ndjson.gz');
    expect(early < late).toBe(true);
  });

  it('reads back the time it was written (to the second) from every key it builds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59) }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (at, writer) => {
          const key = archiveObjectKey(new Date(at).toISOString().slice(0, 10), at, writer);
          expect(archiveObjectTime(key)).toBe(Math.floor(at / 1000) * 1000);
        },
      ),
    );
  });

  it('gives no time, rather than the clock, for a key it did not build', () => {
    for (const key of [
      'raw/dt=2026-03-10/foreign.ndjson.gz',
      'raw/dt=2026-02-30/20260230T120000Z-w.ndjson.gz',
      'raw/dt=2026-03-10/20261345T250000Z-w.ndjson.gz',
      'imports/20261122T143001Z-w.ndjson.gz',
      'raw/dt=2026-11-22/20261122T143001Z-w.csv',
    ]) {
      expect(archiveObjectTime(key), key).toBeUndefined();
    }
  });

  it('partitions an event by the UTC day it was received', () => {
    expect(partitionOf(normalizedEvent({ receivedAt: '2026-11-22T23:59:59.999Z' }))).toBe('2026-11-22');
  });
});

describe('encode / decode', () => {
  it('round-trips records as gzip NDJSON, one line each', () => {
    const records = [
      toArchiveRecord(normalizedEvent({ messageId: 'a' }), ARCHIVED_AT),
      toArchiveRecord(normalizedEvent({ messageId: 'b', properties: { text: 'line\nbreak' } }), ARCHIVED_AT),
    ];
    const body = encodeArchiveObject(records);
    const text = gunzipSync(body).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trimEnd().split('\n')).toHaveLength(2);
    expect(decodeArchiveObject(body)).toEqual(records);
  });

  it('decodes an empty object to no records', () => {
    expect(decodeArchiveObject(encodeArchiveObject([]))).toEqual([]);
  });
});

describe('fromArchiveRecord', () => {
  it('reads back the event a row was written from, identifiers included', () => {
    const e = normalizedEvent({
      type: 'identify',
      userId: 'u1',
      anonymousId: 'a1',
      traits: { plan: 'pro', email: 'enc:v1:0123456789abcdef:AAAA' },
      context: { timezone: 'Europe/Paris' },
      identifiers: [{ type: 'email', hash: 'h', mask: 'j***@example.com' }],
    });
    expect(fromArchiveRecord(toArchiveRecord(e, ARCHIVED_AT))).toEqual(e);
  });
});
