// Request routing: Segment's batch-level defaults, the per-event size limit, the route naming the call,
// and bodies that cannot be routed at all (an `ok: false` outcome whose issues name the path).
import { describe, expect, it } from 'vitest';
import { type IngestRoute, type InvalidRequest, routeRequest } from '../../lib/ingest/route.js';
import { MAX_EVENT_BYTES } from '../../lib/ingest/spec.js';
import { defaultQuality, pathsAndCodes, RECEIVED_AT, requestContext } from './factories.js';

const quality = defaultQuality();
const bytesOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '');
const route = (r: IngestRoute, body: unknown) =>
  routeRequest(r, body, requestContext(), { quality, bodyBytes: bytesOf(body) });

/** The outcome of a body that cannot be routed; fails the test when it was routed. */
function invalidOf(r: IngestRoute, body: unknown): InvalidRequest {
  const routed = route(r, body);
  if (routed.ok) throw new Error('expected the request to be refused, but it was routed');
  return routed;
}

/** A track event padded so that its JSON is exactly `bytes` long. */
function eventOfSize(bytes: number, messageId: string) {
  const base = { type: 'track', event: 'Big', userId: 'u1', messageId, properties: { pad: '' } };
  return { ...base, properties: { pad: 'x'.repeat(bytes - bytesOf(base)) } };
}

describe('batch-level context and integrations', () => {
  it('fill in what an event lacks, with event-level values winning', () => {
    const body = {
      context: { library: { name: 'analytics-node' }, ip: '198.51.100.1', locale: 'en-US' },
      integrations: { All: true, Mixpanel: false },
      batch: [
        { type: 'identify', userId: 'u1', context: { ip: '203.0.113.7' }, integrations: { Mixpanel: true } },
        { type: 'identify', userId: 'u2' },
      ],
    };
    const { accepted, rejected } = route('batch', body);
    expect(rejected).toEqual([]);
    expect(accepted.map((e) => [e.context, e.integrations])).toEqual([
      [
        { library: { name: 'analytics-node' }, ip: '203.0.113.7', locale: 'en-US' },
        { All: true, Mixpanel: true },
      ],
      [body.context, body.integrations],
    ]);
  });

  it('does not mask a malformed event-level context: the event is rejected at context', () => {
    const body = {
      context: { locale: 'en-US' },
      integrations: { All: true },
      batch: [
        { type: 'identify', userId: 'u1', context: 'mobile' },
        { type: 'identify', userId: 'u2', integrations: ['Mixpanel'] },
        { type: 'identify', userId: 'u3' },
      ],
    };
    const { accepted, rejected } = route('batch', body);
    expect(rejected.map((r) => [r.index, pathsAndCodes(r.issues)])).toEqual([
      [0, [['context', 'invalid_type']]],
      [1, [['integrations', 'invalid_type']]],
    ]);
    expect(accepted.map((e) => e.userId)).toEqual(['u3']);
  });

  it('applies the batch sentAt to every event without its own and returns it', () => {
    const sentAt = new Date(RECEIVED_AT - 2_000).toISOString();
    const timestamp = new Date(RECEIVED_AT - 62_000).toISOString();
    const routed = route('batch', { sentAt, batch: [{ type: 'identify', userId: 'u1', timestamp }] });
    expect(routed.ok && routed.sentAt).toBe(sentAt);
    expect(routed.accepted[0]?.timestamp).toBe(new Date(RECEIVED_AT - 60_000).toISOString());
  });
});

describe('event time of a RudderStack backfill', () => {
  it('keeps the timestamps a batch from the unmodified rudder-sdk-node 3.0 was given', () => {
    // What the SDK posts for `client.track({ ..., timestamp: new Date('2011-...') })` called just now:
    // originalTimestamp and both sentAt are the call and send times, timestamp is the caller's.
    const now = (ms: number) => new Date(RECEIVED_AT - ms).toISOString();
    const order = (id: string, timestamp: string) => ({
      type: 'track',
      event: 'Order Completed',
      userId: '12347',
      messageId: id,
      timestamp,
      originalTimestamp: now(2_000),
      sentAt: now(1_000),
      properties: { order_id: id, revenue: 20.5, currency: 'GBP' },
      context: { library: { name: 'analytics-node', version: '3.0.13' } },
      channel: 'server',
      _metadata: { nodeVersion: '20.20.2' },
      rudderId: 'a9ba2bd2-1f5e-4b6c-8a27-0f7f4a77e3c1',
    });
    const body = {
      batch: [order('o-1', '2011-01-26T10:47:00.000Z'), order('o-2', '1999-06-30T08:00:00.000Z')],
      sentAt: now(1_000),
    };
    const routed = route('batch', body);
    expect(routed.rejected).toEqual([]);
    expect(routed.accepted.map((e) => [e.messageId, e.timestamp])).toEqual([
      ['o-1', '2011-01-26T10:47:00.000Z'],
      ['o-2', '1999-06-30T08:00:00.000Z'],
    ]);
  });
});

describe('the 32 KB per-event limit', () => {
  it('rejects an event of 33,000 bytes in a 40 KB batch and accepts its neighbours', () => {
    const batch = [eventOfSize(3_000, 'm-0'), eventOfSize(33_000, 'm-1'), eventOfSize(3_000, 'm-2')];
    expect(bytesOf(batch[1])).toBe(33_000);
    const body = { batch };
    expect(bytesOf(body)).toBeGreaterThan(39_000);
    expect(bytesOf(body)).toBeLessThan(40 * 1024);

    const { accepted, rejected } = route('batch', body);
    expect(accepted.map((e) => e.messageId)).toEqual(['m-0', 'm-2']);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.index).toBe(1);
    expect(rejected[0]?.messageId).toBe('m-1');
    expect(pathsAndCodes(rejected[0]?.issues ?? [])).toEqual([['(root)', 'event_too_large']]);
    expect(rejected[0]?.issues[0]?.message).toContain('33000');
  });

  it('accepts an event of exactly 32 KB and rejects one byte more', () => {
    const { accepted, rejected } = route('batch', {
      batch: [eventOfSize(MAX_EVENT_BYTES, 'at-limit'), eventOfSize(MAX_EVENT_BYTES + 1, 'over')],
    });
    expect(accepted.map((e) => e.messageId)).toEqual(['at-limit']);
    expect(rejected.map((r) => r.messageId)).toEqual(['over']);
  });

  it('applies to single-event routes too', () => {
    const { type: _t, ...body } = eventOfSize(MAX_EVENT_BYTES + 100, 'single');
    const { accepted, rejected } = route('track', body);
    expect(accepted).toEqual([]);
    expect(pathsAndCodes(rejected[0]?.issues ?? [])).toEqual([['(root)', 'event_too_large']]);
  });
});

describe('single-event routes', () => {
  it('take the type from the route, overriding a type in the body', () => {
    const { accepted, rejected } = route('track', { type: 'identify', event: 'Signed Up', userId: 'u1' });
    expect(rejected).toEqual([]);
    expect(accepted.map((e) => [e.type, e.event])).toEqual([['track', 'Signed Up']]);
  });

  it('validate the body against the route type', () => {
    const { rejected } = route('group', { type: 'identify', userId: 'u1' });
    expect(rejected.map((r) => [r.index, pathsAndCodes(r.issues)])).toEqual([[0, [['groupId', 'required']]]]);
  });

  it('keep a body writeKey (a credential) out of the event and of what is quarantined', () => {
    const { rejected } = route('track', { writeKey: 'wk_secret', userId: 'u1' });
    expect(rejected).toHaveLength(1);
    expect(JSON.stringify(rejected[0]?.raw)).not.toContain('wk_secret');
    const { accepted } = route('track', { writeKey: 'wk_secret', userId: 'u1', event: 'Signed Up' });
    expect(JSON.stringify(accepted)).not.toContain('wk_secret');
  });

  it.each([
    ['null', null],
    ['an array', [{ type: 'track', event: 'x', userId: 'u' }]],
    ['a string', 'track'],
    ['a number', 42],
    ['absent', undefined],
  ])('refuse a body that is %s, naming the root', (_what, body) => {
    const invalid = invalidOf('identify', body);
    expect(invalid.message).toBe('The request body must be a JSON object (one event).');
    expect(pathsAndCodes(invalid.issues)).toEqual([['(root)', 'invalid_type']]);
  });
});

describe('invalid batch bodies', () => {
  it.each([
    ['no batch', { sentAt: '2026-11-22T14:00:00Z' }, [['batch', 'required']]],
    ['an empty batch', { batch: [] }, [['batch', 'too_short']]],
    ['a batch that is not an array', { batch: { type: 'track' } }, [['batch', 'invalid_type']]],
    ['a bad batch sentAt', { batch: [{}], sentAt: 'now' }, [['sentAt', 'invalid_value']]],
    ['a non-object batch context', { batch: [{}], context: 'web' }, [['context', 'invalid_type']]],
    [
      'a non-object batch integrations',
      { batch: [{}], integrations: [] },
      [['integrations', 'invalid_type']],
    ],
    ['an array body', [{ type: 'track' }], [['(root)', 'invalid_type']]],
    ['a null body', null, [['(root)', 'invalid_type']]],
  ])('refuse %s with issues that name the path', (_what, body, expected) => {
    const invalid = invalidOf('batch', body);
    expect(invalid.message).toBe('The request body is not a valid batch.');
    expect(pathsAndCodes(invalid.issues)).toEqual(expected);
  });

  it('keep non-object batch entries as rejected events instead of failing the request', () => {
    const { accepted, rejected } = route('batch', {
      context: { locale: 'en-US' },
      batch: ['track', null, { type: 'identify', userId: 'u1' }],
    });
    expect(accepted).toHaveLength(1);
    expect(rejected.map((r) => [r.index, pathsAndCodes(r.issues)])).toEqual([
      [0, [['(root)', 'invalid_type']]],
      [1, [['(root)', 'invalid_type']]],
    ]);
  });
});
