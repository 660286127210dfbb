// The send decision, check by check: every reason of DECISION_REASONS reached from a candidate that would
// otherwise be sent an e-mail now; caps by local calendar day; quiet hours across midnight and DST in New
// York, Shanghai and Lord Howe; best send time; determinism.
import { describe, expect, it } from 'vitest';
import { inGlobalControl, inHoldout } from '../../lib/campaigns/assignment.js';
import {
  capDays,
  countByLocalDay,
  DECISION_REASONS,
  type Decision,
  type DecisionInput,
  type DecisionReason,
  decide,
  engagementScore,
  localDay,
  PRIOR_RATE,
  reservationCaps,
} from '../../lib/campaigns/decision.js';
import { localDate } from '../../lib/campaigns/localTime.js';
import {
  campaign,
  granted,
  idWhere,
  input,
  NOW,
  ordinaryId,
  revoked,
  SALT,
  settings,
} from './campaigns.decision.factories.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);
const base = input();
const reached = new Set<DecisionReason>();

/** decide, remembering the reason (the last test checks every reason was reached). */
function decideNoting(x: DecisionInput): Decision {
  const d = decide(x);
  reached.add(d.reason);
  expect(d.explain.length).toBeGreaterThan(0);
  return d;
}

const withMessaging = (over: Partial<DecisionInput['messaging']>): DecisionInput => ({
  ...base,
  messaging: { ...base.messaging, ...over },
});
const withCandidate = (over: Partial<DecisionInput['candidate']>): DecisionInput => ({
  ...base,
  candidate: { ...base.candidate, ...over },
});
const withCampaign = (over: Record<string, unknown>, x: DecisionInput = base): DecisionInput => ({
  ...x,
  campaign: campaign(over),
});

describe('a candidate with consent, an address and room under the caps', () => {
  it('is sent an e-mail now, with its variant', () => {
    expect(decideNoting(base)).toMatchObject({
      outcome: 'send',
      reason: 'immediate',
      channel: 'email',
      sendAt: NOW,
      variant: 'a',
    });
  });
});

describe('entry', () => {
  it('skips an event older than the campaign allows (a replay, a backfill)', () => {
    const x = withCandidate({ eventAt: NOW - 24 * HOUR - 60_000 });
    expect(decideNoting(x)).toMatchObject({ outcome: 'skip', reason: 'stale_event' });
    expect(decideNoting(withCandidate({ eventAt: NOW - 24 * HOUR })).outcome).toBe('send');
  });

  it('judges staleness when the candidate was first decided: a deferred message does not turn stale', () => {
    const x = withCandidate({ eventAt: NOW - 30 * HOUR, firstDecidedAt: NOW - 10 * HOUR });
    expect(decideNoting(x).outcome).toBe('send');
  });

  it('skips a customer who already entered a once-only campaign', () => {
    const x = withCampaign(
      { reentry: { mode: 'once' } },
      withMessaging({
        entries: { 'abandoned-cart': { triggerKey: 'cart-0', at: '2025-01-01T00:00:00.000Z' } },
      }),
    );
    expect(decideNoting(x)).toMatchObject({ outcome: 'skip', reason: 'reentry_once' });
  });

  it('skips within the cooldown, counted from the last entry, and sends after it', () => {
    const entered = (ms: number) =>
      withMessaging({
        entries: { 'abandoned-cart': { triggerKey: 'cart-0', at: new Date(ms).toISOString() } },
      });
    expect(decideNoting(entered(NOW - 7 * DAY + 60_000))).toMatchObject({
      outcome: 'skip',
      reason: 'cooldown',
    });
    expect(decideNoting(entered(NOW - 7 * DAY)).outcome).toBe('send');
    // Another campaign's entry does not count.
    const other = withMessaging({
      entries: { birthday: { triggerKey: 'k', at: new Date(NOW).toISOString() } },
    });
    expect(decideNoting(other).outcome).toBe('send');
  });
});

describe('permission', () => {
  it('skips an unsubscribed customer whatever their per-channel consent', () => {
    const x = withMessaging({ unsubscribe: { ...revoked, source: 'unsubscribe-link' } });
    expect(decideNoting(x)).toMatchObject({ outcome: 'skip', reason: 'unsubscribed' });
    // Subscribed again (the switch granted) → sent.
    expect(decideNoting(withMessaging({ unsubscribe: granted })).outcome).toBe('send');
  });

  it('skips without consent for the purpose on any campaign channel: revoked, unknown, or another purpose', () => {
    const cases = [
      { marketing: { email: revoked, sms: revoked } },
      {},
      { recommendations: { email: granted, sms: granted }, marketing: { push: granted } },
    ];
    for (const consent of cases) {
      expect(decideNoting(withMessaging({ consent }))).toMatchObject({
        outcome: 'skip',
        reason: 'no_consent',
      });
    }
  });

  it('counts unknown consent as granted only for purposes the stage lists', () => {
    const x = {
      ...withMessaging({ consent: {} }),
      settings: { ...settings, unknownConsentGranted: ['marketing' as const] },
    };
    expect(decideNoting(x)).toMatchObject({ outcome: 'send', channel: 'email' });
    // An explicit revocation still wins.
    const y = { ...x, messaging: { ...x.messaging, consent: { marketing: { email: revoked } } } };
    expect(decideNoting(y)).toMatchObject({ outcome: 'send', channel: 'sms' });
  });

  it('uses only the channels consented to: e-mail revoked → SMS', () => {
    const x = withMessaging({ consent: { marketing: { email: revoked, sms: granted } } });
    expect(decideNoting(x)).toMatchObject({ outcome: 'send', channel: 'sms' });
  });
});

describe('measurement', () => {
  const controlId = idWhere((id) => inGlobalControl(id, SALT, settings.controlPercent));

  it('puts a global control member out of the campaign, recorded as would-have-sent', () => {
    const d = decideNoting(withCandidate({ customerId: controlId }));
    expect(d).toMatchObject({ outcome: 'control', reason: 'global_control' });
    expect(d.channel).toBeUndefined();
    expect(d.explain.join(' ')).toContain('would have been sent');
  });

  it('puts a holdout member out of this campaign only', () => {
    const heldId = idWhere(
      (id) => !inGlobalControl(id, SALT, 1) && inHoldout('abandoned-cart', id, SALT, 10),
    );
    const x = withCampaign({ holdoutPercent: 10 }, withCandidate({ customerId: heldId }));
    expect(decideNoting(x)).toMatchObject({ outcome: 'holdout', reason: 'campaign_holdout' });
    expect(decideNoting(withCampaign({ id: 'birthday', holdoutPercent: 0 }, x)).outcome).toBe('send');
  });

  it('records the groups as assigned, and when a control member’s message would have gone', () => {
    expect(decideNoting(base).group).toBe('treatment');
    expect(decideNoting(withCandidate({ customerId: controlId }))).toMatchObject({
      group: 'control',
      sendAt: NOW,
    });
    // Capped after assignment: still in the treatment group (intent to treat).
    const capped = withMessaging({
      caps: { [localDate(NOW, 'Asia/Shanghai')]: { overall: 1, channels: { email: 1 } } },
    });
    expect(decideNoting(capped)).toMatchObject({ outcome: 'skip', group: 'treatment' });
    expect(decideNoting(withMessaging({ consent: {} })).group).toBeUndefined();
    // At 23:00 in Shanghai with quiet hours until 08:00: the control member's clock starts at 08:00.
    const late = at('2026-06-15T15:00:00Z');
    const x = withCampaign(
      { quietHours: { start: '21:00', end: '08:00' } },
      withCandidate({ customerId: controlId, now: late, eventAt: late }),
    );
    expect(decideNoting(x)).toMatchObject({ outcome: 'control', sendAt: at('2026-06-16T00:00:00Z') });
  });

  it('counts nobody who could not be contacted: an unsubscribed or non-consenting control member is skipped', () => {
    const control = withCandidate({ customerId: controlId });
    const unsubscribed = { ...control, messaging: { ...control.messaging, unsubscribe: revoked } };
    expect(decideNoting(unsubscribed)).toMatchObject({ outcome: 'skip', reason: 'unsubscribed' });
    const noConsent = { ...control, messaging: { ...control.messaging, consent: {} } };
    expect(decideNoting(noConsent)).toMatchObject({ outcome: 'skip', reason: 'no_consent' });
  });
});

describe('channel', () => {
  it('skips when every consenting channel is suppressed', () => {
    const x = withMessaging({
      suppressed: {
        email: {
          channel: 'email',
          addressHash: 'h-email-1',
          reason: 'hard_bounce',
          at: '2026-05-01T00:00:00.000Z',
        },
        sms: {
          channel: 'sms',
          addressHash: 'h-phone-1',
          reason: 'complaint',
          at: '2026-05-01T00:00:00.000Z',
        },
      },
    });
    expect(decideNoting(x)).toMatchObject({ outcome: 'skip', reason: 'suppressed' });
    const emailOnly = withMessaging({ suppressed: { email: x.messaging.suppressed.email } });
    expect(decideNoting(emailOnly)).toMatchObject({ outcome: 'send', channel: 'sms' });
  });

  it('skips when no consenting, unsuppressed channel has an address', () => {
    const x = { ...base, customer: { ...base.customer, reachable: { push: true } } };
    expect(decideNoting(x)).toMatchObject({ outcome: 'skip', reason: 'unreachable' });
  });

  it('reaches a webhook only when the stage has one', () => {
    const hook = withCampaign({ channels: ['webhook'] });
    expect(decideNoting(hook)).toMatchObject({ outcome: 'send', channel: 'webhook' });
    const none = { ...hook, settings: { ...settings, webhookConfigured: false } };
    expect(decideNoting(none)).toMatchObject({ outcome: 'skip', reason: 'unreachable' });
  });

  it('skips when the customer’s variant has no content for any usable channel', () => {
    const x = withCampaign({
      channels: ['email', 'push'],
      variants: [{ id: 'push-only', content: { push: { title: 't', body: 'b' } } }],
    });
    const noToken = { ...x, customer: { ...x.customer, reachable: { email: true } } };
    expect(decideNoting(noToken)).toMatchObject({ outcome: 'skip', reason: 'no_content' });
    expect(decideNoting(x)).toMatchObject({ outcome: 'send', channel: 'push', variant: 'push-only' });
  });

  it('ranks by smoothed engagement: evidence moves a channel ahead, none keeps the campaign order', () => {
    const engaged = {
      ...base,
      customer: { ...base.customer, engagement: { sms: { sent: 20, opened: 0, clicked: 6 } } },
    };
    expect(decideNoting(engaged)).toMatchObject({ outcome: 'send', channel: 'sms' });
    const ignored = {
      ...base,
      customer: { ...base.customer, engagement: { email: { sent: 10, opened: 0, clicked: 0 } } },
    };
    expect(decideNoting(ignored)).toMatchObject({ channel: 'sms' });
    const equal = { ...base, customer: { ...base.customer, engagement: {} } };
    expect(decideNoting(equal)).toMatchObject({ channel: 'email' });
    expect(engagementScore(undefined)).toBe(PRIOR_RATE);
    // Opens without clicks count half (Apple Mail's privacy protection opens everything).
    expect(engagementScore({ sent: 10, opened: 10, clicked: 0 })).toBeCloseTo((5 + 1) / 30);
    expect(engagementScore({ sent: 10, opened: 10, clicked: 10 })).toBeCloseTo((10 + 1) / 30);
  });
});

describe('caps, counted in the customer’s local calendar days', () => {
  const today = localDate(NOW, 'Asia/Shanghai');
  const sentToday = (channels: Record<string, number>) =>
    withMessaging({
      caps: { [today]: { overall: Object.values(channels).reduce((a, b) => a + b, 0), channels } },
    });

  it('skip when the first channel is capped and the campaign says skip', () => {
    expect(decideNoting(sentToday({ email: 1 }))).toMatchObject({
      outcome: 'skip',
      reason: 'channel_capped',
      channel: 'email',
    });
  });

  it('fall through to the next channel when the campaign says next_channel', () => {
    const x = withCampaign({ whenCapped: 'next_channel' }, sentToday({ email: 1 }));
    expect(decideNoting(x)).toMatchObject({ outcome: 'send', channel: 'sms' });
    const both = withCampaign(
      { whenCapped: 'next_channel', channels: ['email', 'push'] },
      sentToday({ email: 1 }),
    );
    expect(decideNoting(both)).toMatchObject({ outcome: 'send', channel: 'push' });
    const all = {
      ...x,
      settings: { ...settings, caps: { ...settings.caps, sms: { perDay: 0, perWeek: 0 } } },
    };
    expect(decideNoting(all)).toMatchObject({ outcome: 'skip', reason: 'channel_capped' });
  });

  it('defer to the next local day, after its quiet hours, when the campaign says defer', () => {
    const x = withCampaign({ whenCapped: 'defer' }, sentToday({ email: 1 }));
    // Shanghai midnight after June 15 is 16:00Z; no quiet hours.
    expect(decideNoting(x)).toMatchObject({
      outcome: 'defer',
      reason: 'channel_capped',
      channel: 'email',
      sendAt: at('2026-06-15T16:00:00Z'),
    });
    const quiet = withCampaign(
      { whenCapped: 'defer', quietHours: { start: '21:00', end: '08:00' } },
      sentToday({ email: 1 }),
    );
    expect(decideNoting(quiet).sendAt).toBe(at('2026-06-16T00:00:00Z'));
  });

  it('hold overall: no channel helps once the customer had all the day allows', () => {
    const x = withCampaign({ whenCapped: 'next_channel' }, sentToday({ push: 2 }));
    expect(decideNoting(x)).toMatchObject({ outcome: 'skip', reason: 'overall_capped' });
    const deferred = withCampaign({ whenCapped: 'defer' }, sentToday({ push: 2 }));
    expect(decideNoting(deferred)).toMatchObject({ outcome: 'defer', reason: 'overall_capped' });
  });

  it('hold per week: the 7 local days up to today, not older ones', () => {
    const days = Object.fromEntries(
      [1, 3, 5].map((back) => [
        localDate(NOW - back * DAY, 'Asia/Shanghai'),
        { overall: 1, channels: { email: 1 } },
      ]),
    );
    expect(decideNoting(withMessaging({ caps: days }))).toMatchObject({
      outcome: 'skip',
      reason: 'channel_capped',
    });
    const old = {
      ...days,
      [localDate(NOW - 7 * DAY, 'Asia/Shanghai')]: { overall: 9, channels: { sms: 9 } },
    };
    delete old[localDate(NOW - 5 * DAY, 'Asia/Shanghai')];
    expect(decideNoting(withMessaging({ caps: old })).outcome).toBe('send');
  });

  it("reserve today's send within the day's cap lowered by what the 6 days before used of the week's", () => {
    const caps = { ...settings.caps, email: { perDay: 2, perWeek: 3 }, all: { perDay: 3, perWeek: 4 } };
    const today = '2026-12-06';
    const sent = (day: string, email: number, sms = 0) => [
      day,
      { overall: email + sms, channels: { email, ...(sms ? { sms } : {}) } },
    ];
    // Nothing before today: the day's caps.
    expect(reservationCaps(caps, 'email', {}, today)).toEqual({ channel: 2, overall: 3 });
    // Two e-mails this week before today: one more e-mail, two more sends.
    const week = Object.fromEntries([sent('2026-12-01', 1), sent('2026-12-04', 1)]);
    expect(reservationCaps(caps, 'email', week, today)).toEqual({ channel: 1, overall: 2 });
    // Today's own sends are not subtracted (the conditional update counts them), nor days before the week.
    const withToday = { ...week, ...Object.fromEntries([sent(today, 1), sent('2026-11-29', 5)]) };
    expect(reservationCaps(caps, 'email', withToday, today)).toEqual({ channel: 1, overall: 2 });
    // A week used up leaves nothing, never less.
    const full = Object.fromEntries([sent('2026-12-02', 3, 2)]);
    expect(reservationCaps(caps, 'email', full, today)).toEqual({ channel: 0, overall: 0 });
    expect(reservationCaps(caps, 'sms', full, today).channel).toBe(
      Math.min(caps.sms.perDay, caps.sms.perWeek - 2),
    );
  });

  it('count a send at 23:30 local for its day and one at 00:30 for the next', () => {
    const ny = 'America/New_York';
    // June 14 23:30 EDT = 03:30Z June 15; June 15 00:30 EDT = 04:30Z June 15.
    const late = { at: at('2026-06-15T03:30:00Z'), channel: 'email' as const };
    const early = { at: at('2026-06-15T04:30:00Z'), channel: 'email' as const };
    expect(countByLocalDay([late, early], ny)).toEqual({
      '2026-06-14': { overall: 1, channels: { email: 1 } },
      '2026-06-15': { overall: 1, channels: { email: 1 } },
    });
    const customer = { ...base.customer, timezone: ny };
    const now = at('2026-06-15T14:00:00Z'); // 10:00 EDT on June 15
    const x = (sends: (typeof late)[]) => ({
      ...withMessaging({ caps: countByLocalDay(sends, ny) }),
      customer,
      candidate: { ...base.candidate, now, eventAt: now },
    });
    expect(decideNoting(x([late])).outcome).toBe('send');
    expect(decideNoting(x([early]))).toMatchObject({ outcome: 'skip', reason: 'channel_capped' });
    // The days a snapshot must hold and the day a send reserves, in the customer's zone.
    expect(localDay(now, ny, 'UTC')).toBe('2026-06-15');
    expect(localDay(at('2026-06-15T03:30:00Z'), ny, 'UTC')).toBe('2026-06-14');
    expect(capDays(now, ny, 'UTC')).toEqual([
      '2026-06-09',
      '2026-06-10',
      '2026-06-11',
      '2026-06-12',
      '2026-06-13',
      '2026-06-14',
      '2026-06-15',
    ]);
    expect(localDay(now, 'Not/AZone', 'Asia/Shanghai')).toBe('2026-06-15');
  });
});

describe('quiet hours in the customer’s zone', () => {
  const night = { start: '21:00', end: '08:00' };
  const atLocal = (now: number, timezone: string, over: Record<string, unknown> = {}) =>
    withCampaign(
      { quietHours: night, ...over },
      { ...withCandidate({ now, eventAt: now }), customer: { ...base.customer, timezone } },
    );

  it('defer a message at 23:00 in Shanghai to 08:00 the next morning, across midnight', () => {
    const now = at('2026-06-15T15:00:00Z'); // 23:00 CST
    expect(decideNoting(atLocal(now, 'Asia/Shanghai'))).toMatchObject({
      outcome: 'defer',
      reason: 'quiet_hours',
      channel: 'email',
      sendAt: at('2026-06-16T00:00:00Z'),
    });
    // 07:59 CST: still quiet, ends the same morning.
    expect(decideNoting(atLocal(at('2026-06-15T23:59:00Z'), 'Asia/Shanghai')).sendAt).toBe(
      at('2026-06-16T00:00:00Z'),
    );
  });

  it('drop the message when the campaign says drop', () => {
    const x = atLocal(at('2026-06-15T15:00:00Z'), 'Asia/Shanghai', {
      quietHours: { ...night, action: 'drop' },
    });
    expect(decideNoting(x)).toMatchObject({ outcome: 'skip', reason: 'quiet_hours' });
  });

  it('use the stage’s quiet hours (defer) for a campaign without its own, in the default zone for a bad one', () => {
    const stage = { ...settings, quietHours: night, defaultZone: 'Asia/Shanghai' };
    const x = {
      ...withCandidate({ now: at('2026-06-15T15:00:00Z'), eventAt: at('2026-06-15T15:00:00Z') }),
      customer: { ...base.customer, timezone: 'Not/AZone' },
      settings: stage,
    };
    expect(decideNoting(x)).toMatchObject({ outcome: 'defer', sendAt: at('2026-06-16T00:00:00Z') });
  });

  it('follow New York’s DST: quiet until 02:30 on spring-forward night ends at 03:00 EDT', () => {
    const now = at('2026-03-08T05:00:00Z'); // 00:00 EST
    const x = atLocal(now, 'America/New_York', { quietHours: { start: '22:00', end: '02:30' } });
    expect(decideNoting(x)).toMatchObject({ outcome: 'defer', sendAt: at('2026-03-08T07:00:00Z') });
    // 21:00-08:00 on fall-back night: 08:00 EST (13:00Z), 25 hours after the previous 07:00 EDT.
    const fall = atLocal(at('2026-11-01T05:00:00Z'), 'America/New_York');
    expect(decideNoting(fall).sendAt).toBe(at('2026-11-01T13:00:00Z'));
  });

  it('follow Lord Howe’s half-hour DST: 08:00 is 21:00Z in its summer, 21:30Z in its winter', () => {
    const summer = atLocal(at('2026-01-10T12:00:00Z'), 'Australia/Lord_Howe'); // 23:00 +11
    expect(decideNoting(summer).sendAt).toBe(at('2026-01-10T21:00:00Z'));
    const winter = atLocal(at('2026-07-10T12:00:00Z'), 'Australia/Lord_Howe'); // 22:30 +10:30
    expect(decideNoting(winter).sendAt).toBe(at('2026-07-10T21:30:00Z'));
  });
});

describe('best send time', () => {
  const hours = (peaks: Record<number, number>) => Array.from({ length: 24 }, (_, h) => peaks[h] ?? 0);
  const best = (
    activeHours: number[] | undefined,
    sendTime: Record<string, unknown> = {},
    over: Record<string, unknown> = {},
  ) =>
    withCampaign(
      { sendTime: { mode: 'best', ...sendTime }, ...over },
      { ...base, customer: { ...base.customer, activeHours } },
    );

  it('sends at the customer’s most active local hour within the window', () => {
    // Now is 12:00 in Shanghai; most active at 19:00 → 11:00Z.
    expect(decideNoting(best(hours({ 19: 30, 9: 10 })))).toMatchObject({
      outcome: 'send',
      reason: 'best_hour',
      sendAt: at('2026-06-15T11:00:00Z'),
    });
    // The current hour, when it is the most active: now.
    expect(decideNoting(best(hours({ 12: 30, 19: 10 }))).sendAt).toBe(NOW);
  });

  it('takes the next most active hour when the best is in quiet hours or beyond the window', () => {
    const quiet = { quietHours: { start: '18:00', end: '08:00' } };
    expect(decideNoting(best(hours({ 19: 30, 9: 10, 15: 5 }), {}, quiet))).toMatchObject({
      reason: 'best_hour',
      sendAt: at('2026-06-16T01:00:00Z'), // 09:00 tomorrow: more active than 15:00 today
    });
    const window = best(hours({ 19: 30, 14: 10 }), { withinHours: 4 });
    expect(decideNoting(window).sendAt).toBe(at('2026-06-15T06:00:00Z'));
  });

  it('falls back to the fallback hour with too little activity', () => {
    expect(decideNoting(best(undefined, { fallbackHour: 17 }))).toMatchObject({
      reason: 'fallback_hour',
      sendAt: at('2026-06-15T09:00:00Z'),
    });
    expect(decideNoting(best(hours({ 19: 2 }), { fallbackHour: 17 })).reason).toBe('fallback_hour');
  });

  it('sends at the first allowed instant when nothing fits the window outside quiet hours', () => {
    const night = { quietHours: { start: '11:00', end: '14:30' } };
    const x = best(hours({ 19: 30 }), { withinHours: 1, fallbackHour: 20 }, night);
    expect(decideNoting(x)).toMatchObject({
      outcome: 'send',
      reason: 'earliest_allowed',
      sendAt: at('2026-06-15T06:30:00Z'),
    });
  });
});

describe('determinism', () => {
  it('gives the same decision for the same input, every time', () => {
    const inputs = [
      base,
      withCampaign({ sendTime: { mode: 'best' } }),
      withCandidate({ customerId: ordinaryId('x', 1, 0) }),
    ];
    for (const x of inputs) {
      const first = decide(x);
      expect(decide(structuredClone(x))).toEqual(first);
      expect(decide(x)).toEqual(first);
    }
  });

  it('reached every reason of the closed list in this file', () => {
    expect([...DECISION_REASONS].filter((r) => !reached.has(r))).toEqual([]);
  });
});
