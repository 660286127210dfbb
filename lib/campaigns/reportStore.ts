// The live counters of campaign reports and the use cases that feed them. Every counted event — an
// exposure (send or control assignment), a skipped candidate, a delivery, a conversion — becomes a
// tally: which counter rows (group × dimension) it increments by how much. The store applies a tally
// exactly once under the event's key, whatever at-least-once delivery does (redeliveries, concurrent
// duplicates, a consumer dying half-way): see lib/adapters/dynamodb/campaignStatsTable.ts for how.
// Counters are cumulative since the campaign's first exposure and span its versions.
import { z } from 'zod';
import {
  convertedBy,
  type Exposure,
  Exposure as ExposureSchema,
  GoalEvent,
  type Group,
} from './attribution.js';
import { CampaignId, Channel } from './model.js';

/** Counter rows of one group: the three measured groups, and the candidates that got no message. */
export type CounterGroup = Group | 'skipped';

/** What a row counts across: everything, or one segment, channel or content variant. */
export type Dimension = 'all' | `segment#${string}` | `channel#${string}` | `variant#${string}`;

export const METRICS = [
  'candidates',
  'members',
  'sent',
  'delivered',
  'converted',
  'revenue',
  'revenueSq',
] as const;
export type Metric = (typeof METRICS)[number];

export interface Counters {
  /** Candidates decided: every exposure and every skip. */
  readonly candidates: number;
  /** Members of the group: exposures (treated: sent; control and holdout: would have been sent). */
  readonly members: number;
  readonly sent: number;
  readonly delivered: number;
  /** Exposures converted (at most one conversion each). */
  readonly converted: number;
  /** Revenue of the conversions, and its sum of squares (for the variance of revenue per member). */
  readonly revenue: number;
  readonly revenueSq: number;
  /** Skipped candidates by reason. */
  readonly skipped: Readonly<Record<string, number>>;
}

export const ZERO: Counters = {
  candidates: 0,
  members: 0,
  sent: 0,
  delivered: 0,
  converted: 0,
  revenue: 0,
  revenueSq: 0,
  skipped: {},
};

export interface CounterRow {
  readonly group: CounterGroup;
  readonly dimension: Dimension;
  readonly counters: Counters;
}

/** The increments of one counted event, applied to every row of its group × dimensions. */
export interface Tally {
  readonly campaignId: string;
  readonly group: CounterGroup;
  readonly dimensions: readonly Dimension[];
  readonly adds: Partial<Record<Metric, number>>;
  /** A skip's reason: counted as skipped[reason] += 1. */
  readonly skipReason?: string;
  /** Event time, kept as the rows' first activity. */
  readonly at: string;
}

/** What applying a tally did. 'busy': another consumer holds the event now: fail the record, it comes back. */
export type ApplyOutcome = 'applied' | 'duplicate' | 'busy';

/** A candidate the send decision did not message (consent, cap, quiet hours...), one per decision. */
export const Skip = z.object({
  campaignId: CampaignId,
  /** The decision's id: the same decision redelivered counts once. */
  decisionId: z.string().min(1).max(200),
  reason: z.string().regex(/^[a-z0-9_]{1,64}$/, 'a reason code: lowercase letters, digits, underscores'),
  at: z.iso.datetime({ offset: true }),
  segment: ExposureSchema.shape.segment,
  channel: Channel.optional(),
  variant: ExposureSchema.shape.variant,
});
export type Skip = z.infer<typeof Skip>;

/** A channel's delivery report of a send (e.g. an SES Delivery notification). */
export const Delivery = ExposureSchema.pick({ campaignId: true, customerId: true, exposureId: true });
export type Delivery = z.infer<typeof Delivery>;

/** The port of the campaign-stats table. Each record* applies its tally once per event key. */
export interface CampaignStatsStore {
  /** Keeps the exposure (for attribution) and counts it, once per campaign × exposureId. */
  recordExposure(exposure: Exposure, tally: Tally, now: number): Promise<ApplyOutcome>;
  /** Counts the conversion of an exposure, once per exposure (the goal event is kept with it). */
  recordConversion(exposure: Exposure, goal: GoalEvent, tally: Tally, now: number): Promise<ApplyOutcome>;
  recordDelivery(exposure: Exposure, tally: Tally, now: number): Promise<ApplyOutcome>;
  recordSkip(skip: Skip, tally: Tally, now: number): Promise<ApplyOutcome>;
  /** The customer's exposures whose goal window may still be open. */
  exposuresOf(customerId: string): Promise<Exposure[]>;
  exposure(customerId: string, campaignId: string, exposureId: string): Promise<Exposure | undefined>;
  /** Every counter row of a campaign, and when its first counted event happened. */
  counters(campaignId: string): Promise<{ rows: CounterRow[]; firstAt?: string }>;
}

export interface StatsDeps {
  readonly stats: CampaignStatsStore;
  readonly now: () => number;
}

const dimensionsOf = (d: { segment?: string; channel?: string; variant?: string }): Dimension[] => [
  'all',
  ...(d.segment === undefined ? [] : [`segment#${d.segment}` as const]),
  ...(d.channel === undefined ? [] : [`channel#${d.channel}` as const]),
  ...(d.variant === undefined ? [] : [`variant#${d.variant}` as const]),
];

/** Event times with offsets, in UTC: the store compares them as strings. */
const utc = (iso: string) => new Date(Date.parse(iso)).toISOString();

const tallyOf = (e: Exposure, adds: Tally['adds'], at: string): Tally => ({
  campaignId: e.campaignId,
  group: e.group,
  dimensions: dimensionsOf(e),
  adds,
  at: utc(at),
});

/** Squares kept to micro-units: float noise in the last digits would otherwise pile up in the sums. */
const square = (x: number) => Math.round(x * x * 1e6) / 1e6;

/** A send or a control/holdout assignment: one candidate, one member (and one send for the treated). */
export function recordExposure(exposure: Exposure, deps: StatsDeps): Promise<ApplyOutcome> {
  const e = ExposureSchema.parse(exposure);
  const adds = { candidates: 1, members: 1, ...(e.group === 'treated' ? { sent: 1 } : {}) };
  return deps.stats.recordExposure(e, tallyOf(e, adds, e.at), deps.now());
}

/** A candidate not messaged, counted by reason (with the dimensions known at decision time). */
export function recordSkip(skip: Skip, deps: StatsDeps): Promise<ApplyOutcome> {
  const s = Skip.parse(skip);
  const tally: Tally = {
    campaignId: s.campaignId,
    group: 'skipped',
    dimensions: dimensionsOf(s),
    adds: { candidates: 1 },
    skipReason: s.reason,
    at: utc(s.at),
  };
  return deps.stats.recordSkip(s, tally, deps.now());
}

/** A delivery report of a send; 'unknown' when no such exposure is kept (never sent, or long expired). */
export async function recordDelivery(delivery: Delivery, deps: StatsDeps): Promise<ApplyOutcome | 'unknown'> {
  const d = Delivery.parse(delivery);
  const exposure = await deps.stats.exposure(d.customerId, d.campaignId, d.exposureId);
  if (!exposure) return 'unknown';
  return deps.stats.recordDelivery(exposure, tallyOf(exposure, { delivered: 1 }, exposure.at), deps.now());
}

export interface GoalOutcome {
  readonly campaignId: string;
  readonly exposureId: string;
  readonly outcome: ApplyOutcome;
}

/**
 * A goal event: converts each of the customer's exposures whose campaign has this goal and whose window
 * covers the event, once per exposure (a second order in the window converts nothing more). The result
 * lists each exposure touched; if any is 'busy', the consumer must fail the record so it comes back.
 */
export async function recordGoal(goal: GoalEvent, deps: StatsDeps): Promise<GoalOutcome[]> {
  const g = GoalEvent.parse(goal);
  const exposures = convertedBy(g, await deps.stats.exposuresOf(g.customerId));
  const revenue = g.revenue ?? 0;
  return Promise.all(
    exposures.map(async (e) => ({
      campaignId: e.campaignId,
      exposureId: e.exposureId,
      outcome: await deps.stats.recordConversion(
        e,
        g,
        tallyOf(e, { converted: 1, revenue, revenueSq: square(revenue) }, g.at),
        deps.now(),
      ),
    })),
  );
}
