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
import type { Condition } from './model.js';

export type Metric = Extract<Condition, { kind: 'metric' }>['metric'];

/** What the audience reads of a customer. */
export interface AudienceSnapshot {
  /** Latest value of each trait, as stored (PII as `enc:v1:` tokens). */
  traits: Readonly<Record<string, unknown>>;
  segment?: SegmentId;
  rfm?: RfmSegment;
  metrics: Readonly<Record<Metric, number | null>>;
  /** From the last published run's models, when it gave the customer predictions. */
  lifecycle?: LifecycleStage;
  scores?: Readonly<Record<PredictionScore, number | null>>;
}

export type AudienceResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly index: number; readonly condition: Condition; readonly reason: string };

/** The snapshot of a live profile and the customer's current segment assignment, if any. */
export function audienceSnapshot(
  view: Pick<
    CustomerView,
    'traits' | 'orders' | 'netRevenue' | 'averageOrderValue' | 'daysSinceLastOrder' | 'daysSinceLastSeen'
  >,
  assignment: { segment: SegmentId; rfm?: { segment: RfmSegment }; predictions?: Predictions } | undefined,
  now: number,
): AudienceSnapshot {
  const traits: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(view.traits)) traits[name] = t.v;
  const snapshot: AudienceSnapshot = {
    traits,
    metrics: {
      orders: view.orders,
      netRevenue: view.netRevenue,
      averageOrderValue: view.averageOrderValue,
      daysSinceLastOrder: view.daysSinceLastOrder,
      daysSinceLastSeen: view.daysSinceLastSeen,
    },
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

/** Whether every condition holds; else the first that does not, with the reason. */
export function evaluateAudience(
  conditions: readonly Condition[],
  snapshot: AudienceSnapshot,
): AudienceResult {
  for (const [index, condition] of conditions.entries()) {
    const reason = failure(condition, snapshot);
    if (reason !== undefined) return { ok: false, index, condition, reason };
  }
  return { ok: true };
}

function failure(c: Condition, s: AudienceSnapshot): string | undefined {
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
    case 'trait':
      return traitFailure(c, traitValue(s.traits, c.trait));
  }
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
export function audienceIssues(conditions: readonly Condition[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  conditions.forEach((c, i) => {
    if (c.kind !== 'trait') return;
    const path = `audience[${i}]`;
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
