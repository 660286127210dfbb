// The records of a segmentation run: what was asked (parameters), what each customer got (assignment),
// and the run's status with its summary. Zod at the boundary: API bodies, queue messages, stored items.
import { z } from 'zod';
import { Predictions, RecommendationSchema } from '../models/predictions.js';
import { FEATURES } from './features.js';
import { RFM_SEGMENTS } from './rfm.js';
import { SEGMENT_IDS } from './segments.js';

/** The parameters without their cross-field rule, for bodies that override some of them. */
export const RunParameterFields = z.object({
  asOf: z.iso.datetime().meta({ description: 'Only events timestamped before this instant are used' }),
  /** The business time zone the nightly as-of midnight is taken in (recorded for the report). */
  timezone: z.string().min(1).default('UTC'),
  kMin: z.number().int().min(2).max(20).default(3),
  kMax: z.number().int().min(2).max(20).default(8),
  minShare: z.number().min(0).max(0.5).default(0.03),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(42),
  selectionSample: z.number().int().min(100).max(1_000_000).default(50_000),
  silhouetteSample: z.number().int().min(100).max(20_000).default(3_000),
  stabilitySeeds: z.number().int().min(1).max(10).default(3),
  // Predictive models (lib/models, docs/models.md).
  holdoutDays: z.number().int().min(7).max(730).default(90).meta({
    description: 'The last days before asOf the model check predicts from a fit on the days before',
  }),
  clvMonths: z.number().int().min(1).max(60).default(12).meta({ description: 'The horizon of CLV' }),
  monthlyDiscountRate: z
    .number()
    .min(0)
    .max(0.2)
    .default(0.01)
    .meta({ description: 'The discount rate per 30 days applied to CLV' }),
});

export const RunParameters = RunParameterFields.refine((p) => p.kMin <= p.kMax, {
  message: 'kMin must not exceed kMax',
  path: ['kMin'],
}).meta({ id: 'SegmentationParameters' });
export type RunParameters = z.infer<typeof RunParameters>;

export const RunStatus = z.enum(['queued', 'running', 'completed', 'failed']);
export type RunStatus = z.infer<typeof RunStatus>;

/** The suffix of the nightly run's id: one run per day (`seg_<asOf>_nightly`), whoever asks for it. */
export const NIGHTLY = 'nightly';
export const isNightly = (runId: string): boolean => runId.endsWith(`_${NIGHTLY}`);

/** A queued run: the message the runner consumes. */
export const RunRequest = z.object({
  runId: z.string().regex(/^seg_[0-9A-Za-z_-]+$/),
  parameters: RunParameters,
  /** Live runs write assignments to profiles and publish segment entry/exit events; back-tests do not. */
  publish: z.boolean(),
  requestedBy: z.string(),
  requestedAt: z.iso.datetime(),
});
export type RunRequest = z.infer<typeof RunRequest>;

const Rfm = z.object({
  recencyDays: z.number(),
  frequency: z.number(),
  monetary: z.number(),
  r: z.number().int(),
  f: z.number().int(),
  m: z.number().int(),
  segment: z.enum(RFM_SEGMENTS),
});

export const Assignment = z
  .object({
    customerId: z.string(),
    /** For loading members into a CRM: the customer's userIds (pseudonymous, as the apps sent them). */
    userIds: z.array(z.string()).optional().meta({ description: "The customer's userIds" }),
    /** Its CRM ids (traits crm_id, crmId, external_id). Never an e-mail or phone: those exist only as HMACs. */
    crmIds: z.array(z.string()).optional().meta({ description: "The customer's CRM ids" }),
    segment: z.enum(SEGMENT_IDS),
    population: z.enum(['buyers', 'prospects']),
    cluster: z.number().int(),
    /** Euclidean distance to the cluster's centroid in the scaled feature space. */
    distance: z.number(),
    rfm: Rfm.optional(),
    /** The predictive models' scores (buyers; absent for prospects and for runs before the models). */
    predictions: Predictions.optional(),
    /** Top items for the customer (item-to-item CF; best sellers without history): docs/models.md. */
    recommendations: z.array(RecommendationSchema).optional(),
    reasons: z.array(z.string()),
    reasonCodes: z.array(z.string()),
  })
  .meta({ id: 'SegmentAssignment' });
export type Assignment = z.infer<typeof Assignment>;

/** A reason as a run stores it: the figures its words are rendered from on read (naming.ts). */
export const ReasonFigures = z.object({
  feature: z.enum(FEATURES),
  value: z.number(),
  median: z.number(),
  percentile: z.number(),
});

/**
 * An assignment as a run builds and stores it (the members' Parquet files): reasons as figures, not words.
 * What the API, the CSV and the profile show is `renderAssignment` of it (members.ts).
 */
export const AssignmentRecord = Assignment.omit({ reasons: true, reasonCodes: true }).extend({
  reasons: z.array(ReasonFigures),
});
export type AssignmentRecord = z.infer<typeof AssignmentRecord>;

export const RunSummary = z.object({
  customers: z.number().int(),
  buyers: z.number().int(),
  prospects: z.number().int(),
  segments: z.record(z.string(), z.number().int()),
  k: z.object({ buyers: z.number().int(), prospects: z.number().int() }),
  silhouette: z.object({ buyers: z.number().nullable(), prospects: z.number().nullable() }),
  moved: z.number().int().nullable(),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const RunRecord = z
  .object({
    runId: z.string(),
    status: RunStatus,
    asOf: z.string(),
    parameters: RunParameters,
    publish: z.boolean(),
    /** True once assignments were written to profiles and changes published. */
    published: z.boolean(),
    codeVersion: z.string(),
    requestedBy: z.string(),
    requestedAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    attempts: z.number().int(),
    error: z.string().optional(),
    /** The run that was published when this one started publishing ('' if none): its changes are diffed against it. */
    publishedOver: z.string().optional(),
    /** Why a live run did not publish (a newer run had). */
    note: z.string().optional(),
    summary: RunSummary.optional(),
    reportKey: z.string().optional(),
    exportPrefix: z.string().optional(),
  })
  .meta({ id: 'SegmentationRun' });
export type RunRecord = z.infer<typeof RunRecord>;

/** A customer's entry into a segment (with the one left), for the campaign engine. */
export const SegmentChange = z.object({
  customerId: z.string(),
  from: z.enum(SEGMENT_IDS).nullable(),
  to: z.enum(SEGMENT_IDS).nullable(),
  reasons: z.array(z.string()),
});
export type SegmentChange = z.infer<typeof SegmentChange>;

/** The message on the segment-changes queue: one run's changes, in chunks. */
export const SegmentChangesMessage = z.object({
  v: z.literal(1),
  runId: z.string(),
  asOf: z.string(),
  changes: z.array(SegmentChange),
});
export type SegmentChangesMessage = z.infer<typeof SegmentChangesMessage>;
