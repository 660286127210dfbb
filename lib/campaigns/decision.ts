// The send decision: one pure function from a snapshot of everything that matters (campaign, candidate,
// customer facts, the messaging snapshot of consent and send history, stage settings) to one outcome with a reason from a closed list
// and the steps that led there, for the decision log. No I/O and no clock: the caller reads the snapshot
// (the messaging table) and passes `now`; the same input always gives the same decision. Checks run in
// a fixed order, cheapest and most final first; docs/campaigns.md, "The send decision", says why.
import type { SendDecisionConfig } from '../config.js';
import { measuredGroup, pickVariant } from './assignment.js';
import {
  addDays,
  inQuietHours,
  instantAt,
  localDate,
  localHour,
  nextLocalMidnight,
  type QuietHours,
  quietHoursEnd,
  zoneOr,
} from './localTime.js';
import type { DayCount, MessagingSnapshot } from './messaging.js';
import type { CampaignDefinition, Channel, Purpose, Variant } from './model.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

export const DECISION_REASONS = [
  /** skip: the trigger event is older than campaign.maxEventAgeMinutes (a backfill, a replay). */
  'stale_event',
  /** skip: re-entry `once` and the customer already entered the campaign. */
  'reentry_once',
  /** skip: re-entry `cooldown` and the last entry is less than its days ago. */
  'cooldown',
  /** skip: the customer unsubscribed from all marketing. */
  'unsubscribed',
  /** skip: no consent for the campaign's purpose on any of its channels. */
  'no_consent',
  /** control: in the persistent global control group (would have been sent; measured). */
  'global_control',
  /** holdout: in the campaign's holdout (would have been sent; measured). */
  'campaign_holdout',
  /** skip: every consenting channel is suppressed (hard bounce, complaint). */
  'suppressed',
  /** skip: no consenting, unsuppressed channel has an address (email, phone, push token, webhook). */
  'unreachable',
  /** skip: the customer's content variant has no content for any usable channel. */
  'no_content',
  /** skip or defer: the channel's daily or weekly cap is reached (whenCapped). */
  'channel_capped',
  /** skip or defer: the customer's overall daily or weekly cap is reached. */
  'overall_capped',
  /** skip (drop) or defer: now is inside quiet hours. */
  'quiet_hours',
  /** send: now. */
  'immediate',
  /** send: at the customer's most active hour within the campaign's window. */
  'best_hour',
  /** send: at the campaign's fallback hour (too little activity, or no active hour fits). */
  'fallback_hour',
  /** send: neither fits the window outside quiet hours; the first allowed instant. */
  'earliest_allowed',
] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

export type DecisionOutcome = 'send' | 'defer' | 'skip' | 'control' | 'holdout';

/** What the decision is about: one trigger of one campaign for one customer. */
export interface Candidate {
  readonly customerId: string;
  /** What this trigger is about (cart id, birthday year...): logged with the decision. */
  readonly triggerKey: string;
  /** Time of the trigger event (epoch ms): a wait's start event, the date's local time... */
  readonly eventAt: number;
  /** The decision's clock (epoch ms). */
  readonly now: number;
  /**
   * When this candidate was first decided, if an earlier decision deferred it: staleness is judged then,
   * so a message deferred past quiet hours or a cap does not turn stale while it waits.
   */
  readonly firstDecidedAt?: number;
}

/** Past results on a channel (the delivery and engagement events of earlier sends). */
export interface Engagement {
  readonly sent: number;
  readonly opened: number;
  readonly clicked: number;
}

/** What the profile knows of the customer. */
export interface CustomerFacts {
  /** IANA zone; missing or invalid → settings.defaultZone. */
  readonly timezone?: string;
  /** Whether an address exists: an e-mail, a phone (sms), a push token. Webhooks: settings.webhookConfigured. */
  readonly reachable: Readonly<Partial<Record<Exclude<Channel, 'webhook'>, boolean>>>;
  /** Events per local hour 0-23 (the profile's `hours` histogram); absent for a new customer. */
  readonly activeHours?: readonly number[];
  readonly engagement?: Readonly<Partial<Record<Channel, Engagement>>>;
}

/**
 * What the decision reads of the customer's messaging state (messaging.ts, one snapshot of the messaging
 * table): consent per purpose and channel (missing = unknown), the global unsubscribe switch, suppressed
 * channels, sends per local calendar day (at least the 7 local days capDays names; others are ignored)
 * and the last entry per campaign — a send, or a control or holdout assignment: both groups face the same
 * re-entry rule, or control members would be counted again and again.
 */
export type MessagingView = Pick<
  MessagingSnapshot,
  'consent' | 'unsubscribe' | 'suppressed' | 'caps' | 'entries'
>;

/** At most this many sends per local calendar day and per 7 local days (today and the 6 before); 0 = never. */
export interface Cap {
  readonly perDay: number;
  readonly perWeek: number;
}

/** The stage's settings (lib/config.ts `sendDecision`, plus what the channels know). */
export interface DecisionSettings {
  /** Per channel, and `all` for every channel together. */
  readonly caps: Readonly<Record<Channel | 'all', Cap>>;
  /** Quiet hours of campaigns without their own (action: defer); undefined = none. */
  readonly quietHours?: QuietHours;
  /** Share of customers in the global control group, 1-15 %. */
  readonly controlPercent: number;
  readonly salt: string;
  readonly defaultZone: string;
  /**
   * Purposes for which an unknown consent counts as granted. Default none: marketing needs an explicit,
   * separate grant per channel (PIPL); a stage under a softer law may list a purpose here.
   */
  readonly unknownConsentGranted: readonly Purpose[];
  /** Whether the stage has a webhook endpoint: webhooks need no address of the customer. */
  readonly webhookConfigured: boolean;
}

/** The stage's settings from its configuration, the default zone and whether a webhook is configured. */
export function decisionSettings(
  c: SendDecisionConfig,
  defaultZone: string,
  webhookConfigured: boolean,
): DecisionSettings {
  return {
    caps: c.caps,
    quietHours: c.quietHours,
    controlPercent: c.controlPercent,
    salt: c.controlSalt,
    defaultZone,
    unknownConsentGranted: c.unknownConsentGranted,
    webhookConfigured,
  };
}

export interface DecisionInput {
  readonly campaign: CampaignDefinition;
  readonly candidate: Candidate;
  readonly customer: CustomerFacts;
  readonly messaging: MessagingView;
  readonly settings: DecisionSettings;
}

export interface Decision {
  readonly outcome: DecisionOutcome;
  readonly reason: DecisionReason;
  readonly channel?: Channel;
  /** When to send (send), or to decide again (defer); epoch ms. */
  readonly sendAt?: number;
  /** The content variant (send and defer). */
  readonly variant?: string;
  /**
   * The comparison group of a candidate who passed permission (unset before): `treatment` whatever came
   * next (send, defer, or a skip for channel, caps or quiet hours), `control` or `holdout`. Uplift compares
   * groups as assigned (intent to treat), not sends against control members.
   */
  readonly group?: 'treatment' | 'control' | 'holdout';
  /** The steps that led here, human-readable, for the decision log. */
  readonly explain: string[];
}

/** Activity below this many events says too little about a customer's hours: the fallback hour is used. */
export const MIN_ACTIVITY = 5;
/**
 * Channel ranking: an engagement rate smoothed towards a prior worth PRIOR_SENDS sends at PRIOR_RATE, so
 * a channel moves ahead of the campaign's order only on evidence, and one with a record of being ignored
 * drops behind an untried one.
 */
export const PRIOR_SENDS = 20;
export const PRIOR_RATE = 0.05;

/** The smoothed engagement score of a channel (clicks count fully, opens without a click half). */
export function engagementScore(e: Engagement | undefined): number {
  if (!e || e.sent <= 0) return PRIOR_RATE;
  const clicked = Math.max(0, e.clicked);
  const engaged = Math.min(e.sent, clicked + 0.5 * Math.max(0, e.opened - clicked));
  return (engaged + PRIOR_SENDS * PRIOR_RATE) / (e.sent + PRIOR_SENDS);
}

/** The local calendar day of `now` in the customer's zone: the day a send counts for (reserve). */
export function localDay(now: number, timezone: string | undefined, defaultZone: string): string {
  return localDate(now, zoneOr(timezone, defaultZone));
}

/** The 7 local days whose sends the caps count (today last): the days a snapshot must hold. */
export function capDays(now: number, timezone: string | undefined, defaultZone: string): string[] {
  const today = localDay(now, timezone, defaultZone);
  return [6, 5, 4, 3, 2, 1, 0].map((back) => addDays(today, -back));
}

/** Sends counted by local calendar day in `zone` (a send at 23:30 local is that day's, 00:30 the next's). */
export function countByLocalDay(
  sends: readonly { at: number; channel: Channel }[],
  zone: string,
): Record<string, DayCount> {
  const days: Record<string, { overall: number; channels: Partial<Record<Channel, number>> }> = {};
  for (const { at, channel } of sends) {
    const date = localDate(at, zone);
    const day = days[date] ?? { overall: 0, channels: {} };
    days[date] = day;
    day.overall += 1;
    day.channels[channel] = (day.channels[channel] ?? 0) + 1;
  }
  return days;
}

/** The decision for one candidate. Pure and deterministic. */
export function decide(input: DecisionInput): Decision {
  const explain: string[] = [];
  const closed = entry(input, explain) ?? permission(input, explain);
  if (typeof closed === 'string') return { outcome: 'skip', reason: closed, explain };
  const measured = measurement(input, explain);
  if (measured) return { ...measured, sendAt: wouldSendAt(input, explain), group: measured.outcome, explain };
  return { ...delivery(input, closed, explain), group: 'treatment' };
}

/**
 * When a control or holdout member's message would have gone (quiet hours and send time; not caps): their
 * attribution window starts then, as a treated customer's starts at the send.
 */
function wouldSendAt({ campaign, candidate, customer, settings }: DecisionInput, explain: string[]): number {
  const { now } = candidate;
  const zone = zoneOr(customer.timezone, settings.defaultZone);
  const quiet = quietOf(campaign, settings);
  const sendAt =
    campaign.sendTime.mode === 'best'
      ? bestTime(now, zone, customer.activeHours, campaign.sendTime, quiet, []).sendAt
      : quiet
        ? quietHoursEnd(now, quiet, zone)
        : now;
  if (sendAt !== now) explain.push(`would have been sent at ${iso(sendAt)}`);
  return sendAt;
}

/** The campaign's quiet hours, else the stage's (deferring). */
function quietOf(campaign: CampaignDefinition, settings: DecisionSettings): Quiet | undefined {
  return campaign.quietHours ?? (settings.quietHours && { ...settings.quietHours, action: 'defer' });
}

/** 1-2. Staleness and re-entry: a replayed event, or a customer not due to enter again, leaves no trace. */
function entry(
  { campaign, candidate, messaging }: DecisionInput,
  explain: string[],
): DecisionReason | undefined {
  const ageMinutes = Math.floor(((candidate.firstDecidedAt ?? candidate.now) - candidate.eventAt) / MINUTE);
  if (ageMinutes > campaign.maxEventAgeMinutes) {
    explain.push(`event ${ageMinutes} min old, the campaign allows ${campaign.maxEventAgeMinutes}`);
    return 'stale_event';
  }
  const entered = messaging.entries[campaign.id];
  if (entered === undefined) return undefined;
  const last = Date.parse(entered.at);
  if (campaign.reentry.mode === 'once') {
    explain.push(`entered already at ${iso(last)}; re-entry: once`);
    return 'reentry_once';
  }
  if (candidate.now - last < campaign.reentry.days * DAY) {
    explain.push(`entered at ${iso(last)}, within the ${campaign.reentry.days}-day cooldown`);
    return 'cooldown';
  }
  return undefined;
}

/** 3-4. Unsubscribe and purpose consent: the campaign's channels the customer consents to, else why none. */
function permission(
  { campaign, messaging: consent, settings }: DecisionInput,
  explain: string[],
): DecisionReason | Channel[] {
  if (consent.unsubscribe?.status === 'revoked') {
    explain.push(
      `unsubscribed from all marketing (${consent.unsubscribe.source}, ${consent.unsubscribe.at})`,
    );
    return 'unsubscribed';
  }
  const { purpose } = campaign;
  const unknownGranted = settings.unknownConsentGranted.includes(purpose);
  const perChannel = consent.consent[purpose];
  const consenting = campaign.channels.filter((ch) => {
    const status = perChannel?.[ch]?.status;
    return status === 'granted' || (status === undefined && unknownGranted);
  });
  if (consenting.length === 0) {
    explain.push(`no ${purpose} consent on ${campaign.channels.join(', ')}`);
    return 'no_consent';
  }
  explain.push(`${purpose} consent on ${consenting.join(', ')}`);
  return consenting;
}

/** 5-6. Global control, then the campaign's holdout: assigned among the contactable only. */
function measurement(
  { campaign, candidate, settings }: DecisionInput,
  explain: string[],
): { outcome: 'control' | 'holdout'; reason: DecisionReason } | undefined {
  const group = measuredGroup(campaign, candidate.customerId, settings);
  if (group === 'control') {
    explain.push(`in the global control group (${settings.controlPercent} %): would have been sent`);
    return { outcome: 'control', reason: 'global_control' };
  }
  if (group === 'holdout') {
    explain.push(`in the campaign holdout (${campaign.holdoutPercent} %): would have been sent`);
    return { outcome: 'holdout', reason: 'campaign_holdout' };
  }
  return undefined;
}

type Quiet = QuietHours & { action: 'defer' | 'drop' };

/** 7-10. Channel, caps, quiet hours and send time. */
function delivery(input: DecisionInput, consenting: readonly Channel[], explain: string[]): Decision {
  const { campaign, candidate, settings } = input;
  const { now } = candidate;
  const variant = pickVariant(campaign, candidate.customerId);
  const usable = usableChannels(consenting, input, variant, explain);
  if (!Array.isArray(usable)) return { outcome: 'skip', reason: usable, explain };
  const zone = zoneOr(input.customer.timezone, settings.defaultZone);
  const quiet = quietOf(campaign, settings);

  const picked = withinCaps(input, rank(usable, input.customer.engagement, explain), zone, explain);
  if (picked.capped) {
    const { reason, channel } = picked.capped;
    if (campaign.whenCapped !== 'defer') return { outcome: 'skip', reason, channel, explain };
    const midnight = nextLocalMidnight(now, zone);
    const sendAt = quiet ? quietHoursEnd(midnight, quiet, zone) : midnight;
    explain.push(`defer to ${iso(sendAt)} (next local day${sendAt > midnight ? ', after quiet hours' : ''})`);
    return { outcome: 'defer', reason, channel, sendAt, variant: variant.id, explain };
  }
  const sending = { channel: picked.channel, variant: variant.id, explain };
  explain.push(`channel ${picked.channel}, variant ${variant.id}, zone ${zone}`);

  if (campaign.sendTime.mode === 'best') {
    const best = bestTime(now, zone, input.customer.activeHours, campaign.sendTime, quiet, explain);
    return { outcome: 'send', ...best, ...sending };
  }
  if (!quiet || !inQuietHours(now, quiet, zone)) {
    explain.push('send now');
    return { outcome: 'send', reason: 'immediate', sendAt: now, ...sending };
  }
  const range = `${quiet.start}-${quiet.end}`;
  if (quiet.action === 'drop') {
    explain.push(`inside quiet hours ${range}: dropped`);
    return { outcome: 'skip', reason: 'quiet_hours', channel: picked.channel, explain };
  }
  const sendAt = quietHoursEnd(now, quiet, zone);
  explain.push(`inside quiet hours ${range}: defer to ${iso(sendAt)}`);
  return { outcome: 'defer', reason: 'quiet_hours', sendAt, ...sending };
}

/**
 * 8. Caps, counted in the customer's local calendar days: overall first (no channel helps then), then the
 * ranked channels' own; with `next_channel` a capped channel gives way to the next.
 */
function withinCaps(
  { campaign, candidate, messaging, settings }: DecisionInput,
  ranked: readonly Channel[],
  zone: string,
  explain: string[],
): { channel: Channel; capped?: undefined } | { capped: { reason: DecisionReason; channel?: Channel } } {
  const counts = sendCounts(messaging.caps, localDate(candidate.now, zone));
  const all = capped(counts.all, settings.caps.all);
  if (all) {
    explain.push(`overall cap reached: ${all}`);
    return { capped: { reason: 'overall_capped' } };
  }
  for (const ch of ranked) {
    const over = capped(counts.by.get(ch) ?? ZERO, settings.caps[ch]);
    if (!over) return { channel: ch };
    explain.push(`${ch} cap reached: ${over}`);
    if (campaign.whenCapped !== 'next_channel') return { capped: { reason: 'channel_capped', channel: ch } };
  }
  return { capped: { reason: 'channel_capped' } };
}

const ZERO = { day: 0, week: 0 };

interface Counts {
  all: { day: number; week: number };
  by: Map<Channel, { day: number; week: number }>;
}

/** Today's and the last 7 local days' sends, per channel and overall. */
function sendCounts(days: MessagingView['caps'], today: string): Counts {
  const weekStart = addDays(today, -6);
  const counts: Counts = { all: { day: 0, week: 0 }, by: new Map() };
  for (const date in days) {
    const day = days[date];
    if (!day || date < weekStart || date > today) continue;
    const isToday = date === today;
    counts.all.week += day.overall;
    if (isToday) counts.all.day += day.overall;
    for (const ch in day.channels) {
      const n = day.channels[ch as Channel] ?? 0;
      let c = counts.by.get(ch as Channel);
      if (!c) {
        c = { day: 0, week: 0 };
        counts.by.set(ch as Channel, c);
      }
      c.week += n;
      if (isToday) c.day += n;
    }
  }
  return counts;
}

/**
 * What today's reservation may count up to, per channel and overall: the day's cap, lowered by what the 6
 * days before already used of the week's. Past days do not change while today's sends race, so the one
 * conditional update on today's counter (the messaging store's `reserve`) holds both the daily and the
 * rolling weekly cap under concurrent triggers.
 */
export function reservationCaps(
  caps: DecisionSettings['caps'],
  channel: Channel,
  days: MessagingView['caps'],
  today: string,
): { channel: number; overall: number } {
  const counts = sendCounts(days, today);
  const bound = (cap: Cap, count: { day: number; week: number }) =>
    Math.max(0, Math.min(cap.perDay, cap.perWeek - (count.week - count.day)));
  return {
    channel: bound(caps[channel], counts.by.get(channel) ?? ZERO),
    overall: bound(caps.all, counts.all),
  };
}

/** Why a cap is reached, or undefined. */
function capped(count: { day: number; week: number }, cap: Cap): string | undefined {
  if (count.day >= cap.perDay) return `${count.day} today of ${cap.perDay} a day`;
  if (count.week >= cap.perWeek) return `${count.week} in 7 days of ${cap.perWeek} a week`;
  return undefined;
}

/** The consenting channels a message can go through, in campaign order; else why none. */
function usableChannels(
  consenting: readonly Channel[],
  { messaging: consent, customer, settings }: DecisionInput,
  variant: Variant,
  explain: string[],
): Channel[] | 'suppressed' | 'unreachable' | 'no_content' {
  // The reason for none is the furthest step any channel passed.
  let furthest: 'suppressed' | 'unreachable' | 'no_content' = 'suppressed';
  const usable: Channel[] = [];
  for (const ch of consenting) {
    const suppression = consent.suppressed[ch];
    if (suppression) {
      explain.push(`${ch} suppressed (${suppression.reason}, ${suppression.at})`);
      continue;
    }
    if (!(ch === 'webhook' ? settings.webhookConfigured : customer.reachable[ch])) {
      explain.push(`${ch} unreachable (no ${ADDRESS[ch]})`);
      if (furthest === 'suppressed') furthest = 'unreachable';
      continue;
    }
    if (!variant.content[ch]) {
      explain.push(`variant ${variant.id} has no ${ch} content`);
      furthest = 'no_content';
      continue;
    }
    usable.push(ch);
  }
  return usable.length > 0 ? usable : furthest;
}

const ADDRESS: Record<Channel, string> = {
  email: 'e-mail address',
  sms: 'phone number',
  push: 'push token',
  webhook: 'webhook configured',
};

/** Channels by engagement score, the campaign's order breaking ties (a stable sort). */
function rank(
  channels: Channel[],
  engagement: CustomerFacts['engagement'],
  explain: string[],
): readonly Channel[] {
  if (channels.length < 2 || !engagement) return channels;
  const scores = new Map(channels.map((ch) => [ch, engagementScore(engagement[ch])]));
  const ranked = [...channels].sort((a, b) => (scores.get(b) ?? 0) - (scores.get(a) ?? 0));
  if (ranked.some((ch, i) => ch !== channels[i])) {
    explain.push(
      `ranked by engagement: ${ranked.map((ch) => `${ch} ${(scores.get(ch) ?? 0).toFixed(3)}`).join(', ')}`,
    );
  }
  return ranked;
}

type BestSendTime = Extract<CampaignDefinition['sendTime'], { mode: 'best' }>;

/**
 * The customer's most active local hour whose next start (or the end of quiet hours within that hour)
 * lies within `withinHours` and outside quiet hours; else the fallback hour on the same terms; else the
 * first instant outside quiet hours (which may lie beyond the window: quiet hours win over the window).
 */
function bestTime(
  now: number,
  zone: string,
  hours: readonly number[] | undefined,
  { fallbackHour, withinHours }: BestSendTime,
  quiet: QuietHours | undefined,
  explain: string[],
): { sendAt: number; reason: DecisionReason } {
  const windowEnd = now + withinHours * HOUR;
  const at = (hour: number): number | undefined => {
    const start = nextHourStart(now, hour, zone);
    const t = quiet ? quietHoursEnd(start, quiet, zone) : start;
    return t <= windowEnd && localHour(t, zone) === hour ? t : undefined;
  };
  const total = hours?.reduce((sum, n) => sum + n, 0) ?? 0;
  if (hours && total >= MIN_ACTIVITY) {
    const current = localHour(now, zone);
    const ranked = hours
      .map((count, hour) => ({ count, hour, wait: (hour - current + 24) % 24 }))
      .filter((h) => h.count > 0)
      .sort((a, b) => b.count - a.count || a.wait - b.wait);
    for (const { hour, count } of ranked) {
      const t = at(hour);
      if (t !== undefined) {
        explain.push(`best hour ${hour}:00 (${count} of ${total} events) at ${iso(t)}`);
        return { sendAt: t, reason: 'best_hour' };
      }
    }
    explain.push(`no active hour fits the next ${withinHours} h outside quiet hours`);
  } else {
    explain.push(`${total} events of activity (< ${MIN_ACTIVITY}): fallback hour`);
  }
  const t = at(fallbackHour);
  if (t !== undefined) {
    explain.push(`fallback hour ${fallbackHour}:00 at ${iso(t)}`);
    return { sendAt: t, reason: 'fallback_hour' };
  }
  const sendAt = quiet ? quietHoursEnd(now, quiet, zone) : now;
  explain.push(`fallback hour ${fallbackHour}:00 does not fit either: first allowed instant ${iso(sendAt)}`);
  return { sendAt, reason: 'earliest_allowed' };
}

/** `now` if its local hour is `hour`, else the next instant the local clock reads `hour`:00. */
function nextHourStart(now: number, hour: number, zone: string): number {
  if (localHour(now, zone) === hour) return now;
  const today = localDate(now, zone);
  for (let d = 0; d < 3; d++) {
    const t = instantAt(addDays(today, d), hour * 60, zone);
    if (t > now) return t;
  }
  return now + DAY; // unreachable: a local hour recurs within two days in every zone
}

const iso = (ms: number) => new Date(ms).toISOString();
