// The back-test: what a campaign would have done over a past period, before it is enabled. The archive's
// events of the period replay in event-time order through the same pure parts the engine runs —
// triggers (onActivity), waits (in memory, swept as the clock passes their due time), the audience and
// the send decision — with nothing written and nothing sent. The answer: how many candidates, how many
// would have been sent, held out or skipped and why, per day ("this abandoned-cart rule would have fired
// 49 times last week"). docs/campaigns.md, "Back-test".
//
// What it can and cannot know: consent, unsubscribes and suppressions are as they are now (a customer
// who opted out since is counted as skipped, which is what enabling the campaign today would do); the
// audience reads the profile as it is now; caps and re-entry count only this campaign's own simulated
// sends (other campaigns' sends of the period are not replayed). Event triggers only: segment entries
// come from nightly runs, and date and inactivity triggers from schedules, not from the archive.
import pMap from 'p-map';
import { z } from 'zod';
import { memoryWaitStore } from '../adapters/memory/waitStore.js';
import type { FieldIssue } from '../ingest/spec.js';
import { invalid, notFound, type Outcome, ok } from '../outcome.js';
import type { TagCatalogue } from '../tags/catalogue.js';
import type { Activity } from './activity.js';
import { evaluateAudience } from './audience.js';
import { type DecisionSettings, decide, localDay, type MessagingView } from './decision.js';
import { audienceOf, decisionInput, type Recipient, type RecipientReader } from './dispatch.js';
import { addDays, localDate } from './localTime.js';
import type { DayCount, Entry, MessagingStore } from './messaging.js';
import type { Campaign, CampaignId } from './model.js';
import type { CampaignStore } from './store.js';
import { type Candidate, onActivity } from './triggers.js';
import { applyCommands, deferredSend, sweepDueWaits } from './waits.js';

/** The longest period one back-test replays. */
export const MAX_BACKTEST_DAYS = 31;
/**
 * Events one back-test replays at most, in one request: a day of a large shop is more, and the answer then
 * says where it stopped (a period of millions of events is for the archive's SQL engine, step 5).
 */
export const BACKTEST_MAX_EVENTS = 200_000;
/** Replay time one request may take (the HTTP API's integration timeout is 30 s). */
export const BACKTEST_TIME_MS = 20_000;
/**
 * Events received up to this many days after the period still count (a phone offline for days sends
 * late): the archive is partitioned by the day events arrived, the period is in event time.
 */
export const LATE_ARRIVAL_DAYS = 3;
const DAY_MS = 86_400_000;
/** As in the dispatcher: a send more than a minute ahead (a best hour) waits like a deferral. */
const LATER_MS = 60_000;

export interface ArchiveWindow {
  /** Event time, epoch ms: [start, end). */
  readonly start: number;
  readonly end: number;
  readonly limit: number;
}

export interface BacktestDeps {
  /**
   * The activities of the events archived on a day (`receivedAt`) whose event time is in [start, end),
   * customers as the index knows them now; at most `limit` of them (the replay's remaining budget, plus
   * one: a full answer tells the replay it stopped early).
   */
  readonly archivedOn: (day: string, window: ArchiveWindow) => Promise<readonly Activity[]>;
  readonly recipients: RecipientReader;
  /** The enabled tag definitions, for audiences with tag conditions (dispatch.ts `audienceOf`). */
  readonly tags?: TagCatalogue;
  readonly messaging: Pick<MessagingStore, 'snapshot'>;
  readonly settings: DecisionSettings;
  /** Events read at most (the answer says when it stopped early). */
  readonly maxEvents: number;
  /** Today (UTC date): partitions after it are not read. */
  readonly today: string;
  /** Whether the request's time is up: the replay stops there, as when the event budget runs out. */
  readonly timeUp?: () => boolean;
}

export interface BacktestCounts {
  candidates: number;
  wouldSend: number;
  control: number;
  holdout: number;
  /** Per reason (decision reasons, `audience`, `unknown_customer`). */
  skipped: Record<string, number>;
}

export interface BacktestResult extends BacktestCounts {
  campaignId: string;
  from: string;
  to: string;
  /** Events of the period replayed. */
  events: number;
  /** Distinct customers who would have been sent at least one message. */
  customersReached: number;
  /** Deferred sends (quiet hours, best time) still waiting at the period's end. */
  pendingAtEnd: number;
  /** Per day of the decision (the stage's business zone), days without a candidate omitted. */
  days: (BacktestCounts & { day: string })[];
  /** The event or time budget ran out: the counts cover the events up to `stoppedAt`. */
  truncated: boolean;
  stoppedAt?: string;
}

const emptyCounts = (): BacktestCounts => ({
  candidates: 0,
  wouldSend: 0,
  control: 0,
  holdout: 0,
  skipped: {},
});

/** Whether a campaign's trigger can be replayed from the archive. */
export const backtestable = (campaign: Pick<Campaign, 'trigger'>): boolean =>
  campaign.trigger.type === 'event';

/**
 * Replays [from, to] (UTC dates, event time) for one campaign. The caller checks `backtestable` and the
 * period's bounds (MAX_BACKTEST_DAYS).
 */
export async function backtestCampaign(
  campaign: Campaign,
  period: { from: string; to: string },
  deps: BacktestDeps,
): Promise<BacktestResult> {
  const start = Date.parse(`${period.from}T00:00:00.000Z`);
  const end = Date.parse(`${period.to}T00:00:00.000Z`) + DAY_MS;
  const sim = simulation(campaign, deps);
  let events = 0;
  let truncated = false;
  let stoppedAt: string | undefined;
  // Every partition that may hold the period's events, read a day at a time; each day's events are
  // replayed in event-time order (a late event lands in a later partition and is replayed late: its
  // wait still counts from its own time, as the engine's would).
  const lastDay = minDay(addDays(period.to, LATE_ARRIVAL_DAYS), deps.today);
  for (let day = period.from; day <= lastDay && !truncated; day = addDays(day, 1)) {
    const window = { start, end, limit: deps.maxEvents - events + 1 };
    const activities = [...(await deps.archivedOn(day, window))].sort((a, b) =>
      a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0,
    );
    await sim.prefetch(activities);
    for (const activity of activities) {
      if (events >= deps.maxEvents || deps.timeUp?.()) {
        truncated = true;
        break;
      }
      events++;
      stoppedAt = activity.timestamp;
      await sim.at(Date.parse(activity.timestamp), activity);
    }
  }
  // Waits that end within the period fire; later ones would fire after it.
  const until = truncated && stoppedAt !== undefined ? Date.parse(stoppedAt) : end - 1;
  await sim.at(until);
  return {
    campaignId: campaign.id,
    from: period.from,
    to: period.to,
    events,
    ...sim.totals(),
    truncated,
    ...(truncated && stoppedAt !== undefined ? { stoppedAt } : {}),
  };
}

const minDay = (a: string, b: string) => (a < b ? a : b);

/** The replay's state: the campaign's waits, the customers read, their simulated caps and entries. */
function simulation(campaign: Campaign, deps: BacktestDeps) {
  const waits = memoryWaitStore();
  const total = emptyCounts();
  const byDay = new Map<string, BacktestCounts>();
  const reached = new Set<string>();
  const recipients = new Map<string, Promise<Recipient | undefined>>();
  const state = new Map<
    string,
    { base: MessagingView; caps: Record<string, DayCount>; entries: Record<string, Entry> }
  >();

  /** Counts a candidate's final outcome on the day it was decided (a deferral is not final). */
  const count = (now: number, apply: (c: BacktestCounts) => void) => {
    const day = localDate(now, deps.settings.defaultZone);
    const counts = byDay.get(day) ?? emptyCounts();
    byDay.set(day, counts);
    for (const c of [counts, total]) {
      c.candidates++;
      apply(c);
    }
  };
  const skip = (now: number, reason: string) =>
    count(now, (c) => {
      c.skipped[reason] = (c.skipped[reason] ?? 0) + 1;
    });

  const recipientOf = (customerId: string, now: number) => {
    let found = recipients.get(customerId);
    if (found === undefined) {
      found = deps.recipients.read(customerId, now);
      recipients.set(customerId, found);
    }
    return found;
  };
  const messagingOf = async (r: Recipient) => {
    let s = state.get(r.customerId);
    if (s === undefined) {
      // Consent, unsubscribe and suppression as they are now; caps and entries are the replay's own.
      const snapshot = await deps.messaging.snapshot(r.customerId, { localDays: [], addresses: r.addresses });
      s = { base: snapshot, caps: {}, entries: {} };
      state.set(r.customerId, s);
    }
    return s;
  };

  async function decideOne(candidate: Candidate, now: number) {
    const recipient = await recipientOf(candidate.customerId, now);
    if (recipient === undefined) return skip(now, 'unknown_customer');
    const c = { ...candidate, customerId: recipient.customerId };
    if (!evaluateAudience(campaign.audience, await audienceOf(campaign, recipient, deps.tags, now)).ok)
      return skip(now, 'audience');
    const s = await messagingOf(recipient);
    const view: MessagingView = { ...s.base, caps: s.caps, entries: s.entries };
    const decision = decide(decisionInput(campaign, c, recipient, view, now, deps.settings));
    const later = decision.sendAt !== undefined && decision.sendAt > now + LATER_MS;
    if (decision.outcome === 'defer' || (decision.outcome === 'send' && later)) {
      // Decided again when its time comes, as the engine's deferred send is.
      await waits.open(
        deferredSend({ ...c, context: { ...c.context, firstDecidedAt: now } }, decision.sendAt ?? now),
        now,
      );
      return;
    }
    if (decision.outcome === 'skip') return skip(now, decision.reason);
    s.entries[campaign.id] = { triggerKey: c.triggerKey, at: new Date(now).toISOString() };
    if (decision.outcome === 'send') {
      reached.add(c.customerId);
      const day = localDay(now, recipient.view.timezone, deps.settings.defaultZone);
      const channel = decision.channel ?? 'email';
      const was = s.caps[day] ?? { overall: 0, channels: {} };
      s.caps[day] = {
        overall: was.overall + 1,
        channels: { ...was.channels, [channel]: (was.channels[channel] ?? 0) + 1 },
      };
      return count(now, (x) => {
        x.wouldSend++;
      });
    }
    const group = decision.outcome;
    return count(now, (x) => {
      x[group]++;
    });
  }

  /** Fires the waits due by `now`, each decided at its due time, then handles the activity, if any. */
  async function at(now: number, activity?: Activity) {
    for (let more = true; more; ) {
      const swept = await sweepDueWaits(now, { waits, limit: 1000, concurrency: 1 });
      for (const { candidate, dueAt } of swept.fired) await decideOne(candidate, Date.parse(dueAt));
      // A wait decided into a deferral due by `now` fires in the next round.
      more = swept.more || swept.fired.length > 0;
    }
    if (activity === undefined) return;
    const applied = await applyCommands(onActivity([campaign], activity, now), waits, now);
    for (const candidate of applied.candidates) await decideOne(candidate, now);
  }

  /**
   * Reads, a few at a time, the customers whose events may trigger the campaign: the replay itself is
   * sequential (caps and re-entry depend on order) and then finds them in memory.
   */
  async function prefetch(activities: readonly Activity[]) {
    const trigger = campaign.trigger;
    if (trigger.type !== 'event') return;
    const ids = new Set(activities.filter((a) => a.event === trigger.event).map((a) => a.customerId));
    const at = activities.length > 0 ? Date.parse(activities[0]?.timestamp ?? '') : Date.now();
    await pMap(
      ids,
      async (id) => {
        const r = await recipientOf(id, at);
        if (r !== undefined) await messagingOf(r);
      },
      { concurrency: 16 },
    );
  }

  return {
    at,
    prefetch,
    totals: () => ({
      ...total,
      customersReached: reached.size,
      pendingAtEnd: waits.all().filter((w) => w.status === 'pending').length,
      days: [...byDay.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([day, c]) => ({ day, ...c })),
    }),
  };
}

// --- The API: POST /v1/campaigns/{id}/backtest ---------------------------------------------------------

const UtcDate = z.iso.date().meta({ description: 'A UTC calendar day, YYYY-MM-DD', example: '2026-11-23' });

export const BacktestRequest = z
  .object({
    from: UtcDate,
    to: UtcDate,
    version: z.number().int().min(1).optional().meta({ description: 'A past version (default: the latest)' }),
  })
  .meta({ id: 'BacktestRequest' });
export type BacktestRequest = z.infer<typeof BacktestRequest>;

const Counts = {
  candidates: z.number().int(),
  wouldSend: z.number().int(),
  control: z.number().int(),
  holdout: z.number().int(),
  skipped: z
    .record(z.string(), z.number().int())
    .meta({ description: 'Per reason (the decision log’s reasons)' }),
};
export const BacktestResponse = z
  .object({
    campaignId: z.string(),
    version: z.number().int(),
    from: z.string(),
    to: z.string(),
    events: z.number().int(),
    ...Counts,
    customersReached: z.number().int(),
    pendingAtEnd: z.number().int(),
    days: z.array(z.object({ day: z.string(), ...Counts })),
    truncated: z.boolean(),
    stoppedAt: z.string().optional(),
  })
  .meta({ id: 'BacktestResponse' });

export interface BacktestApiDeps extends Omit<BacktestDeps, 'today'> {
  readonly campaigns: Pick<CampaignStore, 'get' | 'getVersion'>;
  readonly now: () => number;
}

/** The use case behind the route: the campaign (or a past version), the period checked, the replay. */
export async function runBacktest(
  id: CampaignId,
  request: BacktestRequest,
  deps: BacktestApiDeps,
): Promise<Outcome<z.infer<typeof BacktestResponse>>> {
  const campaign =
    request.version === undefined
      ? await deps.campaigns.get(id)
      : await deps.campaigns.getVersion(id, request.version);
  if (campaign === undefined)
    return notFound(
      request.version === undefined ? `no campaign ${id}` : `no version ${request.version} of ${id}`,
    );
  const issues = periodIssues(request, localDate(deps.now(), 'UTC'));
  if (issues.length > 0) return invalid('the period cannot be back-tested', issues);
  if (!backtestable(campaign))
    return invalid('only event-triggered campaigns can be back-tested', [
      {
        path: 'trigger.type',
        code: 'not_backtestable',
        message: `a ${campaign.trigger.type} trigger is not in the archive (segment changes come from nightly runs, dates and inactivity from schedules)`,
      },
    ]);
  // The HTTP API answers within 30 s: the replay stops after 20 and says so.
  const deadline = deps.now() + BACKTEST_TIME_MS;
  const result = await backtestCampaign(campaign, request, {
    ...deps,
    today: localDate(deps.now(), 'UTC'),
    timeUp: () => deps.now() > deadline,
  });
  return ok({ ...result, version: campaign.version });
}

function periodIssues({ from, to }: BacktestRequest, today: string): FieldIssue[] {
  if (to < from) return [{ path: 'to', code: 'before_from', message: `${to} is before from (${from})` }];
  if (to >= today)
    return [
      {
        path: 'to',
        code: 'not_ended',
        message: `the period must have ended: ${to} is not before today (${today}, UTC)`,
      },
    ];
  const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
  if (days > MAX_BACKTEST_DAYS)
    return [
      {
        path: 'to',
        code: 'too_long',
        message: `${days} days: at most ${MAX_BACKTEST_DAYS} days are replayed at once`,
      },
    ];
  return [];
}
