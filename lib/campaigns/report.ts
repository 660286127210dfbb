// A campaign's report, assembled from its live counters at any time: what the engine did (candidates,
// sends, skips by reason, deliveries), what followed (conversions, revenue, per group), by segment,
// channel and content variant, and the uplift of the treated group over the members held out, with
// 95 % intervals and a verdict (lib/campaigns/uplift.ts). GET /v1/campaigns/{id}/report.
import { z } from 'zod';
import { notFound, type Outcome, ok } from '../outcome.js';
import { GROUPS, type Group } from './attribution.js';
import { CampaignId } from './model.js';
import {
  type CampaignStatsStore,
  type CounterGroup,
  type CounterRow,
  type Counters,
  type Dimension,
  ZERO,
} from './reportStore.js';
import { type GroupCounts, uplift } from './uplift.js';

/** The id as the path gives it; max(63) (which the slug's pattern implies) bounds it in the OpenAPI document. */
export const CampaignReportPath = z.object({ id: CampaignId.max(63) });

/** Which members the treated group is compared with. */
export const BASELINES = ['pooled', 'holdout', 'control'] as const;
export const CampaignReportQuery = z.object({
  baseline: z
    .enum(BASELINES)
    .default('pooled')
    .meta({
      description:
        "Compare the treated with the campaign's holdout and the global control group together (pooled, " +
        'the default: the larger sample), with the holdout alone (the cleanest: its members get the other ' +
        'campaigns as the treated do), or with the global control group alone',
    }),
});
export type Baseline = (typeof BASELINES)[number];

const Interval = z.object({ lower: z.number(), upper: z.number() });
const Estimate = z.object({ estimate: z.number(), ci95: Interval });
const Count = z.number().int().min(0);

const GroupFigures = z
  .object({
    members: Count.meta({ description: 'Treated: messages sent; control and holdout: would have been sent' }),
    delivered: Count,
    converted: Count.meta({ description: 'Members with a goal event in the window (one per member)' }),
    conversionRate: z.number().nullable(),
    revenue: z.number().meta({ description: 'Revenue of the conversions (the first goal event of each)' }),
    revenuePerMember: z.number().nullable(),
  })
  .meta({ id: 'CampaignGroupFigures' });
type GroupFigures = z.infer<typeof GroupFigures>;

const Totals = z.object({
  candidates: Count.meta({ description: 'Candidates decided: sent, held out and skipped' }),
  sent: Count,
  skipped: z.record(z.string(), Count).meta({ description: 'Skipped candidates by reason' }),
  delivered: Count,
  converted: Count.meta({
    description: 'Conversions of sent messages (attributed; see uplift for the effect)',
  }),
  revenue: z.number().meta({
    description:
      'Attributed revenue of sent messages: an upper bound (other campaigns may claim the same order); ' +
      'the uplift is the measure of what the campaign caused',
  }),
});

export const UpliftReport = z
  .object({
    baseline: z.enum(BASELINES),
    rates: z.object({ treated: z.number().nullable(), control: z.number().nullable() }),
    absolute: Estimate.nullable().meta({
      description: "Treated − control conversion rate, Newcombe's hybrid score 95 % interval",
    }),
    relative: Estimate.nullable().meta({
      description: "Treated / control − 1, Katz's log risk-ratio 95 % interval; null without conversions",
    }),
    revenuePerMember: Estimate.nullable().meta({
      description: "Treated − control revenue per member, Welch's 95 % interval",
    }),
    pValue: z.number().nullable().meta({ description: 'Two-sided two-proportion z-test' }),
    significant: z.boolean(),
    neededPerGroup: z
      .union([z.object({ treated: Count, control: Count }), z.literal('cannot tell')])
      .optional()
      .meta({
        description:
          'When not significant: further members each group needs (at the current ratio) to detect the ' +
          "observed effect at 80 % power, α = 0.05; 'cannot tell' with an empty group or no observed effect",
      }),
    verdict: z.enum(['treated better', 'treated worse', 'no difference detected', 'not significant yet']),
  })
  .meta({ id: 'CampaignUplift' });
export type UpliftReport = z.infer<typeof UpliftReport>;

const ByGroup = z.object(
  Object.fromEntries(GROUPS.map((g) => [g, GroupFigures])) as Record<Group, typeof GroupFigures>,
);

const Slice = z
  .object({ totals: Totals, byGroup: ByGroup, uplift: UpliftReport })
  .meta({ id: 'CampaignReportSlice' });
type Slice = z.infer<typeof Slice>;

export const CampaignReport = z
  .object({
    campaignId: CampaignId,
    version: z.number().int().min(1).optional().meta({ description: "The campaign's current version" }),
    generatedAt: z.iso.datetime(),
    period: z.object({
      from: z.iso.datetime().nullable().meta({ description: 'First counted event (null: none yet)' }),
      to: z.iso.datetime().meta({ description: 'Now: the counters are live' }),
    }),
    ...Slice.shape,
    bySegment: z.record(z.string(), Slice),
    byChannel: z.record(z.string(), Slice),
    byVariant: z.record(z.string(), Slice),
  })
  .meta({ id: 'CampaignReport' });
export type CampaignReport = z.infer<typeof CampaignReport>;

/** What the report needs of the campaigns store (lib/campaigns/store.ts): whether a campaign exists. */
export interface CampaignLookup {
  get(id: string): Promise<{ readonly version: number } | undefined>;
}

export interface ReportDeps {
  readonly stats: Pick<CampaignStatsStore, 'counters'>;
  /** Without it, an unknown campaign gets an empty report instead of a 404. */
  readonly campaigns?: CampaignLookup;
  readonly now: () => number;
}

const add = (a: Counters, b: Counters): Counters => {
  const skipped: Record<string, number> = { ...a.skipped };
  for (const [reason, n] of Object.entries(b.skipped)) skipped[reason] = (skipped[reason] ?? 0) + n;
  return {
    candidates: a.candidates + b.candidates,
    members: a.members + b.members,
    sent: a.sent + b.sent,
    delivered: a.delivered + b.delivered,
    converted: a.converted + b.converted,
    revenue: a.revenue + b.revenue,
    revenueSq: a.revenueSq + b.revenueSq,
    skipped,
  };
};

/** Money sums print to the cent (float noise of the sums removed), ratios keep their precision. */
const cents = (x: number) => Math.round(x * 100) / 100;

const figures = (c: Counters): GroupFigures => ({
  members: c.members,
  delivered: c.delivered,
  converted: c.converted,
  conversionRate: c.members > 0 ? c.converted / c.members : null,
  revenue: cents(c.revenue),
  revenuePerMember: c.members > 0 ? c.revenue / c.members : null,
});

const counts = (c: Counters): GroupCounts => ({
  members: c.members,
  converted: c.converted,
  revenue: c.revenue,
  revenueSq: c.revenueSq,
});

/** The uplift of treated over the baseline's members, in the report's shape. */
export function upliftReport(
  groups: Readonly<Record<CounterGroup, Counters>>,
  baseline: Baseline,
): UpliftReport {
  const against =
    baseline === 'pooled'
      ? add(groups.control, groups.holdout)
      : baseline === 'holdout'
        ? groups.holdout
        : groups.control;
  const u = uplift(counts(groups.treated), counts(against));
  return {
    baseline,
    rates: { treated: u.rates.treated ?? null, control: u.rates.control ?? null },
    absolute: u.absolute ?? null,
    relative: u.relative ?? null,
    revenuePerMember: u.revenuePerMember ?? null,
    pValue: u.pValue ?? null,
    significant: u.significant,
    ...(u.needed === undefined ? {} : { neededPerGroup: u.needed }),
    verdict: u.verdict,
  };
}

/** One slice (everything, or one segment, channel or variant) from its rows of each group. */
function slice(groups: Readonly<Record<CounterGroup, Counters>>, baseline: Baseline): Slice {
  const all = Object.values(groups).reduce(add, ZERO);
  return {
    totals: {
      candidates: all.candidates,
      sent: groups.treated.sent,
      skipped: groups.skipped.skipped,
      delivered: groups.treated.delivered,
      converted: groups.treated.converted,
      revenue: cents(groups.treated.revenue),
    },
    byGroup: {
      treated: figures(groups.treated),
      control: figures(groups.control),
      holdout: figures(groups.holdout),
    },
    uplift: upliftReport(groups, baseline),
  };
}

const emptyGroups = (): Record<CounterGroup, Counters> => ({
  treated: ZERO,
  control: ZERO,
  holdout: ZERO,
  skipped: ZERO,
});

/** Rows grouped by dimension, each with its counters per group (a missing group counts zero). */
function byDimension(rows: readonly CounterRow[]): Map<Dimension, Record<CounterGroup, Counters>> {
  const out = new Map<Dimension, Record<CounterGroup, Counters>>();
  for (const row of rows) {
    const groups = out.get(row.dimension) ?? emptyGroups();
    groups[row.group] = add(groups[row.group], row.counters);
    out.set(row.dimension, groups);
  }
  return out;
}

/** The report of a campaign's counters as of `now`. */
export function assembleReport(
  campaignId: string,
  counters: { rows: readonly CounterRow[]; firstAt?: string },
  options: { baseline: Baseline; now: number; version?: number },
): CampaignReport {
  const dimensions = byDimension(counters.rows);
  const slices = (kind: 'segment' | 'channel' | 'variant') =>
    Object.fromEntries(
      [...dimensions]
        .filter(([d]) => d.startsWith(`${kind}#`))
        .map(([d, groups]) => [d.slice(kind.length + 1), slice(groups, options.baseline)]),
    );
  const at = new Date(options.now).toISOString();
  return {
    campaignId,
    ...(options.version === undefined ? {} : { version: options.version }),
    generatedAt: at,
    period: { from: counters.firstAt ?? null, to: at },
    ...slice(dimensions.get('all') ?? emptyGroups(), options.baseline),
    bySegment: slices('segment'),
    byChannel: slices('channel'),
    byVariant: slices('variant'),
  };
}

/** GET /v1/campaigns/{id}/report: 404 only for a campaign nobody defined and nothing counted. */
export async function campaignReport(
  campaignId: string,
  query: z.infer<typeof CampaignReportQuery>,
  deps: ReportDeps,
): Promise<Outcome<CampaignReport>> {
  const [counters, campaign] = await Promise.all([
    deps.stats.counters(campaignId),
    deps.campaigns?.get(campaignId),
  ]);
  if (counters.rows.length === 0 && deps.campaigns && !campaign) {
    return notFound(`No campaign ${campaignId}.`);
  }
  return ok(
    assembleReport(campaignId, counters, {
      baseline: query.baseline,
      now: deps.now(),
      ...(campaign ? { version: campaign.version } : {}),
    }),
  );
}
