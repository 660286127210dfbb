// The tracking spec as clients meet it: each call type accepted when well-formed, and every rejection
// naming the field path and the reason code a client can act on.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { prepareEvent, routeRequest } from '../../lib/ingest/route.js';
import { MAX_ID_LENGTH, toFieldIssues } from '../../lib/ingest/spec.js';
import { defaultQuality, pathsAndCodes, RECEIVED_AT, requestContext, SOURCE_ID } from './factories.js';

const quality = defaultQuality();
const prepare = (raw: unknown) => prepareEvent(raw, requestContext(), quality);

/** The issues of a rejected event as [path, code]; fails the test if the event was accepted. */
function rejection(raw: unknown): [string, string][] {
  const result = prepare(raw);
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.event)}`);
  for (const issue of result.issues) expect(issue.message).not.toBe('');
  return pathsAndCodes(result.issues);
}

function accepted(raw: unknown) {
  const result = prepare(raw);
  if (!result.ok) throw new Error(`expected acceptance, got ${JSON.stringify(result.issues)}`);
  return result.event;
}

const VALID = {
  track: { type: 'track', event: 'Signed Up', userId: 'u1', properties: { plan: 'pro' } },
  identify: { type: 'identify', userId: 'u1', traits: { plan: 'pro' } },
  page: { type: 'page', anonymousId: 'a1', name: 'Home', category: 'Docs', properties: { path: '/' } },
  screen: { type: 'screen', anonymousId: 'a1', name: 'Settings', properties: { tab: 'privacy' } },
  group: { type: 'group', userId: 'u1', groupId: 'g1', traits: { employees: 12 } },
  alias: { type: 'alias', userId: 'u1', previousId: 'a1' },
} as const;

describe('the six call types', () => {
  it('accepts a minimal track event with its name and properties', () => {
    const e = accepted(VALID.track);
    expect(e).toMatchObject({ type: 'track', event: 'Signed Up', userId: 'u1', properties: { plan: 'pro' } });
  });

  it('accepts identify with traits', () => {
    expect(accepted(VALID.identify)).toMatchObject({
      type: 'identify',
      userId: 'u1',
      traits: { plan: 'pro' },
    });
  });

  it('accepts page and screen with name, category and properties', () => {
    expect(accepted(VALID.page)).toMatchObject({
      type: 'page',
      anonymousId: 'a1',
      name: 'Home',
      category: 'Docs',
    });
    expect(accepted(VALID.screen)).toMatchObject({
      type: 'screen',
      name: 'Settings',
      properties: { tab: 'privacy' },
    });
  });

  it('accepts group with its groupId and alias with its previousId', () => {
    expect(accepted(VALID.group)).toMatchObject({ type: 'group', groupId: 'g1', traits: { employees: 12 } });
    expect(accepted(VALID.alias)).toMatchObject({ type: 'alias', userId: 'u1', previousId: 'a1' });
  });

  it('stamps every accepted event with the source and the receive time', () => {
    for (const raw of Object.values(VALID)) {
      const e = accepted(raw);
      expect(e.sourceId).toBe(SOURCE_ID);
      expect(e.receivedAt).toBe(new Date(RECEIVED_AT).toISOString());
    }
  });

  it.each(['track', 'identify', 'page', 'screen', 'group'] as const)(
    'rejects %s without userId and anonymousId at path userId',
    (type) => {
      const { userId: _u, anonymousId: _a, ...rest } = { userId: 'u', anonymousId: 'a', ...VALID[type] };
      expect(rejection(rest)).toEqual([['userId', 'required']]);
    },
  );

  it.each([
    ['track', 'event'],
    ['group', 'groupId'],
    ['alias', 'userId'],
    ['alias', 'previousId'],
  ] as const)('rejects %s without %s as required', (type, field) => {
    const raw: Record<string, unknown> = { ...VALID[type] };
    delete raw[field];
    expect(rejection(raw)).toEqual([[field, 'required']]);
  });

  it('rejects an alias that has an anonymousId but no userId: alias needs the new userId', () => {
    expect(rejection({ type: 'alias', anonymousId: 'a1', previousId: 'a0' })).toEqual([
      ['userId', 'required'],
    ]);
  });

  it('rejects a batch event without type, or with an unknown type, at path type', () => {
    const { type: _t, ...untyped } = VALID.identify;
    expect(rejection(untyped)).toEqual([['type', 'required']]);
    expect(rejection({ ...VALID.identify, type: 'purchase' })).toEqual([['type', 'invalid_type']]);
  });

  it('rejects a track event whose name is blank, too long or not a string', () => {
    expect(rejection({ ...VALID.track, event: '' })).toEqual([['event', 'too_short']]);
    expect(rejection({ ...VALID.track, event: '   ' })).toEqual([['event', 'too_short']]);
    expect(rejection({ ...VALID.track, event: 'x'.repeat(201) })).toEqual([['event', 'too_long']]);
    expect(rejection({ ...VALID.track, event: 42 })).toEqual([['event', 'invalid_type']]);
  });
});

describe('object fields', () => {
  it.each([
    ['track', 'properties'],
    ['page', 'properties'],
    ['screen', 'properties'],
    ['identify', 'traits'],
    ['group', 'traits'],
  ] as const)('rejects a non-object %s.%s (string, array, number, null)', (type, field) => {
    for (const bad of ['plan=pro', ['pro'], 3, null]) {
      expect(rejection({ ...VALID[type], [field]: bad })).toEqual([[field, 'invalid_type']]);
    }
  });

  it('rejects a non-object context or integrations, and a non-object context.traits', () => {
    expect(rejection({ ...VALID.track, context: 'web' })).toEqual([['context', 'invalid_type']]);
    expect(rejection({ ...VALID.track, context: [] })).toEqual([['context', 'invalid_type']]);
    expect(rejection({ ...VALID.track, integrations: true })).toEqual([['integrations', 'invalid_type']]);
    expect(rejection({ ...VALID.track, context: { traits: 'vip' } })).toEqual([
      ['context.traits', 'invalid_type'],
    ]);
  });

  it('passes unknown context fields through untouched', () => {
    const context = { ip: '203.0.113.9', page: { path: '/cart' }, campaign: { source: 'mail' } };
    expect(accepted({ ...VALID.track, context }).context).toEqual(context);
  });

  it('reports every bad field of one event, not only the first', () => {
    const issues = rejection({ type: 'track', event: 7, userId: 'u1', properties: 'x', timestamp: 'now' });
    expect(issues).toEqual(
      expect.arrayContaining([
        ['event', 'invalid_type'],
        ['properties', 'invalid_type'],
        ['timestamp', 'invalid_value'],
      ]),
    );
    expect(issues).toHaveLength(3);
  });
});

describe('timestamps', () => {
  it.each(['timestamp', 'originalTimestamp', 'sentAt'] as const)(
    'rejects a %s that is not a date-time',
    (field) => {
      expect(rejection({ ...VALID.identify, [field]: 'yesterday' })).toEqual([[field, 'invalid_value']]);
      expect(rejection({ ...VALID.identify, [field]: '2024-13-01T00:00:00Z' })).toEqual([
        [field, 'invalid_value'],
      ]);
      expect(rejection({ ...VALID.identify, [field]: '01/05/2024 12:30' })).toEqual([
        [field, 'invalid_value'],
      ]);
      expect(rejection({ ...VALID.identify, [field]: 1714566600000 })).toEqual([[field, 'invalid_type']]);
    },
  );

  it('rejects impossible calendar dates that Date.parse would roll over to the next month', () => {
    for (const impossible of [
      '2024-02-30',
      '2023-02-29T10:00:00Z',
      '2024-04-31T10:00:00+02:00',
      '2024-06-31',
    ]) {
      expect(rejection({ ...VALID.identify, timestamp: impossible }), impossible).toEqual([
        ['timestamp', 'invalid_value'],
      ]);
    }
    expect(accepted({ ...VALID.identify, timestamp: '2024-02-29T10:00:00Z' }).timestamp).toBe(
      '2024-02-29T10:00:00.000Z',
    );
    expect(accepted({ ...VALID.identify, timestamp: '2000-02-29' }).timestamp).toBe(
      '2000-02-29T00:00:00.000Z',
    );
    expect(rejection({ ...VALID.identify, timestamp: '1900-02-29' })).toEqual([
      ['timestamp', 'invalid_value'],
    ]);
  });

  it('accepts the ISO-8601 forms clients send: Z, offsets with and without colon, fractions, date only', () => {
    const cases = [
      ['2024-05-01T12:30:00.000Z', '2024-05-01T12:30:00.000Z'],
      ['2024-05-01T14:30:00+02:00', '2024-05-01T12:30:00.000Z'],
      ['2024-05-01T07:30:00-0500', '2024-05-01T12:30:00.000Z'],
      ['2024-05-01T12:30:00.123456Z', '2024-05-01T12:30:00.123Z'],
      ['2024-05-01 12:30:00Z', '2024-05-01T12:30:00.000Z'],
      ['2024-05-01', '2024-05-01T00:00:00.000Z'],
    ] as const;
    for (const [sent, utc] of cases) {
      // Without sentAt the client's timestamp stands, so the normalized value is the sent instant in UTC.
      expect(accepted({ ...VALID.identify, timestamp: sent }).timestamp).toBe(utc);
    }
  });
});

describe('identifiers', () => {
  it('rejects empty and blank ids as too short', () => {
    expect(rejection({ ...VALID.identify, userId: '' })).toEqual([['userId', 'too_short']]);
    expect(rejection({ ...VALID.identify, userId: '  \t' })).toEqual([['userId', 'too_short']]);
    expect(rejection({ ...VALID.page, anonymousId: '' })).toEqual([['anonymousId', 'too_short']]);
    expect(rejection({ ...VALID.group, groupId: '' })).toEqual([['groupId', 'too_short']]);
    expect(rejection({ ...VALID.alias, previousId: ' ' })).toEqual([['previousId', 'too_short']]);
  });

  it(`accepts an id of ${MAX_ID_LENGTH} characters and rejects one more`, () => {
    expect(accepted({ ...VALID.identify, userId: 'u'.repeat(MAX_ID_LENGTH) }).userId).toHaveLength(
      MAX_ID_LENGTH,
    );
    expect(rejection({ ...VALID.identify, userId: 'u'.repeat(MAX_ID_LENGTH + 1) })).toEqual([
      ['userId', 'too_long'],
    ]);
  });

  it('trims ids', () => {
    expect(accepted({ ...VALID.identify, userId: '  u1 ' }).userId).toBe('u1');
  });

  it('coerces numeric ids (CRM exports) to strings', () => {
    const e = accepted({ type: 'group', userId: 17850, anonymousId: 4.5, groupId: 12 });
    expect(e).toMatchObject({ userId: '17850', anonymousId: '4.5', groupId: '12' });
    expect(accepted({ type: 'alias', userId: 2, previousId: 1 })).toMatchObject({
      userId: '2',
      previousId: '1',
    });
  });

  it('rejects ids of other types', () => {
    expect(rejection({ ...VALID.identify, userId: true })).toEqual([['userId', 'invalid_type']]);
    expect(rejection({ ...VALID.identify, userId: { id: 1 } })).toEqual([['userId', 'invalid_type']]);
    expect(rejection({ ...VALID.group, groupId: ['g'] })).toEqual([['groupId', 'invalid_type']]);
  });

  it('treats userId: null as absent, as analytics.js sends it for anonymous visitors', () => {
    const e = accepted({ type: 'track', event: 'Clicked', userId: null, anonymousId: 'a1' });
    expect(e.anonymousId).toBe('a1');
    expect('userId' in e).toBe(false);
    expect(rejection({ type: 'track', event: 'Clicked', userId: null })).toEqual([['userId', 'required']]);
    expect(rejection({ type: 'track', event: 'Clicked', userId: null, anonymousId: null })).toEqual([
      ['userId', 'required'],
    ]);
  });

  it('does not accept null where an id is required (alias userId, groupId)', () => {
    expect(rejection({ type: 'alias', userId: null, previousId: 'a1' })).toEqual([
      ['userId', 'invalid_type'],
    ]);
    expect(rejection({ ...VALID.group, groupId: null })).toEqual([['groupId', 'invalid_type']]);
  });

  it('rejects a blank or overlong messageId and trims a good one', () => {
    expect(rejection({ ...VALID.identify, messageId: ' ' })).toEqual([['messageId', 'too_short']]);
    expect(rejection({ ...VALID.identify, messageId: 'm'.repeat(201) })).toEqual([['messageId', 'too_long']]);
    expect(accepted({ ...VALID.identify, messageId: ' m-1 ' }).messageId).toBe('m-1');
  });
});

describe('single-event routes', () => {
  const route = (type: 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias', body: unknown) =>
    routeRequest(type, body, requestContext(), { quality, bodyBytes: JSON.stringify(body).length });

  it.each(Object.keys(VALID) as (keyof typeof VALID)[])('accepts a %s body that leaves out type', (type) => {
    const { type: _t, ...body } = VALID[type];
    const routed = route(type, body);
    expect(routed.rejected).toEqual([]);
    expect(routed.accepted.map((e) => e.type)).toEqual([type]);
  });

  it('reports the same paths and codes through the route as through prepareEvent', () => {
    const routed = route('alias', { userId: 'u1' });
    expect(routed.accepted).toEqual([]);
    expect(routed.rejected.map((r) => [r.index, pathsAndCodes(r.issues)])).toEqual([
      [0, [['previousId', 'required']]],
    ]);
  });
});

describe('field issue paths', () => {
  it('mask an e-mail or phone number a client used as a key (they are stored with quarantined events)', () => {
    const input = { properties: { 'jane@x.com': 'a', '+44 7700 900123': 'b' } };
    const parsed = z.object({ properties: z.record(z.string(), z.number()) }).safeParse(input);
    expect(parsed.success).toBe(false);
    const issues = parsed.success ? [] : toFieldIssues(parsed.error, input);
    expect(issues).toHaveLength(2);
    const text = JSON.stringify(issues);
    expect(text).not.toContain('jane@x.com');
    expect(text).not.toContain('7700 900123');
  });
});
