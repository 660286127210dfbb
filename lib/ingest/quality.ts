// Data-quality rules: events that are well-formed but cannot be true (junk ids, negative or absurd
// amounts, clocks far in the future) are quarantined with a reason instead of polluting profiles.
import type { QualityConfig } from '../config.js';
import { isSpecEventName } from './ecommerce.js';
import type { NormalizedEvent } from './normalized.js';
import type { FieldIssue } from './spec.js';

/** Monetary spec properties: never negative, never absurd. */
const AMOUNT_KEYS = [
  'revenue',
  'total',
  'subtotal',
  'value',
  'price',
  'tax',
  'shipping',
  'discount',
] as const;
const ID_FIELDS = ['userId', 'anonymousId', 'groupId', 'previousId'] as const;
/** Nothing a person could read or type: control (NUL...), format (zero-width...) and space characters. */
const BLANK = /^[\p{C}\p{Z}\s]+$/u;
const CURRENCY = /^[A-Z]{3}$/;

/** `receivedAtMs` spares parsing `e.receivedAt` when the caller has it as a number. */
export function checkQuality(
  e: NormalizedEvent,
  q: QualityConfig,
  receivedAtMs = Date.parse(e.receivedAt),
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const field of ID_FIELDS) {
    const id = e[field];
    if (id === undefined) continue;
    if (q.junkIds.has(id.toLowerCase())) {
      issues.push({ path: field, code: 'junk_id', message: `"${id}" is a placeholder, not an identifier` });
    } else if (BLANK.test(id)) {
      // Spec validation trims whitespace only; a NUL-only id would otherwise become a customer.
      issues.push({
        path: field,
        code: 'blank_id',
        message: 'is made only of control, invisible or blank characters',
      });
    }
  }
  checkTimestamp(e, q, receivedAtMs, issues);
  if (e.properties) {
    // Spec events promise numbers (numeric strings were converted); custom events may carry strings.
    const typed = e.type === 'track' && e.event !== undefined && isSpecEventName(e.event);
    checkAmounts(e.properties, 'properties', typed, q, issues);
  }
  return issues;
}

function checkTimestamp(e: NormalizedEvent, q: QualityConfig, received: number, issues: FieldIssue[]) {
  const at = Date.parse(e.timestamp);
  if (at - received > q.maxFutureMs) {
    const hours = Math.round((at - received) / 3_600_000);
    issues.push({
      path: 'timestamp',
      code: 'timestamp_in_future',
      message: `is ${hours} h after the event was received (at most ${q.maxFutureMs / 3_600_000} h allowed)`,
    });
  } else if (at < q.minTimestampMs) {
    issues.push({
      path: 'timestamp',
      code: 'timestamp_too_old',
      message: `is before ${new Date(q.minTimestampMs).toISOString()}`,
    });
  }
}

// Runs for every product of every order: no closures or path strings unless there is an issue.
function checkAmounts(
  props: Record<string, unknown>,
  path: string,
  typed: boolean,
  q: QualityConfig,
  issues: FieldIssue[],
) {
  for (const key of AMOUNT_KEYS) {
    const issue = amountIssue(props[key], typed, q);
    if (issue) issues.push({ path: `${path}.${key}`, ...issue });
  }
  const quantity = quantityIssue(props.quantity, typed, q);
  if (quantity) issues.push({ path: `${path}.quantity`, ...quantity });
  if (typeof props.currency === 'string' && !CURRENCY.test(props.currency)) {
    issues.push({
      path: `${path}.currency`,
      code: 'invalid_currency',
      message: 'must be an ISO-4217 code such as EUR',
    });
  }
  const products = props.products;
  if (Array.isArray(products)) {
    for (let i = 0; i < products.length; i++) {
      const p: unknown = products[i];
      if (p !== null && typeof p === 'object' && !Array.isArray(p)) {
        checkAmounts(p as Record<string, unknown>, `${path}.products[${i}]`, typed, q, issues);
      }
    }
  }
}

type Issue = Omit<FieldIssue, 'path'>;

function amountIssue(value: unknown, typed: boolean, q: QualityConfig): Issue | undefined {
  if (typeof value !== 'number') {
    return typed && value !== undefined && value !== null
      ? { code: 'not_a_number', message: 'must be a number' }
      : undefined;
  }
  if (value < 0) return { code: 'negative_amount', message: `must not be negative (got ${value})` };
  if (value > q.maxAmount)
    return { code: 'absurd_amount', message: `${value} is above the limit of ${q.maxAmount}` };
  return undefined;
}

function quantityIssue(value: unknown, typed: boolean, q: QualityConfig): Issue | undefined {
  if (typeof value !== 'number') {
    return typed && value !== undefined && value !== null
      ? { code: 'not_a_number', message: 'must be a number' }
      : undefined;
  }
  if (value <= 0) return { code: 'non_positive_quantity', message: `must be above zero (got ${value})` };
  if (value > q.maxQuantity) {
    return { code: 'absurd_quantity', message: `${value} is above the limit of ${q.maxQuantity}` };
  }
  return undefined;
}
