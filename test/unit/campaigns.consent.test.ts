// Consent is latest-wins whatever the order records arrive in (a revocation wins a tie), and the consent
// an event carries is read from identify traits and `Consent Updated` tracks, stamped with the event's time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ConsentRecord,
  type ConsentStatus,
  consentFromActivity,
  supersedes,
} from '../../lib/campaigns/consent.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** What a store holds after applying records in the given order with `supersedes`. */
const applyAll = (records: readonly ConsentRecord[]) =>
  records.reduce<ConsentRecord | undefined>(
    (current, next) => (supersedes(next, current) ? next : current),
    undefined,
  );

const record = fc.record({
  status: fc.constantFrom<ConsentStatus>('granted', 'revoked'),
  source: fc.constantFrom('web-form', 'api', 'import', 'complaint'),
  // Few distinct instants, so that ties happen.
  at: fc.integer({ min: 0, max: 5 }).map((m) => iso(T0 + m * 60_000)),
});

describe('latest consent wins', () => {
  it('ends on the latest record whatever order the records arrive in', () => {
    const arrivals = fc
      .array(record, { minLength: 1, maxLength: 12 })
      .chain((records) =>
        fc.tuple(fc.constant(records), fc.shuffledSubarray(records, { minLength: records.length })),
      );
    fc.assert(
      fc.property(arrivals, ([records, shuffled]) => {
        const latest = records
          .map((r) => r.at)
          .sort()
          .at(-1);
        const atLatest = records.filter((r) => r.at === latest);
        const expected = atLatest.some((r) => r.status === 'revoked') ? 'revoked' : 'granted';
        for (const order of [records, shuffled, [...records].reverse()]) {
          expect(applyAll(order)).toMatchObject({ status: expected, at: latest });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never lets an older record override a newer one', () => {
    const newer: ConsentRecord = { status: 'revoked', source: 'web-form', at: iso(T0 + 1000) };
    expect(supersedes({ status: 'granted', at: iso(T0) }, newer)).toBe(false);
    expect(supersedes({ status: 'granted', at: iso(T0 + 1000) }, newer)).toBe(false);
    expect(supersedes({ status: 'granted', at: iso(T0 + 1001) }, newer)).toBe(true);
    expect(supersedes({ status: 'revoked', at: iso(T0 + 1000) }, { ...newer, status: 'granted' })).toBe(true);
  });
});

describe('consentFromActivity', () => {
  const at = '2026-12-01T10:00:00.000Z';

  it('reads the consent map of an identify, ignoring unknown purposes, channels and values', () => {
    const changes = consentFromActivity({
      type: 'identify',
      timestamp: '2026-12-01T11:00:00+01:00',
      traits: {
        email: 'jane@example.com',
        consent: {
          marketing: { email: true, sms: false, fax: true, push: 'maybe' },
          recommendations: { push: 'granted', webhook: 'revoked' },
          profiling: { email: true },
        },
      },
    });
    expect(changes).toEqual([
      { purpose: 'marketing', channel: 'email', status: 'granted', source: 'event', at },
      { purpose: 'marketing', channel: 'sms', status: 'revoked', source: 'event', at },
      { purpose: 'recommendations', channel: 'push', status: 'granted', source: 'event', at },
      { purpose: 'recommendations', channel: 'webhook', status: 'revoked', source: 'event', at },
    ]);
  });

  it('reads a Consent Updated track: one choice, or the same map, with its source when it is a label', () => {
    expect(
      consentFromActivity({
        type: 'track',
        event: 'Consent Updated',
        timestamp: at,
        properties: { purpose: 'marketing', channel: 'sms', granted: false, source: 'pos' },
      }),
    ).toEqual([{ purpose: 'marketing', channel: 'sms', status: 'revoked', source: 'pos', at }]);
    expect(
      consentFromActivity({
        type: 'track',
        event: 'Consent Updated',
        timestamp: at,
        properties: { consent: { marketing: { push: true } }, source: 'Not A Label!' },
      }),
    ).toEqual([{ purpose: 'marketing', channel: 'push', status: 'granted', source: 'event', at }]);
  });

  it('finds nothing in other events, in traits without consent, or without a readable time', () => {
    const cases = [
      {
        type: 'track',
        event: 'Order Completed',
        timestamp: at,
        properties: { purpose: 'marketing', channel: 'email', granted: true },
      },
      { type: 'identify', timestamp: at, traits: { consent: 'yes' } },
      { type: 'identify', timestamp: at, traits: { name: 'Jane' } },
      { type: 'identify', timestamp: 'yesterday', traits: { consent: { marketing: { email: true } } } },
      { type: 'page', timestamp: at, properties: { consent: { marketing: { email: true } } } },
    ];
    for (const activity of cases) expect(consentFromActivity(activity), JSON.stringify(activity)).toEqual([]);
  });
});
