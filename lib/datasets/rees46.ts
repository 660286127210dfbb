// Maps the REES46 e-commerce event log to Segment events: views, cart adds, and purchases grouped into orders.
// Output stays in timestamp order so a replay looks like live traffic.
import { createHash } from 'node:crypto';
import type { SpecEventInput } from '../ingest/spec.js';
import { type CsvRecord, datasetPath, readCsvGz } from './files.js';

const COLUMNS = [
  'event_time',
  'event_type',
  'product_id',
  'category_id',
  'category_code',
  'brand',
  'price',
  'user_id',
  'user_session',
] as const;

type Rees46Row = Record<(typeof COLUMNS)[number], string>;

interface PendingOrder {
  first: Rees46Row;
  timestamp: string;
  products: Record<string, unknown>[];
  totalCents: number;
}

function toRow(record: CsvRecord): Rees46Row {
  const row: Partial<Rees46Row> = {};
  for (const column of COLUMNS) {
    const value = record[column];
    if (value === undefined) throw new Error(`rees46: column ${column} is missing`);
    row[column] = value;
  }
  return row as Rees46Row;
}

/** `2019-10-01 00:00:00 UTC` -> `2019-10-01T00:00:00.000Z`. */
function toIso(eventTime: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$/.exec(eventTime);
  if (!match) throw new Error(`rees46: unexpected event_time ${eventTime}`);
  return `${match[1]}T${match[2]}.000Z`;
}

function product(row: Rees46Row): Record<string, unknown> {
  return {
    product_id: row.product_id,
    category_id: row.category_id,
    ...(row.category_code === '' ? {} : { category: row.category_code }),
    ...(row.brand === '' ? {} : { brand: row.brand }),
    price: Number(row.price),
    currency: 'USD',
  };
}

function context(row: Rees46Row): Record<string, unknown> {
  return row.user_session === '' ? { channel: 'web' } : { sessionId: row.user_session, channel: 'web' };
}

function orderEvent(order: PendingOrder): SpecEventInput {
  const orderId = `rees46-${order.first.user_session}-${Date.parse(order.timestamp) / 1000}`;
  const amount = order.totalCents / 100;
  return {
    type: 'track',
    event: 'Order Completed',
    userId: order.first.user_id,
    messageId: `rees46-order-${orderId}`,
    timestamp: order.timestamp,
    context: context(order.first),
    properties: {
      order_id: orderId,
      revenue: amount,
      total: amount,
      currency: 'USD',
      products: order.products,
    },
  };
}

const PRODUCT_EVENTS: Record<string, string> = { view: 'Product Viewed', cart: 'Product Added' };

/** `copiesSeen` numbers identical rows so that duplicates in the file keep distinct messageIds. */
function productEvent(row: Rees46Row, timestamp: string, copiesSeen: Map<string, number>): SpecEventInput {
  const event = PRODUCT_EVENTS[row.event_type];
  if (event === undefined) throw new Error(`rees46: unknown event_type ${row.event_type}`);
  const hash = createHash('sha1')
    .update(COLUMNS.map((column) => row[column]).join(','))
    .digest('hex');
  const copy = copiesSeen.get(hash) ?? 0;
  copiesSeen.set(hash, copy + 1);
  return {
    type: 'track',
    event,
    userId: row.user_id,
    messageId: `rees46-${hash}-${copy}`,
    timestamp,
    context: context(row),
    properties: row.event_type === 'cart' ? { ...product(row), quantity: 1 } : product(row),
  };
}

/**
 * Views become Product Viewed, cart rows Product Added, and purchase rows sharing a session and a second
 * become one Order Completed, emitted as soon as the stream moves past that second.
 */
export async function* rees46Events(path = datasetPath('rees46')): AsyncGenerator<SpecEventInput> {
  let currentTime = '';
  let timestamp = '';
  let currentEpochMs = Number.NEGATIVE_INFINITY;
  // Identical rows necessarily share event_time, and orders are keyed by (session, second), so both maps
  // only ever need to cover the current second.
  let copiesSeen = new Map<string, number>();
  let pending = new Map<string, PendingOrder>();

  for await (const record of readCsvGz(path)) {
    const row = toRow(record);
    if (row.event_time !== currentTime) {
      timestamp = toIso(row.event_time);
      const epochMs = Date.parse(timestamp);
      // Order completion and duplicate numbering both rely on the file being sorted by time.
      if (epochMs < currentEpochMs) throw new Error(`rees46: event_time goes backwards at ${row.event_time}`);
      for (const order of pending.values()) yield orderEvent(order);
      pending = new Map();
      copiesSeen = new Map();
      currentTime = row.event_time;
      currentEpochMs = epochMs;
    }
    if (row.event_type !== 'purchase') {
      yield productEvent(row, timestamp, copiesSeen);
      continue;
    }
    const order = pending.get(row.user_session) ?? { first: row, timestamp, products: [], totalCents: 0 };
    pending.set(row.user_session, order);
    order.products.push({ ...product(row), quantity: 1 });
    order.totalCents += Math.round(Number(row.price) * 100);
  }
  for (const order of pending.values()) yield orderEvent(order);
}
