// Audience filters (pure): a campaign's conditions over a customer's traits, segment, RFM label and
// live figures, all of which must hold. The answer says which condition failed and why, for the decision
// log. Personal data is never a filter value: conditions on PII traits (the catalogue's e-mail, phone,
// name, birthday, address) are refused at save time except `exists` / `missing`, which read the stored
// token as it is — targeting never decrypts (docs/campaigns.md, "Triggers and timers").
import type { FieldIssue } from '../ingest/spec.js';
import { type PredictionScore, type Predictions, predictionScores } from '../models/predictions.js';
import type { LifecycleStage } from '../models/rhythm.js';
import { traitKind } from '../pii/catalogue.js';
import { isPiiToken } from '../pii/cipher.js';
import type { CustomerView } from '../profiles/view.js';
import type { RfmSegment } from '../segmentation/rfm.js';
import type { SegmentId } from '../segmentation/segments.js';
import type { Condition, ProfileCondition, ProfileMetric } from './model.js';

/** What the audience reads of a customer. */
export interface AudienceSnapshot {
  /** Latest value of each trait, as stored (PII as `enc:v1:` tokens). */
  traits: Readonly<Record<string, unknown>>;
  segment?: SegmentId;
  rfm?: RfmSegment;
  metrics: Readonly<Record<ProfileMetric, number | null>>;
  /** Track events by name (the profile keeps the most frequent names). */
  events: Readonly<Record<string, number>>;
  /** From the last published run's models, when it gave the customer predictions. */
  lifecycle?: LifecycleStage;
  scores?: Readonly<Record<PredictionScore, number | null>>;
  /**
   * Tag id -> value (`true` for a yes/no tag) of the tags defined now, evaluated on this snapshot by the
   * caller (lib/tags/evaluate.ts `withTags`); absent where tags were not evaluated.
   */
  tags?: ReadonlyMap<string, string>;
}

export type AudienceResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly index: number; readonly condition: Condition; readonly reason: string };

/** The snapshot of a live profile and the customer's current segment assignment, if any. */
export function audienceSnapshot(
  view: CustomerView,
  assignment: { segment: SegmentId; rfm?: { segment: RfmSegment }; predictions?: Predictions } | undefined,
  now: number,
): AudienceSnapshot {
  const traits: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(view.traits)) traits[name] = t.v;
  const snapshot: AudienceSnapshot = {
    traits,
    metrics: metricsOf(view, now),
    events: view.aggregates.eventCounts,
  };
  if (assignment !== undefined) {
    snapshot.segment = assignment.segment;
    if (assignment.rfm !== undefined) snapshot.rfm = assignment.rfm.segment;
    if (assignment.predictions !== undefined) {
      snapshot.lifecycle = assignment.predictions.lifecycle;
      snapshot.scores = predictionScores(assignment.predictions, now);
    }
  }
  return snapshot;
}

const HOUR_MS = 60 * 60 * 1000;
/** Local hours counted as night: 22:00 to 05:59. */
const NIGHT_HOURS = [22, 23, 0, 1, 2, 3, 4, 5];
/** Saturday and Sunday (Monday = 0). */
const WEEKEND_DAYS = [5, 6];

/** The share of a histogram's counts that fall in `slots`; null for an empty histogram. */
function shareOf(counts: readonly number[], slots: readonly number[]): number | null {
  const total = counts.reduce((sum, n) => sum + n, 0);
  if (total === 0) return null;
  const inSlots = slots.reduce((sum, i) => sum + (counts[i] ?? 0), 0);
  return Math.round((inSlots / total) * 10_000) / 10_000;
}

/** Whole hours since a cart with items was last touched; null for an empty cart. */
function hoursSinceCartActivity(cart: CustomerView['cart'], now: number): number | null {
  if (cart.items.length === 0 || cart.lastActivity === undefined) return null;
  return Math.max(0, Math.floor((now - Date.parse(cart.lastActivity)) / HOUR_MS));
}

/** Every PROFILE_METRICS figure of a profile view, as of `now`. */
export function metricsOf(view: CustomerView, now: number): Record<ProfileMetric, number | null> {
  const a = view.aggregates;
  // Typed as every metric: one added to PROFILE_METRICS and forgotten here fails the type check.
  const metrics: Record<ProfileMetric, number | null> = {
    orders: view.orders,
    netRevenue: view.netRevenue,
    averageOrderValue: view.averageOrderValue,
    daysSinceLastOrder: view.daysSinceLastOrder,
    daysSinceLastSeen: view.daysSinceLastSeen,
    distinctOrderDays: view.distinctOrderDays,
    refundedOrders: view.refundedOrders,
    cancellations: a.cancellations,
    sessions: view.sessions,
    pageViews: view.pageViews,
    productViews: a.productViews,
    cartAdds: a.cartAdds,
    checkouts: a.checkouts,
    shares: a.shares,
    averageDwellSeconds: view.averageDwellSeconds,
    cartItems: view.cart.quantity,
    cartValue: view.cart.value,
    hoursSinceCartActivity: hoursSinceCartActivity(view.cart, now),
    nightShare: shareOf(a.hours, NIGHT_HOURS),
    weekendShare: shareOf(a.weekdays, WEEKEND_DAYS),
  };
  return metrics;
}

/** Whether every condition holds; else the first that does not, with the reason. */
export function evaluateAudience(
  conditions: readonly (Condition | ProfileCondition)[],
  snapshot: AudienceSnapshot,
): AudienceResult {
  for (const [index, condition] of conditions.entries()) {
    const reason = failure(condition, snapshot);
    if (reason !== undefined) return { ok: false, index, condition, reason };
  }
  return { ok: true };
}

function failure(c: Condition | ProfileCondition, s: AudienceSnapshot): string | undefined {
  switch (c.kind) {
    case 'segment':
      return s.segment !== undefined && c.in.includes(s.segment)
        ? undefined
        : `segment ${s.segment ?? 'none'} is not one of ${c.in.join(', ')}`;
    case 'rfm':
      return s.rfm !== undefined && c.in.includes(s.rfm)
        ? undefined
        : `RFM ${s.rfm ?? 'none'} is not one of ${c.in.join(', ')}`;
    case 'metric': {
      const value = s.metrics[c.metric];
      if (value === null) return `${c.metric} has no value`;
      return compare(c.op, value, c.value) ? undefined : `${c.metric} ${value} is not ${c.op} ${c.value}`;
    }
    case 'lifecycle':
      return s.lifecycle !== undefined && c.in.includes(s.lifecycle)
        ? undefined
        : `lifecycle ${s.lifecycle ?? 'none'} is not one of ${c.in.join(', ')}`;
    case 'prediction': {
      const value = s.scores?.[c.score] ?? null;
      if (value === null) return `${c.score} has no value`;
      return compare(c.op, value, c.value) ? undefined : `${c.score} ${value} is not ${c.op} ${c.value}`;
    }
    case 'event': {
      const count = Object.hasOwn(s.events, c.event) ? (s.events[c.event] ?? 0) : 0;
      return compare(c.op, count, c.value)
        ? undefined
        : `${c.event} events ${count} is not ${c.op} ${c.value}`;
    }
    case 'tag':
      return tagFailure(c, s.tags);
    case 'trait':
      return traitFailure(c, traitValue(s.traits, c.trait));
  }
}

/**
 * What makes a condition that holds hold, in the customer's own figures (a tag's reasons):
 * `nightShare 0.62 (gte 0.5)`, `segment loyal`, `Coupon Applied events 3 (gte 2)`.
 */
export function holdsBecause(c: ProfileCondition, s: AudienceSnapshot): string {
  switch (c.kind) {
    case 'segment':
      return `segment ${s.segment ?? 'none'}`;
    case 'rfm':
      return `RFM ${s.rfm ?? 'none'}`;
    case 'lifecycle':
      return `lifecycle ${s.lifecycle ?? 'none'}`;
    case 'metric':
      return `${c.metric} ${s.metrics[c.metric] ?? 'none'} (${c.op} ${c.value})`;
    case 'prediction':
      return `${c.score} ${s.scores?.[c.score] ?? 'none'} (${c.op} ${c.value})`;
    case 'event':
      return `${c.event} events ${Object.hasOwn(s.events, c.event) ? (s.events[c.event] ?? 0) : 0} (${c.op} ${c.value})`;
    case 'trait': {
      if (c.op === 'exists' || c.op === 'missing')
        return `${c.trait} ${c.op === 'exists' ? 'given' : 'missing'}`;
      const actual = traitValue(s.traits, c.trait);
      // Save-time checks refuse comparisons on PII, so a holding comparison is on a clear value.
      const shown = !present(actual) ? 'missing' : isPiiToken(actual) ? '(personal)' : String(actual);
      return `${c.trait} ${shown} (${c.op} ${Array.isArray(c.value) ? c.value.join(', ') : String(c.value)})`;
    }
  }
}

function tagFailure(
  c: Extract<Condition, { kind: 'tag' }>,
  tags: AudienceSnapshot['tags'],
): string | undefined {
  if (tags === undefined) return 'tags were not evaluated';
  const value = tags.get(c.tag);
  if (value === undefined) return `no tag ${c.tag}`;
  return c.in === undefined || c.in.includes(value)
    ? undefined
    : `tag ${c.tag} is ${value}, not one of ${c.in.join(', ')}`;
}

type Scalar = string | number | boolean;
type TraitCondition = Extract<Condition, { kind: 'trait' }>;

/** A trait by name, or one level into an object trait (`address.country`, kept in clear). */
function traitValue(traits: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(traits, name)) return traits[name];
  const dot = name.indexOf('.');
  if (dot <= 0) return undefined;
  const parent = traits[name.slice(0, dot)];
  const key = name.slice(dot + 1);
  return parent !== null && typeof parent === 'object' && Object.hasOwn(parent, key)
    ? (parent as Record<string, unknown>)[key]
    : undefined;
}

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

function traitFailure(c: TraitCondition, actual: unknown): string | undefined {
  if (c.op === 'exists') return present(actual) ? undefined : `${c.trait} is missing`;
  if (c.op === 'missing') return present(actual) ? `${c.trait} is present` : undefined;
  // Defence in depth: a token never equals or orders against a clear value (save time refuses these).
  if (isPiiToken(actual)) return `${c.trait} is personal data and is never compared`;
  if (c.op === 'neq')
    return present(actual) && equals(actual, c.value) ? `${c.trait} is ${String(actual)}` : undefined;
  if (!present(actual)) return `${c.trait} is missing`;
  return valueFailure(c, actual);
}

/** eq, in and the orderings, on a present clear value. */
function valueFailure(c: TraitCondition, actual: unknown): string | undefined {
  const expected = c.value;
  if (c.op === 'eq' || c.op === 'in') {
    const options = Array.isArray(expected) ? expected : [expected];
    return options.some((o) => equals(actual, o))
      ? undefined
      : `${c.trait} ${String(actual)} is not ${c.op} ${options.join(', ')}`;
  }
  const value = Array.isArray(expected) ? undefined : expected;
  const op = c.op === 'gt' || c.op === 'gte' || c.op === 'lt' || c.op === 'lte' ? c.op : undefined;
  return value !== undefined && op !== undefined && compare(op, actual, value)
    ? undefined
    : `${c.trait} ${String(actual)} is not ${c.op} ${String(value)}`;
}

/**
 * Equality across the types clients send: a number and its numeric string agree (`"3"` = 3), as do a
 * boolean and `"true"`/`"false"`; strings compare exactly.
 */
function equals(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if (typeof expected === 'number') return toNumber(actual) === expected;
  if (typeof expected === 'boolean') return actual === String(expected);
  if (typeof expected === 'string')
    return typeof actual === 'number' || typeof actual === 'boolean' ? String(actual) === expected : false;
  return false;
}

const toNumber = (v: unknown): number | undefined => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};

/** Numbers by value (numeric strings included); two strings in code-point order (ISO dates compare). */
function compare(op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq', actual: unknown, expected: Scalar): boolean {
  let a: number | string | undefined;
  let b: number | string | undefined;
  if (typeof expected === 'number') {
    a = toNumber(actual);
    b = expected;
  } else if (typeof expected === 'string' && typeof actual === 'string') {
    a = actual;
    b = expected;
  }
  if (a === undefined || b === undefined) return false;
  switch (op) {
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'eq':
      return a === b;
  }
}

/**
 * Save-time checks of an audience: a comparison on a PII trait is refused (targeting never decrypts);
 * `exists` and `missing` are allowed. An ordering (gt ...) needs one number or string value; `in` a list.
 */
export function audienceIssues(
  conditions: readonly (Condition | ProfileCondition)[],
  at = 'audience',
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  conditions.forEach((c, i) => {
    if (c.kind !== 'trait') return;
    const path = `${at}[${i}]`;
    const kind = traitKind(c.trait);
    if (kind !== undefined && c.op !== 'exists' && c.op !== 'missing')
      issues.push({
        path: `${path}.trait`,
        code: 'pii_trait',
        message: `${c.trait} holds personal data (${kind.kind}): only exists or missing may test it`,
      });
    const needsValue = c.op !== 'exists' && c.op !== 'missing';
    if (needsValue && c.value === undefined)
      issues.push({ path: `${path}.value`, code: 'missing_value', message: `${c.op} needs a value` });
    if (c.op === 'in' && c.value !== undefined && !Array.isArray(c.value))
      issues.push({ path: `${path}.value`, code: 'not_a_list', message: 'in needs a list of values' });
    if (['gt', 'gte', 'lt', 'lte', 'eq', 'neq'].includes(c.op) && Array.isArray(c.value))
      issues.push({ path: `${path}.value`, code: 'not_a_scalar', message: `${c.op} needs one value` });
  });
  return issues;
}
