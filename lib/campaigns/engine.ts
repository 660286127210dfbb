// The campaign engine's use cases, one per source: an activity (the profiles consumer's feed), a published
// run's segment changes, and the minute's timer sweep. Each turns its input into trigger commands and
// candidates (triggers.ts, pure), applies them to the waits table and hands candidates to the dispatcher
// (dispatch.ts). Ports come in through EngineDeps; docs/campaigns.md, "The path of a message".
import pMap from 'p-map';
import type { SegmentChangesMessage } from '../segmentation/model.js';
import { recordConsent } from './consent.js';
import { type DatedEntry, type DateIndex, recordDates } from './dateIndex.js';
import { type DatedCustomer, dueDateTriggers } from './dates.js';
import { type DispatchDeps, type Dispatched, dispatchCandidate } from './dispatch.js';
import { factsOf, type LapseIndex, lapseDayAt } from './lapseIndex.js';
import { addDays, localDate } from './localTime.js';
import type { Campaign, DateTrait } from './model.js';
import type { QueuedActivity } from './publish.js';
import { recordGoal as countGoal } from './reportStore.js';
import { type Candidate, inactivityCandidates, onActivity, onSegmentChange } from './triggers.js';
import { applyCommands, cancelledByTimeline, deferredSend, sweepDueWaits, type Wait } from './waits.js';

/**
 * A container's list of the enabled campaigns is read again after this long in any case: the bound for
 * a save whose revision was never written (its writer died in between); `sync` reads it sooner.
 */
export const CAMPAIGN_CACHE_MS = 60_000;
/** A campaign asked for by id and missing from a list at least this old is read again (see `get`). */
export const MISS_REFRESH_MS = 5_000;
/** A fired wait whose dispatch failed is tried again this much later (as a deferred send). */
const RETRY_MS = 5 * 60_000;
/** Campaigns read per page of the listing. */
const PAGE = 100;

export interface EnabledCampaigns {
  all(now: number): Promise<readonly Campaign[]>;
  /** The enabled campaign of an id, or undefined (disabled, archived, unknown). */
  get(id: string, now: number): Promise<Campaign | undefined>;
  /**
   * Reads the catalog's revision (one consistent read) and drops the cached list when a version was
   * written since it was read. Each engine entry point calls it once per message or run, so a campaign
   * saved, enabled or disabled acts on every event that arrives after the save was answered.
   */
  sync(): Promise<void>;
}

/** Where the enabled campaigns come from: the campaign store (lib/campaigns/store.ts). */
export interface CampaignSource {
  list(page: { limit: number; cursor?: string; archived: boolean }): Promise<{
    readonly items: readonly Campaign[];
    readonly nextCursor?: string;
  }>;
  revision(): Promise<number>;
}

/**
 * The enabled campaigns, listed from the store (per container) when a save moved the catalog's revision
 * (see `sync`), and at most CAMPAIGN_CACHE_MS after the last listing in any case: the engine reads them
 * for every activity. A lookup by id that misses reads sooner (see `get`).
 */
export function enabledCampaigns(source: CampaignSource, ttlMs = CAMPAIGN_CACHE_MS): EnabledCampaigns {
  let cached: { at: number; campaigns: Promise<readonly Campaign[]> } | undefined;
  /** The highest revision seen: a list read after it was read holds every version up to it. */
  let revision: number | undefined;
  const load = async () => {
    const out: Campaign[] = [];
    let cursor: string | undefined;
    do {
      const page = await source.list({ limit: PAGE, archived: false, ...(cursor ? { cursor } : {}) });
      out.push(...page.items.filter((c) => c.enabled && !c.archived));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return out;
  };
  const all = (now: number) => {
    if (cached === undefined || now - cached.at >= ttlMs || now < cached.at) {
      const campaigns = load();
      cached = { at: now, campaigns };
      // A failed read is not kept: the next call tries again.
      campaigns.catch(() => {
        if (cached?.campaigns === campaigns) cached = undefined;
      });
    }
    return cached.campaigns;
  };
  return {
    all,
    async get(id, now) {
      const found = (await all(now)).find((c) => c.id === id);
      if (found !== undefined || cached === undefined || now - cached.at < MISS_REFRESH_MS) return found;
      // A campaign saved after this list was read: a wait that another container opened for it fires
      // here, and dropping it as inactive would lose the send. Read again rather than drop it; a disabled
      // campaign's fired waits cost one read per MISS_REFRESH_MS at most.
      cached = undefined;
      return (await all(now)).find((c) => c.id === id);
    },
    async sync() {
      // Read before any list that follows, so that list holds every version up to this revision. Calls
      // are not shared: one that began before a save may answer the old revision.
      const current = await source.revision();
      if (revision !== undefined && current <= revision) return;
      revision = current;
      cached = undefined;
    },
  };
}

export interface EngineDeps {
  readonly campaigns: EnabledCampaigns;
  readonly dispatch: DispatchDeps;
  /** The customer's recent events (the profile's timeline): the sweep's re-check of late cancels. */
  readonly recentEvents?: (customerId: string) => Promise<readonly { event?: string; timestamp: string }[]>;
  /** Who has a birthday (or an account anniversary) on a day: fed by activities, read by the date job. */
  readonly dates?: DateIndex;
  /**
   * Records an activity's day as its customer's last visit (and order) in the lapse index, which the
   * inactivity job reads (lapseIndex.ts: lapseRecorder); returns the entries moved.
   */
  readonly recordLapses?: (activity: QueuedActivity) => Promise<number>;
  readonly lapses?: LapseIndex;
}

export interface ActivityHandled {
  readonly opened: number;
  readonly cancelled: number;
  readonly dispatched: Dispatched[];
  readonly goals: number;
  readonly consent: number;
  readonly dates: number;
  /** Lapse index entries moved (a customer's first visit or order of a day). */
  readonly lapses: number;
}

/**
 * One activity: its consent choices recorded, its trigger commands applied (cancels, then opens), its
 * immediate candidates dispatched, and, when it is a campaign's goal event, its conversions counted.
 * Idempotent: a redelivered activity finds its waits open, its send claims taken and its counts done.
 */
export async function handleActivity(
  activity: QueuedActivity,
  now: number,
  deps: EngineDeps,
): Promise<ActivityHandled> {
  const { messaging, waits, stats } = deps.dispatch;
  for (const change of activity.consent ?? []) await recordConsent(activity.customerId, change, messaging);
  const dated =
    deps.dates !== undefined && activity.dates !== undefined
      ? await recordDates(activity.customerId, activity.dates, {
          index: deps.dates,
          cipher: deps.dispatch.cipher,
        })
      : undefined;
  const lapses = deps.recordLapses === undefined ? 0 : await deps.recordLapses(activity);
  const campaigns = await deps.campaigns.all(now);
  const applied = await applyCommands(onActivity(campaigns, activity, now), waits, now);
  const dispatched: Dispatched[] = [];
  for (const candidate of applied.candidates)
    dispatched.push(await dispatchCandidate(candidate, now, deps.dispatch));
  let goals = 0;
  if (activity.event !== undefined && campaigns.some((c) => c.goal.event === activity.event)) {
    const outcomes = await countGoal(
      {
        customerId: activity.customerId,
        event: activity.event,
        messageId: activity.messageId,
        at: activity.timestamp,
        ...(activity.properties.revenue !== undefined && activity.properties.revenue >= 0
          ? { revenue: activity.properties.revenue }
          : {}),
      },
      stats,
    );
    // Another delivery is counting the same conversion: fail the record so it comes back.
    if (outcomes.some((o) => o.outcome === 'busy'))
      throw new Error('a conversion is being counted elsewhere');
    goals = outcomes.filter((o) => o.outcome === 'applied').length;
  }
  return {
    opened: applied.opened,
    cancelled: applied.cancelled,
    dispatched,
    goals,
    consent: activity.consent?.length ?? 0,
    dates: dated?.set ?? 0,
    lapses,
  };
}

/** One message of the campaign-activity queue: the campaigns synced, then each activity in order. */
export async function handleActivities(
  activities: readonly QueuedActivity[],
  now: () => number,
  deps: EngineDeps,
): Promise<ActivityHandled[]> {
  await deps.campaigns.sync();
  const handled: ActivityHandled[] = [];
  for (const activity of activities) handled.push(await handleActivity(activity, now(), deps));
  return handled;
}

/** A published run's segment changes: each entry or exit a campaign triggers on is dispatched. */
export async function handleSegmentChanges(
  message: SegmentChangesMessage,
  now: number,
  deps: EngineDeps,
): Promise<Dispatched[]> {
  await deps.campaigns.sync();
  const campaigns = await deps.campaigns.all(now);
  if (!campaigns.some((c) => c.trigger.type === 'segment')) return [];
  const dispatched: Dispatched[] = [];
  for (const change of message.changes)
    for (const candidate of onSegmentChange(campaigns, change, message.asOf, now))
      dispatched.push(await dispatchCandidate(candidate, now, deps.dispatch));
  return dispatched;
}

export interface SweepHandled {
  readonly fired: number;
  readonly lost: number;
  readonly cancelledLate: number;
  readonly dispatched: Dispatched[];
  /** Rows were still due when the sweep stopped (the next minute continues). */
  readonly more: boolean;
}

export interface SweepOptions {
  /** Whether another page may start (the caller's time budget): a page fired must be dispatched in full. */
  readonly another?: () => boolean;
  /** Waits fired per page, and dispatched at once. */
  readonly pageSize?: number;
  readonly concurrency?: number;
}

/**
 * The minute's sweep: fires due waits a page at a time and dispatches each fired one, while `another()`
 * allows (the schedule's next run continues). A page is small and dispatched concurrently, so the page
 * begun last ends well within the function's timeout: a wait fired and never dispatched would be lost.
 */
export async function sweepTimers(
  now: number,
  deps: EngineDeps,
  options: SweepOptions = {},
): Promise<SweepHandled> {
  const recent = deps.recentEvents;
  const cancelledLate =
    recent === undefined ? undefined : async (w: Wait) => cancelledByTimeline(w, await recent(w.customerId));
  const total = { fired: 0, lost: 0, cancelledLate: 0, dispatched: [] as Dispatched[], more: false };
  const concurrency = options.concurrency ?? 8;
  // A campaign disabled a moment ago sends nothing from now on; one just enabled is found.
  await deps.campaigns.sync();
  do {
    const swept = await sweepDueWaits(now, {
      waits: deps.dispatch.waits,
      limit: options.pageSize ?? 100,
      ...(cancelledLate ? { cancelledLate } : {}),
    });
    total.fired += swept.fired.length;
    total.lost += swept.lost;
    total.cancelledLate += swept.cancelledLate;
    // A fired wait never fires again, so a candidate whose dispatch failed (a throttled channel, a
    // busy counter) is put back as a deferred send a few minutes on; the others go on meanwhile. The send
    // claim keeps a retry single.
    const outcomes = await pMap(
      swept.fired,
      async ({ candidate }) => {
        try {
          return await dispatchCandidate(candidate, now, deps.dispatch);
        } catch (error) {
          deps.dispatch.log.error('a fired wait was not dispatched; retried later', {
            campaignId: candidate.campaignId,
            triggerKey: candidate.triggerKey,
            error,
          });
          await deps.dispatch.waits.open(deferredSend(candidate, now + RETRY_MS), now);
          return undefined;
        }
      },
      { concurrency },
    );
    for (const o of outcomes) if (o !== undefined) total.dispatched.push(o);
    total.more = swept.more;
  } while (total.more && (options.another?.() ?? true));
  return total;
}

const HOUR_MS = 3_600_000;

/** What an hourly scheduling job (dates, inactivity) did for the hour it was given. */
export interface HourScheduled {
  /** The hour whose moments were scheduled: [hour, hour + 1 h). */
  readonly hour: string;
  readonly campaigns: number;
  /** Index rows read (the customers of the days the hour concerns). */
  readonly read: number;
  /** Deferred sends opened at each moment (the minute sweep dispatches them on time). */
  readonly scheduled: number;
  /** Moments already scheduled by an earlier run of the same hour. */
  readonly alreadyScheduled: number;
}

/** The counts of an hour begun at `start`, before any campaign. */
const nothingScheduled = (start: number) => ({
  hour: new Date(start).toISOString(),
  campaigns: 0,
  read: 0,
  scheduled: 0,
  alreadyScheduled: 0,
});

/** An index entry as the pure date trigger reads a customer: `--MM-DD`, or `YYYY-MM-DD` with a year. */
const datedCustomer = (trait: DateTrait, entry: DatedEntry): DatedCustomer => ({
  customerId: entry.customerId,
  ...(entry.zone !== undefined ? { timezone: entry.zone } : {}),
  dates: { [trait]: entry.year !== undefined ? `${entry.year}-${entry.monthDay}` : `--${entry.monthDay}` },
});

/** The month-days (MM-DD) whose date is, somewhere on Earth (UTC-12 .. UTC+14), within [start, end). */
function monthDaysAround(start: number, end: number): string[] {
  const days = new Set<string>();
  for (
    let d = addDays(localDate(start, 'UTC'), -1);
    d <= addDays(localDate(end, 'UTC'), 1);
    d = addDays(d, 1)
  ) {
    days.add(d.slice(5));
    // Feb 29 dates fall on Feb 28 in common years (dueDateTriggers decides which year is which).
    if (d.endsWith('-02-28')) days.add('02-29');
  }
  return [...days];
}

/**
 * The hourly date job: schedules the moments (a birthday at 09:00 in the customer's zone...) of the
 * enabled date campaigns that fall in the hour begun at or before `now`, as deferred sends due at each
 * moment; the minute sweep dispatches them, so a moment at 09:30 (India) is sent at 09:30, not on the
 * hour. A re-run of the hour opens nothing twice (the deferred send's key is the trigger key,
 * `<trait>:<year>`), and a send is claimed once per customer, campaign and year.
 */
export async function scheduleDateTriggers(
  now: number,
  deps: EngineDeps,
  clock: () => number = Date.now,
): Promise<HourScheduled> {
  const start = Math.floor(now / HOUR_MS) * HOUR_MS;
  const end = start + HOUR_MS;
  const result = nothingScheduled(start);
  const index = deps.dates;
  await deps.campaigns.sync();
  const campaigns = (await deps.campaigns.all(now)).filter((c) => c.trigger.type === 'date');
  if (index === undefined || campaigns.length === 0) return result;
  for (const campaign of campaigns) {
    if (campaign.trigger.type !== 'date') continue;
    const trait = campaign.trigger.trait;
    result.campaigns++;
    const due = (entries: readonly DatedEntry[]) =>
      dueDateTriggers(
        campaign,
        entries.map((e) => datedCustomer(trait, e)),
        start,
        end,
        deps.dispatch.settings.defaultZone,
      );
    const listed: DatedEntry[] = [];
    for (const monthDay of monthDaysAround(start, end)) listed.push(...(await index.on(trait, monthDay)));
    result.read += listed.length;
    // The index may hold an outdated row: the few customers due by it are checked against their current
    // date (and zone), and only those still due are scheduled.
    const dueIds = new Set(due(listed).map((c) => c.customerId));
    const candidates = due(
      await index.confirm(
        trait,
        listed.filter((e) => dueIds.has(e.customerId)),
      ),
    );
    const opened = await openScheduled(candidates, deps, clock);
    result.scheduled += opened.scheduled;
    result.alreadyScheduled += opened.alreadyScheduled;
  }
  return result;
}

/**
 * Opens scheduled candidates as deferred sends due at their moment (the minute sweep dispatches them in
 * pages): a re-run opens nothing twice, as the deferred send's key is the trigger key.
 */
async function openScheduled(
  candidates: readonly Candidate[],
  deps: EngineDeps,
  clock: () => number,
): Promise<{ scheduled: number; alreadyScheduled: number }> {
  const opened = await pMap(
    candidates,
    // Opened at the wall clock's time: a re-run of a past hour puts its moments, already due, in the
    // hour the sweep is at (never behind its watermark), so they go out now, late but once.
    (c) => deps.dispatch.waits.open(deferredSend(c, Date.parse(c.triggeredAt)), clock()),
    { concurrency: 8 },
  );
  const scheduled = opened.filter((o) => o === 'opened').length;
  return { scheduled, alreadyScheduled: opened.length - scheduled };
}

/**
 * The hourly job's inactivity part: in the hour that begins a UTC day, each enabled inactivity campaign
 * ("no order for 30 days") reads the one day of the lapse index whose customers have now gone its days
 * without a visit or an order, confirms each against the customer's current last day (a later visit
 * moved it), and opens their sends as deferred sends the minute sweep dispatches: the send decision then
 * places each in the customer's own hours (quiet hours, best send time). One lapse sends once: the
 * trigger key names the day of the last activity, and a new visit starts a new lapse.
 */
export async function scheduleInactivityTriggers(
  now: number,
  deps: EngineDeps,
  clock: () => number = Date.now,
): Promise<HourScheduled> {
  const start = Math.floor(now / HOUR_MS) * HOUR_MS;
  const result = nothingScheduled(start);
  const index = deps.lapses;
  if (index === undefined || start % (24 * HOUR_MS) !== 0) return result;
  await deps.campaigns.sync();
  for (const campaign of await deps.campaigns.all(now)) {
    const trigger = campaign.trigger;
    if (trigger.type !== 'inactivity') continue;
    result.campaigns++;
    const listed = await index.on(trigger.of, lapseDayAt(start, trigger.days));
    result.read += listed.length;
    const confirmed = await index.confirm(trigger.of, listed);
    // As of the hour's start, when the lapses end: a re-run later in the day finds the same ones.
    const candidates = inactivityCandidates(
      campaign,
      confirmed.map((e) => factsOf(trigger.of, e)),
      start,
    );
    const opened = await openScheduled(candidates, deps, clock);
    result.scheduled += opened.scheduled;
    result.alreadyScheduled += opened.alreadyScheduled;
  }
  return result;
}
