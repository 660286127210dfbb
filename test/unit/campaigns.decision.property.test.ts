// Properties of the send decision over random campaigns, consents, addresses, histories, settings, zones
// and clocks: a customer who unsubscribed, is suppressed on every campaign channel or has no consent for
// the purpose is never sent nor deferred; a send always goes through a consenting, reachable, unsuppressed
// channel with content, within every cap of the customer's local day and week, at an instant outside quiet
// hours; and the same input always gives the same decision.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConsentRecord } from '../../lib/campaigns/consent.js';
import { type Decision, type DecisionInput, decide } from '../../lib/campaigns/decision.js';
import { addDays, inQuietHours, localDate, zoneOr } from '../../lib/campaigns/localTime.js';
import {
  CampaignDefinition,
  CHANNELS,
  type Channel,
  PURPOSES,
  type Purpose,
} from '../../lib/campaigns/model.js';

const DAY = 86_400_000;
const ZONES = [
  'UTC',
  'America/New_York',
  'Asia/Shanghai',
  'Australia/Lord_Howe',
  'Europe/London',
  'Not/AZone',
];
const RUNS = 3_000;

const hhmm = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45))
  .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const quietHours = fc.record({ start: hhmm, end: hhmm });
const channels = fc.shuffledSubarray([...CHANNELS], { minLength: 1 });
const channelMap = <T>(value: fc.Arbitrary<T>) =>
  fc.record(Object.fromEntries(CHANNELS.map((ch) => [ch, value])) as Record<Channel, fc.Arbitrary<T>>, {
    requiredKeys: [],
  });

const CONTENT = {
  email: { subject: 's', html: 'h', text: 't' },
  sms: { text: 't' },
  push: { title: 't', body: 'b' },
  webhook: { body: '{}' },
};

const campaign = fc
  .record({
    channels,
    purpose: fc.constantFrom(...PURPOSES),
    whenCapped: fc.constantFrom('skip', 'defer', 'next_channel'),
    quietHours: fc.option(fc.record({ start: hhmm, end: hhmm, action: fc.constantFrom('defer', 'drop') }), {
      nil: undefined,
    }),
    sendTime: fc.oneof(
      fc.constant({ mode: 'immediate' }),
      fc.record({
        mode: fc.constant('best'),
        fallbackHour: fc.integer({ min: 0, max: 23 }),
        withinHours: fc.integer({ min: 1, max: 48 }),
      }),
    ),
    holdoutPercent: fc.constantFrom(0, 10, 50),
    reentry: fc.oneof(
      fc.constant({ mode: 'once' }),
      fc.record({ mode: fc.constant('cooldown'), days: fc.integer({ min: 0, max: 30 }) }),
    ),
    variants: fc.array(
      fc.record({
        weight: fc.integer({ min: 1, max: 5 }),
        channels: fc.subarray([...CHANNELS], { minLength: 1 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ variants, ...c }) =>
    CampaignDefinition.parse({
      id: 'prop-campaign',
      name: 'Property',
      trigger: { type: 'event', event: 'Product Added' },
      ...c,
      variants: variants.map((v, i) => ({
        id: `v${i}`,
        weight: v.weight,
        content: Object.fromEntries(v.channels.map((ch) => [ch, CONTENT[ch]])),
      })),
    }),
  );

const record = (status: 'granted' | 'revoked'): ConsentRecord => ({
  status,
  source: 'web-form',
  at: '2026-01-01T00:00:00.000Z',
});
/** A value one time in four, else undefined. */
const rarely = <T>(value: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value });
const mostly = fc.oneof(
  { weight: 3, arbitrary: fc.constant(true) },
  { weight: 1, arbitrary: fc.constant(false) },
);
/** Mostly granted, so that sends are common enough for their property to be exercised. */
const consentOf = fc.oneof(
  { weight: 3, arbitrary: fc.constant<ConsentRecord | undefined>(record('granted')) },
  { weight: 1, arbitrary: fc.constant<ConsentRecord | undefined>(record('revoked')) },
  { weight: 1, arbitrary: fc.constant<ConsentRecord | undefined>(undefined) },
);
const cap = fc
  .integer({ min: 0, max: 4 })
  .chain((perDay) => fc.integer({ min: perDay, max: 10 }).map((perWeek) => ({ perDay, perWeek })));
/** Most days without a send. */
const daySends = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: channelMap(fc.nat(2)) },
);

/** The campaign's last entry, `daysAgo` days before now. */
function entriesOf(now: number, daysAgo: number | undefined): DecisionInput['messaging']['entries'] {
  if (daysAgo === undefined) return {};
  return { 'prop-campaign': { triggerKey: 'k0', at: new Date(now - daysAgo * DAY).toISOString() } };
}

const decisionInput: fc.Arbitrary<DecisionInput> = fc
  .record({
    campaign,
    customerId: fc.string({ minLength: 1, maxLength: 12 }),
    now: fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-12-31T00:00:00Z') }),
    ageMinutes: fc.integer({ min: 0, max: 30 * 60 }),
    deferredMinutes: rarely(fc.integer({ min: 0, max: 3 * 24 * 60 })),
    timezone: fc.option(fc.constantFrom(...ZONES), { nil: undefined }),
    defaultZone: fc.constantFrom(...ZONES),
    reachable: fc.record({ email: mostly, sms: mostly, push: mostly }),
    activeHours: fc.option(fc.array(fc.nat(20), { minLength: 24, maxLength: 24 }), { nil: undefined }),
    engagement: fc.option(
      channelMap(
        fc
          .nat(50)
          .chain((sent) =>
            fc.record({ sent: fc.constant(sent), opened: fc.nat(sent), clicked: fc.nat(sent) }),
          ),
      ),
      { nil: undefined },
    ),
    consent: fc.record(
      Object.fromEntries(PURPOSES.map((p) => [p, channelMap(consentOf)])) as Record<
        Purpose,
        fc.Arbitrary<Partial<Record<Channel, ConsentRecord | undefined>>>
      >,
    ),
    unsubscribe: fc.constantFrom<ConsentRecord | undefined>(
      undefined,
      undefined,
      record('granted'),
      record('revoked'),
    ),
    suppressed: channelMap(rarely(fc.constant(true))),
    /** Sends on the 9 local days up to today (two of them outside the week). */
    history: fc.array(daySends, { minLength: 9, maxLength: 9 }),
    enteredDaysAgo: rarely(fc.integer({ min: 0, max: 40 })),
    caps: fc.record({ email: cap, sms: cap, push: cap, webhook: cap, all: cap }),
    stageQuiet: fc.option(quietHours, { nil: undefined }),
    controlPercent: fc.integer({ min: 1, max: 15 }),
    unknownConsentGranted: fc.subarray([...PURPOSES]),
    webhookConfigured: fc.boolean(),
  })
  .map((r) => {
    const zone = zoneOr(r.timezone, r.defaultZone);
    const today = localDate(r.now, zone);
    const caps = Object.fromEntries(
      r.history.map((channels, back) => {
        const counts = Object.fromEntries(Object.entries(channels).filter(([, n]) => n !== undefined));
        const overall = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
        return [addDays(today, -back), { overall, channels: counts }];
      }),
    );
    const consent = Object.fromEntries(
      Object.entries(r.consent).map(([p, byChannel]) => [
        p,
        Object.fromEntries(Object.entries(byChannel).filter(([, c]) => c !== undefined)),
      ]),
    );
    const suppressed = Object.fromEntries(
      CHANNELS.filter((ch) => r.suppressed[ch]).map((ch) => [
        ch,
        {
          channel: ch,
          addressHash: `hash-${ch}`,
          reason: 'hard_bounce' as const,
          at: '2026-01-01T00:00:00.000Z',
        },
      ]),
    );
    return {
      campaign: r.campaign,
      candidate: {
        customerId: r.customerId,
        triggerKey: 'k',
        eventAt: r.now - r.ageMinutes * 60_000 - (r.deferredMinutes ?? 0) * 60_000,
        now: r.now,
        firstDecidedAt: r.deferredMinutes === undefined ? undefined : r.now - r.deferredMinutes * 60_000,
      },
      customer: {
        timezone: r.timezone,
        reachable: r.reachable,
        activeHours: r.activeHours,
        engagement: r.engagement,
      },
      messaging: {
        consent,
        unsubscribe: r.unsubscribe,
        suppressed,
        caps,
        entries: entriesOf(r.now, r.enteredDaysAgo),
      },
      settings: {
        caps: r.caps,
        quietHours: r.stageQuiet,
        controlPercent: r.controlPercent,
        salt: 'property-salt',
        defaultZone: r.defaultZone,
        unknownConsentGranted: r.unknownConsentGranted,
        webhookConfigured: r.webhookConfigured,
      },
    } satisfies DecisionInput;
  });

/** Whether the customer consents to the campaign's purpose on `ch` (explicitly, or unknown where allowed). */
function consents(x: DecisionInput, ch: Channel): boolean {
  const status = x.messaging.consent[x.campaign.purpose]?.[ch]?.status;
  return (
    status === 'granted' ||
    (status === undefined && x.settings.unknownConsentGranted.includes(x.campaign.purpose))
  );
}

/** Sends counted independently of the decision: today's and the 7 local days', per channel and overall. */
function counts(x: DecisionInput, zone: string, ch: Channel | 'all') {
  const today = localDate(x.candidate.now, zone);
  let day = 0;
  let week = 0;
  for (let back = 0; back < 7; back++) {
    const d = x.messaging.caps[addDays(today, -back)];
    const n = ch === 'all' ? (d?.overall ?? 0) : (d?.channels[ch] ?? 0);
    week += n;
    if (back === 0) day += n;
  }
  return { day, week };
}

/** What a send must satisfy. */
function expectUsable(x: DecisionInput, d: Decision, zone: string) {
  const ch = d.channel;
  if (ch === undefined || d.sendAt === undefined)
    throw new Error(`a send without channel or time: ${d.explain}`);
  expect(x.campaign.channels).toContain(ch);
  expect(consents(x, ch)).toBe(true);
  expect(x.messaging.unsubscribe?.status).not.toBe('revoked');
  expect(x.messaging.suppressed[ch]).toBeUndefined();
  expect(ch === 'webhook' ? x.settings.webhookConfigured : x.customer.reachable[ch]).toBe(true);
  expect(x.campaign.variants.find((v) => v.id === d.variant)?.content[ch]).toBeDefined();
  for (const key of [ch, 'all'] as const) {
    const { day, week } = counts(x, zone, key);
    expect(day).toBeLessThan(x.settings.caps[key].perDay);
    expect(week).toBeLessThan(x.settings.caps[key].perWeek);
  }
  expect(d.sendAt).toBeGreaterThanOrEqual(x.candidate.now);
  const quiet = x.campaign.quietHours ?? x.settings.quietHours;
  if (quiet) expect(inQuietHours(d.sendAt, quiet, zone)).toBe(false);
  if (x.campaign.sendTime.mode === 'immediate') expect(d.sendAt).toBe(x.candidate.now);
}

describe('send decision properties', () => {
  it('never sends nor defers to a customer who opted out, is suppressed everywhere or never consented', () => {
    fc.assert(
      fc.property(decisionInput, (x) => {
        const d = decide(x);
        const unsubscribed = x.messaging.unsubscribe?.status === 'revoked';
        const allSuppressed = x.campaign.channels.every((ch) => x.messaging.suppressed[ch] !== undefined);
        const explicitOnly = { ...x, settings: { ...x.settings, unknownConsentGranted: [] } };
        const neverGranted = !x.campaign.channels.some((ch) => consents(explicitOnly, ch));
        if (unsubscribed || allSuppressed) expect(['skip', 'control', 'holdout']).toContain(d.outcome);
        if (unsubscribed) expect(d.outcome).toBe('skip');
        // Without an explicit grant and under the default policy: never contacted, never counted.
        const d2 = decide(explicitOnly);
        if (unsubscribed || neverGranted) expect(d2.outcome).toBe('skip');
      }),
      { numRuns: RUNS },
    );
  });

  it('sends only through a usable channel within every cap, outside quiet hours, not before now', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(decisionInput, (x) => {
        const d = decide(x);
        outcomes.set(d.outcome, (outcomes.get(d.outcome) ?? 0) + 1);
        const zone = zoneOr(x.customer.timezone, x.settings.defaultZone);
        const quiet = x.campaign.quietHours ?? x.settings.quietHours;
        if (d.outcome === 'defer') {
          expect(d.sendAt).toBeGreaterThan(x.candidate.now);
          expect(quiet && d.sendAt !== undefined && inQuietHours(d.sendAt, quiet, zone)).toBeFalsy();
        }
        if (d.outcome === 'send') expectUsable(x, d, zone);
      }),
      { numRuns: RUNS },
    );
    // The random inputs reach every outcome, sends often enough (about 3 %) for the checks above to mean something.
    expect([...outcomes.keys()].sort()).toEqual(['control', 'defer', 'holdout', 'send', 'skip']);
    expect(outcomes.get('send')).toBeGreaterThan(RUNS / 100);
  });

  it('is deterministic: the same input (or a copy) gives the same decision', () => {
    fc.assert(
      fc.property(decisionInput, (x) => {
        const d = decide(x);
        expect(decide(structuredClone(x))).toEqual(d);
      }),
      { numRuns: 500 },
    );
  });
});
