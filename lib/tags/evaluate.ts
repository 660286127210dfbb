// Evaluating tag definitions on one customer (pure): the same snapshot an audience reads (live profile,
// published assignment), so a tag means the same in a listing, on a profile and in a campaign audience.
// Each tag a customer carries comes with its reasons, in their own figures; `since` is kept while the
// value stays the same.
import {
  type AudienceSnapshot,
  audienceSnapshot,
  evaluateAudience,
  holdsBecause,
} from '../campaigns/audience.js';
import type { ProfileCondition } from '../campaigns/model.js';
import type { CustomerView, Ranked } from '../profiles/view.js';
import type { CustomerTag, CustomerTags, TagDefinition, TagRule, TopSource } from './model.js';
import { YES } from './model.js';

/** What a tag reads of a customer: the audience snapshot and the view's rankings (top rules). */
export interface TagSubject {
  readonly snapshot: AudienceSnapshot;
  readonly view: CustomerView;
}

export type EvaluatedTag = Omit<CustomerTag, 'since'>;

/** The subject of a live profile and its published assignment, as of `now`. */
export function tagSubject(
  view: CustomerView,
  assignment: Parameters<typeof audienceSnapshot>[1],
  now: number,
): TagSubject {
  return { snapshot: audienceSnapshot(view, assignment, now), view };
}

/** The conditions' reasons when all hold, else undefined. */
function reasonsIfAll(
  conditions: readonly ProfileCondition[],
  snapshot: AudienceSnapshot,
): string[] | undefined {
  if (!evaluateAudience(conditions, snapshot).ok) return undefined;
  return conditions.map((c) => holdsBecause(c, snapshot));
}

const percent = (share: number) => `${Math.round(share * 100)} %`;

/** The ranked keys of a `top` rule's source: category and brand affinities, the channel mix. */
function ranking(view: CustomerView, of: TopSource): readonly Ranked[] {
  if (of === 'category') return view.topCategories;
  if (of === 'brand') return view.topBrands;
  return Object.entries(view.channelMix)
    .filter(([, share]) => share > 0)
    .sort(([xn, x], [yn, y]) => y - x || (xn < yn ? -1 : 1))
    .map(([name, share]) => ({ name, weight: share, share }));
}

/** The value and reasons the rule gives this customer, or undefined when it gives none. */
function applyRule(rule: TagRule, subject: TagSubject): { value: string; reasons: string[] } | undefined {
  const { snapshot, view } = subject;
  switch (rule.type) {
    case 'match': {
      const reasons = reasonsIfAll(rule.when, snapshot);
      return reasons && { value: YES, reasons };
    }
    case 'bands': {
      for (const band of rule.bands) {
        const reasons = reasonsIfAll(band.when, snapshot);
        if (reasons)
          return { value: band.value, reasons: reasons.length > 0 ? reasons : ['no other band applies'] };
      }
      return undefined;
    }
    case 'top': {
      const reasons = reasonsIfAll(rule.when, snapshot);
      if (!reasons) return undefined;
      const entry = ranking(view, rule.of)[rule.rank - 1];
      if (entry === undefined || entry.share < rule.minShare) return undefined;
      const place = rule.rank === 1 ? 'first' : `number ${rule.rank}`;
      return {
        value: entry.name,
        reasons: [
          `${rule.of} ${entry.name} is ${place}: ${percent(entry.share)} of their ${rule.of} activity`,
          ...reasons,
        ],
      };
    }
  }
}

/**
 * Reasons kept per tag, and characters per reason: a customer's record holds every tag they carry (at
 * most MAX_TAGS) in one item, which DynamoDB caps at 400 KB, whatever traits a client sent.
 */
export const MAX_REASONS = 5;
export const MAX_REASON_CHARS = 160;

const clip = (reason: string) =>
  reason.length <= MAX_REASON_CHARS ? reason : `${reason.slice(0, MAX_REASON_CHARS - 1)}…`;

/** The enabled tags this customer carries, by tag id. */
export function evaluateTags(definitions: readonly TagDefinition[], subject: TagSubject): EvaluatedTag[] {
  const tags: EvaluatedTag[] = [];
  for (const tag of definitions) {
    if (!tag.enabled) continue;
    const given = applyRule(tag.rule, subject);
    if (given)
      tags.push({ tag: tag.id, value: given.value, reasons: given.reasons.slice(0, MAX_REASONS).map(clip) });
  }
  return tags.sort((x, y) => (x.tag < y.tag ? -1 : x.tag > y.tag ? 1 : 0));
}

/** The snapshot with its `tags` map (tag -> value), for audiences with tag conditions. */
export function withTags(subject: TagSubject, definitions: readonly TagDefinition[]): AudienceSnapshot {
  const tags = new Map(evaluateTags(definitions, subject).map((t) => [t.tag, t.value]));
  return { ...subject.snapshot, tags };
}

/**
 * The record to store after an evaluation at `evaluatedAt`: a tag whose value is unchanged keeps its
 * `since`; a new value starts now.
 */
export function nextTags(
  customerId: string,
  previous: CustomerTags | undefined,
  evaluated: readonly EvaluatedTag[],
  evaluatedAt: string,
): CustomerTags {
  const before = new Map((previous?.tags ?? []).map((t) => [t.tag, t]));
  return {
    customerId,
    evaluatedAt,
    tags: evaluated.map((t) => {
      const old = before.get(t.tag);
      return { ...t, since: old !== undefined && old.value === t.value ? old.since : evaluatedAt };
    }),
  };
}

/**
 * Whether two records carry the same tags, values and reasons (their evaluation times aside); no record
 * is the same as one without tags (a customer who never had a tag needs none stored).
 */
export function sameTags(a: CustomerTags | undefined, b: CustomerTags): boolean {
  return JSON.stringify(a?.tags ?? []) === JSON.stringify(b.tags);
}
