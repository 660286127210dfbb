// Import rows to Segment spec events, pure: a customers row becomes an `identify`, the rows of an order
// (one per order or one per order line, anywhere in the file) become its `Order Completed` / `Order
// Refunded` / `Order Cancelled` track events. The events then go through the live ingest pipeline.
//
// Columns are matched by snake_case key (lib/imports/read.ts columnKey) and alias; for a field, the first
// alias with a value wins, row by row. Cells are validated with zod; a row that cannot become an event is
// reported as { row, field, code, reason } and skipped.
//
// Identity: a row's userId (user_id, customer_id, ...), else its e-mail. A Segment event needs a userId or
// an anonymousId, so an e-mail-only row gets anonymousId `import-<keyed hash of the normalized e-mail>`:
// the same e-mail always lands on the same anonymous node, customers and orders files alike, and the
// e-mail itself (a trait, or context.traits on orders) links that node to the e-mail in the identity graph.
// The hash is keyed (the identifier HMAC secret): an anonymousId is stored and shown in clear.
//
// messageIds make re-imports idempotent (the archive deduplicates by messageId):
//   customers  import-customer-<sha256(source, type, the row's mapped content)>: the same row uploaded
//              again is the same event; a changed row is a new (and newer) event whose traits win.
//   orders     import-order-<source>-<order_id>-<completed|refunded|cancelled>: an order counts once,
//              whatever the number of uploads; a later status is a new event. A corrected total of an
//              order already imported is therefore not applied.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { stableStringify } from '../ingest/normalize.js';
import type { SpecEventInput } from '../ingest/spec.js';
import { isJunkEmail, normalizeEmail } from '../pii/identifiers.js';
import type { ImportError } from './model.js';

export interface MappingOptions {
  readonly sourceId: string;
  /** When the file was exported (epoch ms): the time of customer rows without a date of their own. */
  readonly asOf: number;
  /** Placeholder values (config quality.junkIds): a junk e-mail identifies nobody. */
  readonly junk: ReadonlySet<string>;
  /** Keyed hash of a normalized e-mail, for the anonymousId of e-mail-only rows. */
  readonly emailKey: (email: string) => string;
}

export type Values = Readonly<Record<string, unknown>>;

/** The SDK that "sent" imported events (context.library). */
export const IMPORT_LIBRARY = { name: 'precis-import', version: '1' } as const;

/** Columns by field, in order of preference. */
export const CUSTOMER_COLUMNS = {
  userId: ['user_id', 'userid', 'customer_id', 'customerid', 'id'],
  email: ['email', 'e_mail', 'email_address', 'mail'],
  phone: ['phone', 'phone_number', 'mobile', 'mobile_phone', 'telephone', 'tel'],
  firstName: ['first_name', 'firstname', 'given_name', 'forename'],
  lastName: ['last_name', 'lastname', 'surname', 'family_name'],
  name: ['name', 'full_name', 'fullname'],
  birthday: ['birthday', 'date_of_birth', 'dob', 'birth_date', 'birthdate'],
  street: ['street', 'address', 'street_address', 'address_line_1', 'address_line1', 'address1'],
  street2: ['address_line_2', 'address_line2', 'address2', 'street2'],
  city: ['city', 'town'],
  state: ['state', 'region', 'province'],
  postalCode: ['postal_code', 'zip', 'zip_code', 'zipcode', 'postcode', 'post_code', 'postalcode'],
  country: ['country', 'country_code'],
  crmId: ['crm_id', 'crmid'],
  updatedAt: ['updated_at', 'last_updated', 'modified_at'],
  createdAt: ['created_at', 'signup_date', 'signed_up_at', 'registered_at', 'registration_date'],
} as const satisfies Record<string, readonly string[]>;

export const ORDER_COLUMNS = {
  orderId: ['order_id', 'orderid', 'order_number', 'order_no', 'invoice_no', 'invoice_number', 'invoice'],
  userId: ['user_id', 'userid', 'customer_id', 'customerid'],
  email: ['email', 'e_mail', 'email_address', 'customer_email'],
  timestamp: [
    'timestamp',
    'order_date',
    'date',
    'created_at',
    'ordered_at',
    'order_time',
    'purchased_at',
    'invoice_date',
  ],
  /** When a refund or cancellation happened; the order's date when absent. */
  changedAt: ['updated_at', 'refunded_at', 'cancelled_at', 'canceled_at', 'status_date'],
  status: ['status', 'order_status', 'financial_status'],
  total: ['total', 'revenue', 'amount', 'order_total', 'grand_total', 'total_amount'],
  currency: ['currency', 'currency_code'],
  shipping: ['shipping', 'shipping_cost'],
  tax: ['tax', 'tax_amount', 'vat'],
  discount: ['discount', 'discount_amount'],
  coupon: ['coupon', 'coupon_code', 'discount_code'],
  productId: ['product_id', 'productid', 'item_id', 'stock_code', 'stockcode'],
  sku: ['sku'],
  productName: ['name', 'product_name', 'item_name', 'product', 'title', 'description'],
  category: ['category', 'product_category'],
  brand: ['brand'],
  price: ['price', 'unit_price', 'unitprice', 'item_price'],
  quantity: ['quantity', 'qty', 'units'],
} as const satisfies Record<string, readonly string[]>;

const CUSTOMER_KEYS: ReadonlySet<string> = new Set(Object.values(CUSTOMER_COLUMNS).flat());

// --- cells ----------------------------------------------------------------------------------------------

/** A custom zod issue carrying our error code. */
const fail = (ctx: z.core.$RefinementCtx, code: string, message: string) => {
  ctx.addIssue({ code: 'custom', message, params: { code } });
  return z.NEVER;
};

/** What a CSV cell (text) or an NDJSON value (any JSON scalar) may be; empty means absent. */
const Cell = z.union([z.string(), z.number(), z.boolean(), z.null(), z.undefined()], {
  error: 'must be text or a number, not an object or a list',
});

const Text = Cell.transform((v, ctx) => {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'number' && !Number.isFinite(v)) return fail(ctx, 'invalid_value', 'must be finite');
  const text = String(v).trim();
  if (text.length > 1024) return fail(ctx, 'too_long', 'must be at most 1024 characters');
  return text === '' ? undefined : text;
});

const requiredText = (what: string) =>
  Text.transform((v, ctx) => (v === undefined ? fail(ctx, 'required', `is required (${what})`) : v));

const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const THOUSANDS_COMMA = /^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;
const THOUSANDS_DOT = /^[+-]?\d{1,3}(?:\.\d{3})+,\d{1,2}$/;
const DECIMAL_COMMA = /^[+-]?\d+,\d{1,2}$/;

/**
 * A number from text: `12.5`, `1,234.50`, and (CSV from European locales) `12,5` and `1.234,50`. A
 * comma followed by three digits is a thousands separator; anything else ambiguous is refused.
 */
export function parseNumber(text: string): number | undefined {
  const t = text.replace(/\s/g, '');
  let normalized: string | undefined;
  if (PLAIN_NUMBER.test(t)) normalized = t;
  else if (THOUSANDS_COMMA.test(t)) normalized = t.replace(/,/g, '');
  else if (THOUSANDS_DOT.test(t)) normalized = t.replace(/\./g, '').replace(',', '.');
  else if (DECIMAL_COMMA.test(t)) normalized = t.replace(',', '.');
  const n = normalized === undefined ? Number.NaN : Number(normalized);
  return Number.isFinite(n) ? n : undefined;
}

const Num = Cell.transform((v, ctx) => {
  if (v === null || v === undefined || v === '') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : fail(ctx, 'invalid_number', 'must be finite');
  if (typeof v === 'boolean') return fail(ctx, 'invalid_number', 'is not a number');
  if (v.trim() === '') return undefined;
  const n = parseNumber(v);
  return n === undefined ? fail(ctx, 'invalid_number', `"${v.trim()}" is not a number`) : n;
});

const DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Epoch ms of an ISO-8601 date-time or `YYYY-MM-DD[ HH:MM[:SS]]`; without an offset it is UTC. Impossible
 * dates (2024-02-30, 25:00) are refused rather than rolled over.
 */
export function parseDate(text: string): number | undefined {
  const m = DATE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', offset = 'Z'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(
    Date.UTC(year, month - 1, day, hour, minute, second, Math.floor(Number(`0${frac}`) * 1000)),
  );
  // Date.UTC reads years 0-99 as 19xx; setUTCFullYear does not.
  date.setUTCFullYear(year);
  const t = date.getTime();
  const rolledOver =
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    date.getUTCHours() !== hour ||
    date.getUTCMinutes() !== minute ||
    date.getUTCSeconds() !== second;
  if (rolledOver) return undefined;
  if (offset.toUpperCase() === 'Z') return t;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const oh = Number(digits.slice(0, 2));
  const om = Number(digits.slice(2) || '0');
  if (oh > 14 || om > 59) return undefined;
  return t - sign * (oh * 60 + om) * 60_000;
}

const DateCell = Text.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const t = parseDate(v);
  return t === undefined
    ? fail(ctx, 'invalid_date', `"${v}" is not a date; use ISO 8601 or YYYY-MM-DD[ HH:MM[:SS]] (UTC)`)
    : t;
});

/** A custom trait value: text as typed in a spreadsheet (numbers, true/false), JSON values as they are. */
export function customValue(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') return value;
  const t = value.trim();
  if (t === '') return undefined;
  if (/^(?:true|false)$/i.test(t)) return t.toLowerCase() === 'true';
  // Not `007` or `02134` (codes, zip codes), and no more digits than a double holds exactly.
  if (/^-?(?:0|[1-9]\d{0,14})(?:\.\d{1,15})?$/.test(t)) return Number(t);
  return t;
}

// --- picking columns ------------------------------------------------------------------------------------

type Columns = Readonly<Record<string, readonly string[]>>;

const isEmpty = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/** For each field: the value of its first alias with one, and the column it came from (for errors). */
function pick<C extends Columns>(values: Values, columns: C) {
  const input = {} as Record<keyof C, unknown>;
  const columnOf = {} as Record<keyof C, string>;
  for (const field of Object.keys(columns) as (keyof C)[]) {
    const aliases = columns[field] as readonly string[];
    const key = aliases.find((alias) => !isEmpty(values[alias]));
    input[field] = key === undefined ? undefined : values[key];
    // A value's column, else a column of the file that is there but empty, else the field's main name.
    columnOf[field] = key ?? aliases.find((alias) => Object.hasOwn(values, alias)) ?? (aliases[0] as string);
  }
  return { input, columnOf };
}

function errorsOf(error: z.ZodError, row: number, columnOf: Readonly<Record<string, string>>): ImportError[] {
  return error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '');
    const params = (issue as { params?: { code?: unknown } }).params;
    return {
      row,
      field: columnOf[field] ?? field,
      code: typeof params?.code === 'string' ? params.code : 'invalid_value',
      reason: issue.message,
    };
  });
}

export type Mapped<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: ImportError[] };

/** The identity of a row: its userId, else the anonymousId of its e-mail. */
function identityOf(
  userId: string | undefined,
  email: string | undefined,
  row: number,
  columnOf: { userId: string; email: string },
  options: MappingOptions,
): Mapped<{ userId?: string; anonymousId?: string; email?: string }> {
  const normalized = email === undefined ? undefined : normalizeEmail(email);
  if (userId !== undefined) return { ok: true, value: { userId, email: normalized ?? email } };
  const error = (field: string, code: string, reason: string): Mapped<never> => ({
    ok: false,
    errors: [{ row, field, code, reason }],
  });
  if (email === undefined) {
    return error(columnOf.userId, 'required', 'is required (or an e-mail to identify the customer by)');
  }
  if (normalized === undefined) {
    // The value is not echoed: reports are kept (reports/imports/ in S3), and it may still be personal.
    return error(columnOf.email, 'invalid_email', 'is not an e-mail address, and the row has no user id');
  }
  if (isJunkEmail(normalized, options.junk)) {
    return error(columnOf.email, 'junk_email', 'is a placeholder address, and the row has no user id');
  }
  return { ok: true, value: { anonymousId: `import-${options.emailKey(normalized)}`, email: normalized } };
}

const sha256 = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex');
const iso = (t: number) => new Date(t).toISOString();

// --- customers ------------------------------------------------------------------------------------------

const CustomerRow = z.object({
  userId: Text,
  email: Text,
  phone: Text,
  firstName: Text,
  lastName: Text,
  name: Text,
  birthday: Text,
  street: Text,
  street2: Text,
  city: Text,
  state: Text,
  postalCode: Text,
  country: Text,
  crmId: Text,
  updatedAt: DateCell,
  createdAt: DateCell,
});
type CustomerRow = z.infer<typeof CustomerRow>;

const ADDRESS_FIELDS = ['street', 'street2', 'city', 'state', 'postalCode', 'country'] as const;
const PERSON_FIELDS = ['phone', 'firstName', 'lastName', 'name', 'birthday'] as const;

/**
 * One customer row as an identify: Segment's reserved traits (email, phone, firstName, lastName, name,
 * birthday, address{street, street2, city, state, postalCode, country}, createdAt), crm_id, and every other
 * column as a custom trait under its snake_case name. The event time is the row's updated_at, else its
 * created_at, else the file's as-of time (left out of the messageId, so a re-upload is the same event).
 */
export function customerEvent(values: Values, row: number, options: MappingOptions): Mapped<SpecEventInput> {
  const { input, columnOf } = pick(values, CUSTOMER_COLUMNS);
  const parsed = CustomerRow.safeParse(input);
  if (!parsed.success) return { ok: false, errors: errorsOf(parsed.error, row, columnOf) };
  const c = parsed.data;
  const who = identityOf(c.userId, c.email, row, columnOf, options);
  if (!who.ok) return who;

  const traits = traitsOf(c, who.value.email, values);
  const rowTime = c.updatedAt ?? c.createdAt;
  const content = stableStringify({ userId: c.userId, traits, at: rowTime });
  const event: SpecEventInput = {
    type: 'identify',
    messageId: `import-customer-${sha256(options.sourceId, 'customers', content).slice(0, 40)}`,
    timestamp: iso(rowTime ?? options.asOf),
    traits,
    context: { library: { ...IMPORT_LIBRARY } },
  };
  if (who.value.userId !== undefined) event.userId = who.value.userId;
  if (who.value.anonymousId !== undefined) event.anonymousId = who.value.anonymousId;
  return { ok: true, value: event };
}

function traitsOf(c: CustomerRow, email: string | undefined, values: Values): Record<string, unknown> {
  const traits: Record<string, unknown> = {};
  if (email !== undefined) traits.email = email;
  for (const field of PERSON_FIELDS) if (c[field] !== undefined) traits[field] = c[field];
  const address: Record<string, string> = {};
  for (const field of ADDRESS_FIELDS) if (c[field] !== undefined) address[field] = c[field];
  if (Object.keys(address).length > 0) traits.address = address;
  if (c.crmId !== undefined) traits.crm_id = c.crmId;
  if (c.createdAt !== undefined) traits.createdAt = iso(c.createdAt);
  for (const [key, value] of Object.entries(values)) {
    if (CUSTOMER_KEYS.has(key)) continue;
    const custom = customValue(value);
    if (custom !== undefined) traits[key] = custom;
  }
  return traits;
}

// --- orders ---------------------------------------------------------------------------------------------

export type OrderKind = 'completed' | 'refunded' | 'cancelled';

/** Statuses by what they mean; an order without a status is completed. Others (pending...) are refused. */
const STATUSES: ReadonlyMap<string, OrderKind> = new Map([
  ...[
    'completed',
    'complete',
    'paid',
    'fulfilled',
    'shipped',
    'delivered',
    'closed',
    'success',
    'succeeded',
    'done',
    'invoiced',
  ].map((s) => [s, 'completed'] as const),
  ...['refunded', 'refund', 'returned'].map((s) => [s, 'refunded'] as const),
  ...['cancelled', 'canceled', 'cancel', 'voided', 'void'].map((s) => [s, 'cancelled'] as const),
]);

const Status = Text.transform((v, ctx): OrderKind => {
  if (v === undefined) return 'completed';
  const kind = STATUSES.get(v.toLowerCase().replace(/[\s-]+/g, '_'));
  return (
    kind ??
    fail(
      ctx,
      'invalid_status',
      `"${v}" is not a final order status: use completed (or paid, shipped...), refunded or cancelled`,
    )
  );
});

const OrderRow = z.object({
  orderId: requiredText('the id of the order'),
  userId: Text,
  email: Text,
  timestamp: DateCell.transform((v, ctx) =>
    v === undefined ? fail(ctx, 'required', 'is required (the order date)') : v,
  ),
  changedAt: DateCell,
  status: Status,
  total: Num,
  currency: Text,
  shipping: Num,
  tax: Num,
  discount: Num,
  coupon: Text,
  productId: Text,
  sku: Text,
  productName: Text,
  category: Text,
  brand: Text,
  price: Num,
  quantity: Num,
});
type OrderRow = z.infer<typeof OrderRow>;

interface OrderGroup {
  readonly orderId: string;
  readonly kind: OrderKind;
  readonly userId?: string;
  readonly anonymousId?: string;
  readonly email?: string;
  /** The customer as one string, to compare rows. */
  readonly customer: string;
  readonly at: number;
  changedAt?: number;
  currency?: string;
  total?: number;
  shipping?: number;
  tax?: number;
  discount?: number;
  coupon?: string;
  readonly products: Record<string, unknown>[];
  /** The row of each product, in order (the pipeline names products by index). */
  readonly lineRows: number[];
  /** Every row of the group. */
  readonly rows: number[];
  conflict?: { readonly field: string; readonly code: string; readonly reason: string };
}

/** Where an event came from: its first row, and the row of each of its products. */
export interface EventOrigin {
  readonly row: number;
  readonly lineRows?: readonly number[];
}

export interface MappedEvent {
  readonly event: SpecEventInput;
  readonly origin: EventOrigin;
}

/**
 * Collects order rows over a whole file: rows with the same order id (and status) are one order, wherever
 * they are. Holds the orders, not the rows: ~500 bytes per line with its product (measured: 1M lines of
 * 333k orders take 460 MB of heap). Order-level values (customer, date, currency, total) come from the
 * order's first row that has them; rows of one order that name different customers or totals make the
 * whole order an error (which one would be right?).
 */
export class OrderCollector {
  private readonly groups = new Map<string, OrderGroup>();

  constructor(private readonly options: MappingOptions) {}

  /** Orders collected so far. */
  get size(): number {
    return this.groups.size;
  }

  /** Adds a row; returns its errors (the row is then not part of any order). */
  add(values: Values, row: number): ImportError[] {
    const { input, columnOf } = pick(values, ORDER_COLUMNS);
    const parsed = OrderRow.safeParse(input);
    if (!parsed.success) return errorsOf(parsed.error, row, columnOf);
    const r = parsed.data;
    const who = identityOf(r.userId, r.email, row, columnOf, this.options);
    if (!who.ok) return who.errors;
    const key = `${r.status}\u0000${r.orderId}`;
    const customer =
      who.value.userId !== undefined ? `user:${who.value.userId}` : `anon:${who.value.anonymousId}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = {
        orderId: r.orderId,
        kind: r.status,
        ...who.value,
        customer,
        at: r.timestamp,
        products: [],
        lineRows: [],
        rows: [],
      };
      this.groups.set(key, group);
    }
    group.rows.push(row);
    if (group.conflict) return [];
    if (customer !== group.customer) {
      group.conflict = {
        field: columnOf.userId,
        code: 'conflicting_customer',
        reason: `rows of order ${r.orderId} name different customers (see row ${group.rows[0]})`,
      };
      return [];
    }
    if (r.total !== undefined && group.total !== undefined && r.total !== group.total) {
      group.conflict = {
        field: columnOf.total,
        code: 'conflicting_total',
        reason: `rows of order ${r.orderId} state different totals (${group.total} and ${r.total}); a total is the order's, repeated on its lines`,
      };
      return [];
    }
    addOrderValues(group, r);
    return [];
  }

  /** The errors of orders whose rows disagree: one per row of such an order. */
  conflicts(): ImportError[] {
    const errors: ImportError[] = [];
    for (const group of this.groups.values()) {
      if (group.conflict) for (const row of group.rows) errors.push({ row, ...group.conflict });
    }
    return errors;
  }

  /** Rows of conflicting orders (skipped). */
  conflictingRows(): number {
    let n = 0;
    for (const group of this.groups.values()) if (group.conflict) n += group.rows.length;
    return n;
  }

  /**
   * The events of the orders, in order of their first row. A refunded order whose completion is not in
   * the file also gets its `Order Completed` (same messageId as a completion imported on its own): a
   * refund without the order would leave the customer with negative net revenue.
   */
  *events(): Generator<MappedEvent> {
    for (const group of this.groups.values()) {
      if (group.conflict) continue;
      const completedToo = group.kind === 'refunded' && !this.groups.has(`completed\u0000${group.orderId}`);
      if (group.kind === 'completed' || completedToo) yield orderEvent(group, 'completed', this.options);
      if (group.kind !== 'completed') yield orderEvent(group, group.kind, this.options);
    }
  }
}

function addOrderValues(group: OrderGroup, r: OrderRow): void {
  group.changedAt ??= r.changedAt;
  group.currency ??= r.currency;
  group.total ??= r.total;
  group.shipping ??= r.shipping;
  group.tax ??= r.tax;
  group.discount ??= r.discount;
  group.coupon ??= r.coupon;
  const product: Record<string, unknown> = {};
  const productId = r.productId ?? r.sku;
  if (productId !== undefined) product.product_id = productId;
  if (r.sku !== undefined) product.sku = r.sku;
  if (r.productName !== undefined) product.name = r.productName;
  if (r.category !== undefined) product.category = r.category;
  if (r.brand !== undefined) product.brand = r.brand;
  if (r.price !== undefined) product.price = r.price;
  if (r.quantity !== undefined) product.quantity = r.quantity;
  if (Object.keys(product).length > 0) {
    group.products.push(product);
    group.lineRows.push(group.rows[group.rows.length - 1] as number);
  }
}

const EVENT_NAMES: Record<OrderKind, string> = {
  completed: 'Order Completed',
  refunded: 'Order Refunded',
  cancelled: 'Order Cancelled',
};

/** The stated total, else the sum of price × quantity (1 when absent) of the lines with a price. */
export function orderAmount(total: number | undefined, products: readonly Record<string, unknown>[]) {
  if (total !== undefined) return total;
  let milli = 0;
  let priced = false;
  for (const p of products) {
    if (typeof p.price !== 'number') continue;
    priced = true;
    milli += Math.round(p.price * (typeof p.quantity === 'number' ? p.quantity : 1) * 1000);
  }
  return priced ? milli / 1000 : undefined;
}

/** `import-order-<source>-<order id>-<kind>`; hashed when that would be over Segment's 200 characters. */
export function orderMessageId(sourceId: string, orderId: string, kind: OrderKind): string {
  const id = `import-order-${sourceId}-${orderId}-${kind}`;
  return id.length <= 200 ? id : `import-order-${sha256(sourceId, orderId).slice(0, 40)}-${kind}`;
}

function orderEvent(group: OrderGroup, kind: OrderKind, options: MappingOptions): MappedEvent {
  const amount = orderAmount(group.total, group.products);
  const properties: Record<string, unknown> = { order_id: group.orderId };
  // Order Completed states revenue; refunds and cancellations the total concerned (Segment's spec).
  if (amount !== undefined) properties[kind === 'completed' ? 'revenue' : 'total'] = amount;
  if (group.currency !== undefined) properties.currency = group.currency;
  if (kind === 'completed') {
    if (group.shipping !== undefined) properties.shipping = group.shipping;
    if (group.tax !== undefined) properties.tax = group.tax;
    if (group.discount !== undefined) properties.discount = group.discount;
    if (group.coupon !== undefined) properties.coupon = group.coupon;
  }
  if (group.products.length > 0) properties.products = group.products;
  const at = kind === 'completed' ? group.at : (group.changedAt ?? group.at);
  const context: Record<string, unknown> = { library: { ...IMPORT_LIBRARY } };
  // The e-mail links the order's customer to it in the identity graph (sealed at the edge like a trait).
  if (group.email !== undefined) context.traits = { email: group.email };
  const event: SpecEventInput = {
    type: 'track',
    event: EVENT_NAMES[kind],
    messageId: orderMessageId(options.sourceId, group.orderId, kind),
    timestamp: iso(at),
    properties,
    context,
  };
  if (group.userId !== undefined) event.userId = group.userId;
  if (group.anonymousId !== undefined) event.anonymousId = group.anonymousId;
  return { event, origin: { row: group.rows[0] as number, lineRows: group.lineRows } };
}
