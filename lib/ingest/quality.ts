// Data-quality rules: events that are well-formed but cannot be true (junk ids, negative or absurd
// amounts, clocks far in the future) are quarantined with a reason instead of polluting profiles.
import type { QualityConfig } from '../config.js';
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
const CURRENCY = /^[A-Z]{3}$/;

export function checkQuality(e: NormalizedEvent, q: QualityConfig): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const field of ID_FIELDS) {
    const id = e[field];
    if (id !== undefined && q.junkIds.has(id.toLowerCase())) {
      issues.push({ path: field, code: 'junk_id', message: `"${id}" is a placeholder, not an identifier` });
    }
  }
  checkTimestamp(e, q, issues);
  if (e.properties) checkAmounts(e.properties, '', q, issues);
  return issues;
}

function checkTimestamp(e: NormalizedEvent, q: QualityConfig, issues: FieldIssue[]) {
  const at = Date.parse(e.timestamp);
  const received = Date.parse(e.receivedAt);
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

function checkAmounts(
  props: Record<string, unknown>,
  prefix: string,
  q: QualityConfig,
  issues: FieldIssue[],
) {
  const at = (key: string) => `${prefix || 'properties'}.${key}`;
  for (const key of AMOUNT_KEYS) {
    const value = props[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number') {
      issues.push({ path: at(key), code: 'not_a_number', message: 'must be a number' });
    } else if (value < 0) {
      issues.push({ path: at(key), code: 'negative_amount', message: `must not be negative (got ${value})` });
    } else if (value > q.maxAmount) {
      issues.push({
        path: at(key),
        code: 'absurd_amount',
        message: `${value} is above the limit of ${q.maxAmount}`,
      });
    }
  }
  checkQuantity(props.quantity, at('quantity'), q, issues);
  if (typeof props.currency === 'string' && !CURRENCY.test(props.currency)) {
    issues.push({
      path: at('currency'),
      code: 'invalid_currency',
      message: 'must be an ISO-4217 code such as EUR',
    });
  }
  const products = props.products;
  if (Array.isArray(products)) {
    products.forEach((p, i) => {
      if (p !== null && typeof p === 'object' && !Array.isArray(p)) {
        checkAmounts(p as Record<string, unknown>, `${at('products')}[${i}]`, q, issues);
      }
    });
  }
}

function checkQuantity(value: unknown, path: string, q: QualityConfig, issues: FieldIssue[]) {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number') {
    issues.push({ path, code: 'not_a_number', message: 'must be a number' });
  } else if (value <= 0) {
    issues.push({ path, code: 'non_positive_quantity', message: `must be above zero (got ${value})` });
  } else if (value > q.maxQuantity) {
    issues.push({
      path,
      code: 'absurd_quantity',
      message: `${value} is above the limit of ${q.maxQuantity}`,
    });
  }
}
