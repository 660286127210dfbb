// A campaign is data: what starts it (trigger), who may get it (audience), what it sends (actions and
// their content), how the send decision treats it (channels, caps, quiet hours, send time, holdout) and
// what counts as success (goal). Saved through /v1/campaigns, validated here with zod (templates are
// checked separately by templates.ts: an unknown variable is refused at save time), versioned by the store.
// docs/campaigns.md describes the engine around it.
import { z } from 'zod';
import { PREDICTION_SCORES } from '../models/predictions.js';
import { LIFECYCLE_STAGES } from '../models/rhythm.js';
import { RFM_SEGMENTS } from '../segmentation/rfm.js';
import { SEGMENT_IDS } from '../segmentation/segments.js';

/** A lowercase slug id: ids are in URLs, table keys and send ids. */
const slugId = (description: string, example: string) =>
  z
    .string()
    .min(2)
    .max(63)
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and dashes, 2-63 characters')
    .meta({ description, example });

export const CampaignId = slugId('Campaign id (slug)', 'abandoned-cart');
export type CampaignId = z.infer<typeof CampaignId>;

export const CHANNELS = ['email', 'sms', 'push', 'webhook'] as const;
export const Channel = z.enum(CHANNELS);
export type Channel = z.infer<typeof Channel>;

/** What a message is for: consent is given (and revoked) per purpose and channel (PIPL: separate consent). */
export const PURPOSES = ['marketing', 'recommendations'] as const;
export const Purpose = z.enum(PURPOSES);
export type Purpose = z.infer<typeof Purpose>;

/** A local wall-clock time, HH:MM (24 h). */
export const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 00:00-23:59');

const EventName = z.string().min(1).max(200);

/**
 * The date traits a date trigger may name (Segment's spec names; lib/campaigns/dateIndex.ts reads their
 * common spellings): a birthday, and the account's creation for membership anniversaries.
 */
export const DATE_TRAITS = ['birthday', 'createdAt'] as const;
export type DateTrait = (typeof DATE_TRAITS)[number];

/** What an inactivity trigger counts from: the last visit (any event) or the last `Order Completed`. */
export const LAPSE_KINDS = ['visit', 'order'] as const;
export type LapseKind = (typeof LAPSE_KINDS)[number];

/** A wait after the trigger event; the campaign fires when it ends unless a cancelling event came first. */
export const Wait = z.object({
  minutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 90),
  /** Events of the same customer that close the wait without a send (e.g. `Order Completed`). */
  cancelOn: z.array(EventName).min(1),
  /**
   * What one wait is about: `cart` keys it by the cart (properties.cart_id, else one cart per customer),
   * so a new add to an open cart does not open a second wait; `customer` keys it by customer.
   */
  key: z.enum(['cart', 'customer']).default('customer'),
});
export type Wait = z.infer<typeof Wait>;

export const Trigger = z.discriminatedUnion('type', [
  /** An event, optionally followed by a wait that other events cancel (abandoned cart, browse abandonment). */
  z.object({
    type: z.literal('event'),
    event: EventName,
    /** Only events whose properties match (all of them), e.g. `{ "category": "shoes" }`. */
    where: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    wait: Wait.optional(),
  }),
  /** A yearly date trait at a local time in the customer's zone; Feb 29 → Feb 28 (dateIndex.ts, dates.ts). */
  z.object({
    type: z.literal('date'),
    trait: z.enum(DATE_TRAITS),
    at: LocalTime.default('09:00'),
  }),
  /** Entry into (or exit from) a segment, from the nightly run's segment changes. */
  z.object({
    type: z.literal('segment'),
    on: z.enum(['enter', 'exit']),
    segment: z.enum(SEGMENT_IDS),
  }),
  /** No visit (any event) or no order for N days. */
  z.object({
    type: z.literal('inactivity'),
    of: z.enum(LAPSE_KINDS),
    days: z.number().int().min(1).max(3650),
  }),
]);
export type Trigger = z.infer<typeof Trigger>;

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Tag ids are slugs, like campaign ids (lib/tags/model.ts). */
export const TagId = slugId('Tag id (slug)', 'night-owl');
export type TagId = z.infer<typeof TagId>;

/** A tag's value: `true` for a yes/no tag, else a band or a preference (`premium`, `shoes`). */
export const TagValue = z.string().min(1).max(100);

/**
 * Figures of the live profile (lib/profiles/view.ts, audience.ts `metricsOf`): totals, recency, the cart
 * and the customer's habits (`nightShare`: share of their behavior events at 22:00-05:59 in their zone;
 * `weekendShare`: on Saturday or Sunday).
 */
export const PROFILE_METRICS = [
  'orders',
  'netRevenue',
  'averageOrderValue',
  'daysSinceLastOrder',
  'daysSinceLastSeen',
  'distinctOrderDays',
  'refundedOrders',
  'cancellations',
  'sessions',
  'pageViews',
  'productViews',
  'cartAdds',
  'checkouts',
  'shares',
  'averageDwellSeconds',
  'cartItems',
  'cartValue',
  'hoursSinceCartActivity',
  'nightShare',
  'weekendShare',
] as const;
export type ProfileMetric = (typeof PROFILE_METRICS)[number];

const Comparison = z.enum(['gt', 'gte', 'lt', 'lte', 'eq']);

/**
 * The conditions a tag definition may use: everything an audience may read of a customer but other tags
 * (a tag never depends on a tag, so evaluation has no order and no cycles).
 */
const PROFILE_CONDITIONS = [
  z.object({
    kind: z.literal('trait'),
    trait: z.string().min(1).max(100),
    op: z.enum(['eq', 'neq', 'in', 'exists', 'missing', 'gt', 'gte', 'lt', 'lte']),
    value: z.union([Scalar, z.array(Scalar)]).optional(),
  }),
  z.object({ kind: z.literal('segment'), in: z.array(z.enum(SEGMENT_IDS)).min(1) }),
  z.object({ kind: z.literal('rfm'), in: z.array(z.enum(RFM_SEGMENTS)).min(1) }),
  /** The customer's lifecycle stage from the last published run's models (docs/models.md). */
  z.object({ kind: z.literal('lifecycle'), in: z.array(z.enum(LIFECYCLE_STAGES)).min(1) }),
  /**
   * A score of the last published run's models; `daysUntilNextPurchase` counts from now to the day the
   * next purchase is due (negative when overdue): replenishment timing.
   */
  z.object({
    kind: z.literal('prediction'),
    score: z.enum(PREDICTION_SCORES),
    op: Comparison,
    value: z.number(),
  }),
  /** Figures of the live profile (orders, netRevenue, nightShare ...; PROFILE_METRICS). */
  z.object({ kind: z.literal('metric'), metric: z.enum(PROFILE_METRICS), op: Comparison, value: z.number() }),
  /** How many times the customer sent a track event of this name (`Coupon Applied` gte 2). */
  z.object({ kind: z.literal('event'), event: EventName, op: Comparison, value: z.number() }),
] as const;

/** One condition of a tag definition (lib/tags/model.ts). */
export const ProfileCondition = z.discriminatedUnion('kind', [...PROFILE_CONDITIONS]);
export type ProfileCondition = z.infer<typeof ProfileCondition>;

/** One audience condition; an audience is met when all its conditions are. */
export const Condition = z.discriminatedUnion('kind', [
  ...PROFILE_CONDITIONS,
  /**
   * The customer carries the tag (lib/tags), with one of these values when given. Evaluated from the
   * tag's definition on the customer as they are at the decision, not from the stored tags (which the
   * tags queue updates a moment later).
   */
  z.object({ kind: z.literal('tag'), tag: TagId, in: z.array(TagValue).min(1).max(50).optional() }),
]);
export type Condition = z.infer<typeof Condition>;

/** Liquid templates per channel; variables are checked at save time (templates.ts). */
export const Content = z.object({
  email: z
    .object({ subject: z.string().min(1).max(998), html: z.string().min(1), text: z.string().min(1) })
    .optional(),
  sms: z.object({ text: z.string().min(1).max(1600) }).optional(),
  push: z.object({ title: z.string().min(1).max(200), body: z.string().min(1).max(2000) }).optional(),
  /** The JSON body posted to the webhook, as a Liquid template that must render to JSON. */
  webhook: z
    .object({
      body: z
        .string()
        .min(1)
        .max(64 * 1024),
    })
    .optional(),
});
export type Content = z.infer<typeof Content>;

export const Variant = z.object({
  id: z.string().regex(/^[a-z0-9-]{1,32}$/),
  /** Relative weight of the variant among the campaign's variants. */
  weight: z.number().int().min(1).max(100).default(1),
  content: Content,
});
export type Variant = z.infer<typeof Variant>;

export const Coupon = z.object({
  kind: z.enum(['percent', 'amount', 'free_shipping']),
  value: z.number().positive().optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  /** Days from issue. */
  expiresInDays: z.number().int().min(1).max(365),
  /** Code prefix, e.g. CART → CART-7KQ2-M9XD. */
  prefix: z
    .string()
    .regex(/^[A-Z0-9]{1,10}$/)
    .default('PRECIS'),
});
export type Coupon = z.infer<typeof Coupon>;

export const CampaignDefinition = z
  .object({
    id: CampaignId,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    enabled: z.boolean().default(false),
    purpose: Purpose.default('marketing'),
    trigger: Trigger,
    audience: z.array(Condition).max(50).default([]),
    /** An event older than this (event time to now) never triggers a send: backfills and replays. */
    maxEventAgeMinutes: z
      .number()
      .int()
      .min(1)
      .max(60 * 24 * 30)
      .default(24 * 60),
    /** Per customer: at most once ever, or again after a cooldown. */
    reentry: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('once') }),
        z.object({ mode: z.literal('cooldown'), days: z.number().int().min(0).max(3650) }),
      ])
      .default({ mode: 'cooldown', days: 7 }),
    /** Channels in order of preference; the decision takes the best reachable, consenting one. */
    channels: z.array(Channel).min(1).max(CHANNELS.length),
    /** When the channel's (or the overall) cap is reached: skip, defer to the next day, or try the next channel. */
    whenCapped: z.enum(['skip', 'defer', 'next_channel']).default('skip'),
    /** Quiet hours in the customer's zone (default: the stage's); defer to their end, or drop. */
    quietHours: z
      .object({ start: LocalTime, end: LocalTime, action: z.enum(['defer', 'drop']).default('defer') })
      .optional(),
    /** `immediate`, or the customer's most active hour (fallback: `fallbackHour`) within `withinHours`. */
    sendTime: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('immediate') }),
        z.object({
          mode: z.literal('best'),
          fallbackHour: z.number().int().min(0).max(23).default(10),
          withinHours: z.number().int().min(1).max(48).default(24),
        }),
      ])
      .default({ mode: 'immediate' }),
    /** Share of the campaign's eligible customers held out (recorded as "would have sent", measured). */
    holdoutPercent: z.number().min(0).max(50).default(10),
    goal: z
      .object({
        event: EventName.default('Order Completed'),
        windowDays: z.number().int().min(1).max(90).default(7),
      })
      .prefault({}),
    coupon: Coupon.optional(),
    variants: z.array(Variant).min(1).max(10),
  })
  .meta({ id: 'CampaignDefinition' });
export type CampaignDefinition = z.infer<typeof CampaignDefinition>;

/** A stored campaign: the definition and its store-kept version (lib/campaigns/store.ts). */
export const Campaign = CampaignDefinition.safeExtend({
  version: z.number().int().min(1),
  updatedAt: z.iso.datetime(),
  /** Deleted (DELETE /v1/campaigns/{id}): disabled, out of listings; its versions are kept, a PUT revives it. */
  archived: z.boolean().default(false),
}).meta({ id: 'Campaign' });
export type Campaign = z.infer<typeof Campaign>;
