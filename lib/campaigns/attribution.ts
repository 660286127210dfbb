// Attribution: which goal events count for which campaign. An exposure is a member's entry into a
// campaign's measurement — a send for the treated group, the "would have sent" assignment for the
// global control group and the campaign's holdout — and a goal event of the same customer counts for it
// when it is the campaign's goal event and happens within the goal window after the exposure.
//
// Decision (docs/campaigns.md, Attribution and uplift): every campaign counts its own conversions,
// independently of the others — one conversion per exposure, the first goal event in its window — so
// two campaigns that reached the same customer both claim the order. No last-touch or fractional rule:
// any such rule is a convention, not a measurement. The honest measure of a campaign is the uplift of
// its treated group over its control group (both counted the same way, so double claims cancel out);
// attributed revenue is shown for what it is, an upper bound.
import { z } from 'zod';
import { CampaignDefinition, CampaignId, Channel } from './model.js';

const DAY_MS = 86_400_000;

/** treated: sent; control: the global control group; holdout: the campaign's own holdout. */
export const GROUPS = ['treated', 'control', 'holdout'] as const;
export const Group = z.enum(GROUPS);
export type Group = z.infer<typeof Group>;

/** A dimension value in keys: ids of segments, variants; channel names. */
const DimensionValue = z.string().min(1).max(100);
const At = z.iso.datetime({ offset: true });

/** A member entering the measurement of a campaign (recorded once per send or control assignment). */
export const Exposure = z.object({
  campaignId: CampaignId,
  /** The campaign's version at the time (reported; the counters span versions). */
  version: z.number().int().min(1).optional(),
  customerId: z.string().min(1).max(512),
  group: Group,
  /** The send id for the treated, the assignment (decision) id for control and holdout: unique, stable. */
  exposureId: z.string().min(1).max(200),
  /** The send, or for control and holdout the time the message would have been sent. */
  at: At,
  /** The campaign's goal when the exposure happened: what converts it, and for how long. */
  goal: CampaignDefinition.shape.goal.unwrap(),
  segment: DimensionValue.optional(),
  channel: Channel.optional(),
  variant: DimensionValue.optional(),
});
export type Exposure = z.infer<typeof Exposure>;

/** An event of a customer that may be a campaign's goal (`Order Completed` by default). */
export const GoalEvent = z.object({
  customerId: z.string().min(1).max(512),
  event: z.string().min(1).max(200),
  /** The event's id: which event converted an exposure is kept with the conversion. */
  messageId: z.string().min(1).max(200),
  /** Event time (not arrival): a late-delivered order still counts in the window it happened in. */
  at: At,
  /** The order's revenue, when it has one (refunds are not goals). */
  revenue: z.number().finite().nonnegative().optional(),
});
export type GoalEvent = z.infer<typeof GoalEvent>;

/** The goal window of an exposure: from the exposure (inclusive) for windowDays (exclusive end), in ms. */
export function goalWindow(exposure: Pick<Exposure, 'at' | 'goal'>): { from: number; to: number } {
  const from = Date.parse(exposure.at);
  return { from, to: from + exposure.goal.windowDays * DAY_MS };
}

/** Whether a goal event counts for an exposure (same customer, the campaign's goal, inside the window). */
export function attributes(exposure: Exposure, goal: GoalEvent): boolean {
  if (exposure.customerId !== goal.customerId || exposure.goal.event !== goal.event) return false;
  const { from, to } = goalWindow(exposure);
  const at = Date.parse(goal.at);
  return at >= from && at < to;
}

/** The exposures a goal event converts (each at most once: the store keeps one conversion per exposure). */
export const convertedBy = (goal: GoalEvent, exposures: readonly Exposure[]): Exposure[] =>
  exposures.filter((e) => attributes(e, goal));
