// The trigger engine (pure): what an activity, a segment change, a date or a lapse of activity asks of
// the campaigns. It returns commands — open a wait, cancel waits, or a candidate for the send decision —
// and never does I/O: the consumers apply the commands through the waits store (waits.ts), and the
// back-test runs the same functions over the archive. docs/campaigns.md, "Triggers and timers".
import { createHash } from 'node:crypto';
import type { FieldIssue } from '../ingest/spec.js';
import type { SegmentChange } from '../segmentation/model.js';
import { ACTIVITY_PROPERTY_KEYS, type Activity, type ActivityProperties } from './activity.js';
import type { CampaignDefinition, Trigger } from './model.js';
import type { NewWait } from './waits.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** What a trigger found: the send decision takes it from here. */
export interface Candidate {
  campaignId: string;
  customerId: string;
  /**
   * What this occurrence of the trigger is, stable across redeliveries and re-runs (the opening event's
   * messageId, the run's day, the birthday's year): with the campaign and the customer it makes the send
   * id, so the same occurrence never sends twice.
   */
  triggerKey: string;
  /** When it happened: the event time, the run's as-of, the local date and time, the lapse's end. */
  triggeredAt: string;
  /** What templates and the decision may use: the triggering event's properties, the segments. */
  context: TriggerContext;
}

export interface TriggerContext {
  messageId?: string;
  event?: string;
  properties?: ActivityProperties;
  segment?: { from: string | null; to: string | null };
  [key: string]: unknown;
}

export type Command =
  | { readonly command: 'open_wait'; readonly wait: NewWait }
  | {
      readonly command: 'cancel_waits';
      readonly customerId: string;
      /** The cancelling event: only waits listing it in their `cancelOn` are cancelled. */
      readonly event: string;
      readonly campaignIds: string[];
      /** Only waits triggered at or before the cancelling event (ISO): a replayed old order spares a newer cart. */
      readonly before: string;
    }
  | { readonly command: 'candidate'; readonly candidate: Candidate };

type Campaign = Pick<CampaignDefinition, 'id' | 'trigger' | 'maxEventAgeMinutes'>;
type EventTrigger = Extract<Trigger, { type: 'event' }>;

/**
 * Whether an event that happened at `at` is too old for the campaign at `now` (a backfill, a replay, a
 * message that sat in a DLQ): it then opens and fires nothing.
 */
export const isStale = (campaign: Pick<CampaignDefinition, 'maxEventAgeMinutes'>, at: number, now: number) =>
  now - at > campaign.maxEventAgeMinutes * MINUTE;

/**
 * Ids from clients (cart ids, messageIds) go into keys: DynamoDB caps a sort key at 1,024 bytes, so one
 * over 100 bytes becomes its first 32 characters and its SHA-256, the same for the same id (the rule
 * lib/identity/nodes.ts applies to node keys, with its own lengths).
 */
export function keyPart(id: string): string {
  if (Buffer.byteLength(id) <= 100) return id;
  return `${Array.from(id).slice(0, 32).join('')}~${createHash('sha256').update(id).digest('base64url')}`;
}

/**
 * The commands an activity asks for. Cancels come first and apply whatever the event's age: a late or
 * replayed order still proves the cart was bought, and a cancel can only prevent a send, never cause one
 * (`before` keeps it from cancelling waits opened by later events). Opens and immediate candidates are
 * refused for a stale activity. `campaigns` are those to evaluate: the enabled ones live, the one under
 * test in a back-test.
 */
export function onActivity(campaigns: readonly Campaign[], activity: Activity, now: number): Command[] {
  const event = activity.type === 'track' ? activity.event : undefined;
  if (event === undefined) return [];
  const commands: Command[] = [];
  const cancelled = campaigns.filter(
    (c) => c.trigger.type === 'event' && c.trigger.wait?.cancelOn.includes(event),
  );
  if (cancelled.length > 0)
    commands.push({
      command: 'cancel_waits',
      customerId: activity.customerId,
      event,
      campaignIds: cancelled.map((c) => c.id),
      before: activity.timestamp,
    });
  const at = Date.parse(activity.timestamp);
  for (const campaign of campaigns) {
    const trigger = campaign.trigger;
    if (
      trigger.type !== 'event' ||
      trigger.event !== event ||
      !matchesWhere(trigger.where, activity.properties)
    )
      continue;
    if (isStale(campaign, at, now)) continue;
    const context: TriggerContext = { messageId: activity.messageId, event, properties: activity.properties };
    if (trigger.wait === undefined) {
      const triggerKey = `event:${keyPart(activity.messageId)}`;
      commands.push({
        command: 'candidate',
        candidate: {
          campaignId: campaign.id,
          customerId: activity.customerId,
          triggerKey,
          triggeredAt: activity.timestamp,
          context,
        },
      });
      continue;
    }
    const waitKey = waitKeyOf(trigger, activity);
    commands.push({
      command: 'open_wait',
      wait: {
        kind: 'wait',
        campaignId: campaign.id,
        customerId: activity.customerId,
        waitKey,
        triggerKey: `${waitKey}:${keyPart(activity.messageId)}`,
        triggeredAt: activity.timestamp,
        // A late event's wait may be over already: it fires at the next sweep, never in the past.
        dueAt: new Date(Math.max(at + trigger.wait.minutes * MINUTE, now)).toISOString(),
        cancelOn: trigger.wait.cancelOn,
        context,
      },
    });
  }
  return commands;
}

/** One wait per cart (the cart id, else the customer's one cart) or per customer. */
function waitKeyOf(trigger: EventTrigger, activity: Activity): string {
  if (trigger.wait?.key !== 'cart') return 'customer';
  const cartId = activity.properties.cart_id;
  return cartId === undefined ? 'cart' : `cart:${keyPart(cartId)}`;
}

/** Every `where` entry equals the activity's property (numbers as numbers, strings exactly). */
export function matchesWhere(where: EventTrigger['where'], properties: ActivityProperties): boolean {
  if (where === undefined) return true;
  return Object.entries(where).every(([key, expected]) => {
    const actual: unknown = Object.hasOwn(properties, key)
      ? properties[key as keyof ActivityProperties]
      : undefined;
    return actual === expected;
  });
}

/**
 * Save-time checks of a trigger: a `where` on a property the activity does not carry could never match,
 * so it is refused rather than silently never firing.
 */
export function triggerIssues(trigger: Trigger): FieldIssue[] {
  if (trigger.type !== 'event' || trigger.where === undefined) return [];
  const known = new Set<string>(ACTIVITY_PROPERTY_KEYS);
  return Object.keys(trigger.where)
    .filter((key) => !known.has(key))
    .map((key) => ({
      path: `trigger.where.${key}`,
      code: 'unknown_property',
      message: `triggers can test ${ACTIVITY_PROPERTY_KEYS.join(', ')}`,
    }));
}

/**
 * Candidates of a published run's segment change: entry into (or exit from) the campaign's segment. The
 * trigger key names the segment, the direction and the run's as-of day, not the run: a re-run or a
 * re-delivered message of the same day sends nothing twice. A run as of a time older than the campaign's
 * staleness bound (an old run re-published) triggers nothing.
 */
export function onSegmentChange(
  campaigns: readonly Campaign[],
  change: SegmentChange,
  runAsOf: string,
  now: number,
): Candidate[] {
  const candidates: Candidate[] = [];
  const at = Date.parse(runAsOf);
  for (const campaign of campaigns) {
    const trigger = campaign.trigger;
    if (trigger.type !== 'segment' || isStale(campaign, at, now)) continue;
    const hit =
      trigger.on === 'enter'
        ? change.to === trigger.segment && change.from !== trigger.segment
        : change.from === trigger.segment && change.to !== trigger.segment;
    if (!hit) continue;
    candidates.push({
      campaignId: campaign.id,
      customerId: change.customerId,
      triggerKey: `${trigger.segment}:${trigger.on}:${runAsOf.slice(0, 10)}`,
      triggeredAt: new Date(at).toISOString(),
      context: { segment: { from: change.from, to: change.to } },
    });
  }
  return candidates;
}

/** The facts of a customer's live profile (lib/profiles/view.ts) that inactivity reads. */
export interface ActivityFacts {
  customerId: string;
  lastSeen?: string;
  lastOrderAt?: string;
}

/**
 * Customers whose lapse of visits (any event) or orders reached the campaign's N days: each lapse is one
 * occurrence, keyed by the day of the last activity, so the hourly job finds it again and sends once; a
 * new visit or order starts a new lapse. A lapse that ended longer ago than the staleness bound (the job
 * was down, or the campaign is new) triggers nothing: the campaign acts on customers as they lapse, not
 * on everyone long gone. A customer who never ordered has no order lapse.
 */
export function inactivityCandidates(
  campaign: Campaign,
  facts: readonly ActivityFacts[],
  now: number,
): Candidate[] {
  const trigger = campaign.trigger;
  if (trigger.type !== 'inactivity') return [];
  const candidates: Candidate[] = [];
  for (const f of facts) {
    const last = trigger.of === 'visit' ? f.lastSeen : f.lastOrderAt;
    if (last === undefined) continue;
    const lapsedAt = Date.parse(last) + trigger.days * DAY;
    if (lapsedAt > now || isStale(campaign, lapsedAt, now)) continue;
    candidates.push({
      campaignId: campaign.id,
      customerId: f.customerId,
      triggerKey: `${trigger.of}-inactive:${new Date(Date.parse(last)).toISOString().slice(0, 10)}`,
      triggeredAt: new Date(lapsedAt).toISOString(),
      context: {},
    });
  }
  return candidates;
}
