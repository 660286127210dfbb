// A tag is data: a named, explainable label a customer carries while its rule holds (docs/tags.md). The
// rule reads what an audience reads (traits, live figures and habits, event counts, segment, RFM,
// lifecycle and model scores: lib/campaigns/audience.ts), so a new tag — static (age band, member level),
// behavior (cart abandoner, night owl), preference (top category, price band) or predictive (churn risk,
// CLV tier) — is a definition saved through /v1/tags, never code. Three rule shapes:
//   match  a yes/no tag (value `true`) held while every condition holds;
//   bands  the first band whose conditions all hold gives the value (an empty band is the "otherwise");
//   top    the customer's leading category, brand or channel (or the second ..., by `rank`) is the value.
import { z } from 'zod';
import { ProfileCondition, TagId, TagValue } from '../campaigns/model.js';

export { TagId, TagValue };

/** The four layers of the seed documents' tag system; descriptive (listing, docs), not behavior. */
export const TAG_KINDS = ['static', 'behavior', 'preference', 'predictive'] as const;
export type TagKind = (typeof TAG_KINDS)[number];

/** The value of every yes/no (`match`) tag. */
export const YES = 'true';

/** What a `top` rule ranks: the profile's category and brand affinities, and its channel mix. */
export const TOP_SOURCES = ['category', 'brand', 'channel'] as const;
export type TopSource = (typeof TOP_SOURCES)[number];

const Conditions = z.array(ProfileCondition).max(20);

export const TagRule = z.discriminatedUnion('type', [
  z.object({ type: z.literal('match'), when: Conditions.min(1) }),
  z.object({
    type: z.literal('bands'),
    bands: z
      .array(z.object({ value: TagValue, when: Conditions }))
      .min(1)
      .max(20),
  }),
  z.object({
    type: z.literal('top'),
    of: z.enum(TOP_SOURCES),
    /** Which place of the ranking the value is (1: the leading key); it must hold `minShare` of the weight. */
    rank: z.number().int().min(1).max(5).default(1),
    minShare: z.number().min(0).max(1).default(0.2),
    /** Evidence needed first (e.g. at least 5 product views), so one click names no preference. */
    when: Conditions.default([]),
  }),
]);
export type TagRule = z.infer<typeof TagRule>;

export const TagDefinition = z
  .object({
    id: TagId,
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    kind: z.enum(TAG_KINDS),
    /** A disabled tag is kept but evaluated for no one: customers lose it as they are evaluated again. */
    enabled: z.boolean().default(true),
    rule: TagRule,
  })
  .meta({ id: 'TagDefinition' });
export type TagDefinition = z.infer<typeof TagDefinition>;

/** A stored definition: its version moves forward with every save (optimistic concurrency). */
export const Tag = TagDefinition.safeExtend({
  version: z.number().int().min(1),
  updatedAt: z.iso.datetime(),
}).meta({ id: 'Tag' });
export type Tag = z.infer<typeof Tag>;

/** A tag a customer carries: its value, why, and since when (the evaluation that first gave this value). */
export const CustomerTag = z
  .object({
    tag: TagId,
    value: TagValue,
    /** At most MAX_REASONS (evaluate.ts), each clipped to MAX_REASON_CHARS. */
    reasons: z.array(z.string().max(200)).max(10),
    since: z.iso.datetime(),
  })
  .meta({ id: 'CustomerTag' });
export type CustomerTag = z.infer<typeof CustomerTag>;

/** A customer's stored tags and the time of the evaluation that produced them. */
export const CustomerTags = z.object({
  customerId: z.string(),
  evaluatedAt: z.iso.datetime(),
  tags: z.array(CustomerTag),
});
export type CustomerTags = z.infer<typeof CustomerTags>;
