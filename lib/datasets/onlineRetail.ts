// Maps the UCI Online Retail file to Segment events: one Order Completed / Order Refunded per invoice and
// one identify per customer. Rows are kept as they are (bad quantities included) so quality rules see them.
import type { SpecEventInput } from '../ingest/spec.js';
import { type CsvRecord, datasetPath, readCsvGz } from './files.js';

/** Segment rejects events over 32 KB; staying under 30,000 bytes leaves room for fields added in transit. */
export const MAX_DATASET_EVENT_BYTES = 30_000;

/**
 * Rows of one invoice are contiguous except for invoice 542806, whose rows are split by the two rows of
 * C542805 (same minute). An invoice is therefore only closed once the (time-sorted) stream is this far past
 * its last row; the longest gap between two rows of one invoice in the file is 60 s.
 */
const INVOICE_CLOSE_AFTER_MS = 60 * 60 * 1000;

interface RetailRow {
  invoiceNo: string;
  stockCode: string;
  quantity: number;
  price: number;
  /** UnitPrice in thousandths (the file has up to 3 decimals), so sums are exact integers. */
  priceMilli: number;
  timestamp: string;
  epochMs: number;
  userId: string | undefined;
  country: string;
}

interface Invoice {
  first: RetailRow;
  lines: RetailRow[];
  lastEpochMs: number;
}

interface Product {
  product_id: string;
  quantity: number;
  price: number;
}

function field(record: CsvRecord, name: string): string {
  const value = record[name];
  if (value === undefined) throw new Error(`online_retail: column ${name} is missing`);
  return value;
}

/**
 * InvoiceDate has no zone; it is read as UTC (the retailer is in the UK, and UTC keeps replays independent
 * of the machine's zone and free of DST gaps).
 */
function toIsoUtc(invoiceDate: string): string {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(invoiceDate)) {
    throw new Error(`online_retail: unexpected InvoiceDate ${invoiceDate}`);
  }
  return `${invoiceDate.replace(' ', 'T')}.000Z`;
}

/** CustomerID is written as float text ("17850.0"); ids are the integer text. */
function toUserId(customerId: string): string | undefined {
  if (customerId === '') return undefined;
  const match = /^(\d+)(?:\.0+)?$/.exec(customerId);
  if (!match?.[1]) throw new Error(`online_retail: unexpected CustomerID ${customerId}`);
  return match[1];
}

function toRow(record: CsvRecord): RetailRow {
  const quantityText = field(record, 'Quantity');
  const quantity = Number.parseInt(quantityText, 10);
  const price = Number(field(record, 'UnitPrice'));
  if (String(quantity) !== quantityText || !Number.isFinite(price)) {
    throw new Error(`online_retail: bad Quantity/UnitPrice in invoice ${record.InvoiceNo}`);
  }
  const timestamp = toIsoUtc(field(record, 'InvoiceDate'));
  return {
    invoiceNo: field(record, 'InvoiceNo'),
    stockCode: field(record, 'StockCode'),
    quantity,
    price,
    priceMilli: Math.round(price * 1000),
    timestamp,
    epochMs: Date.parse(timestamp),
    userId: toUserId(field(record, 'CustomerID')),
    country: field(record, 'Country'),
  };
}

/** Rows in file order; throws if InvoiceDate ever goes backwards, since invoice grouping relies on it. */
async function* retailRows(path: string): AsyncGenerator<RetailRow> {
  let lastEpochMs = Number.NEGATIVE_INFINITY;
  for await (const record of readCsvGz(path)) {
    const row = toRow(record);
    if (row.epochMs < lastEpochMs)
      throw new Error(`online_retail: rows are not in time order at ${row.invoiceNo}`);
    lastEpochMs = row.epochMs;
    yield row;
  }
}

/** Invoices in order of their first row, each with all its rows in file order. */
async function* invoices(path: string): AsyncGenerator<Invoice> {
  const open = new Map<string, Invoice>();
  // Guards against emitting an invoice twice (which would also reuse its messageId) if the window is too short.
  const closed = new Set<string>();
  for await (const row of retailRows(path)) {
    for (const [invoiceNo, invoice] of open) {
      if (row.epochMs - invoice.lastEpochMs <= INVOICE_CLOSE_AFTER_MS) break;
      open.delete(invoiceNo);
      closed.add(invoiceNo);
      yield invoice;
    }
    let invoice = open.get(row.invoiceNo);
    if (invoice === undefined) {
      if (closed.has(row.invoiceNo))
        throw new Error(`online_retail: invoice ${row.invoiceNo} reappears later`);
      invoice = { first: row, lines: [], lastEpochMs: row.epochMs };
      open.set(row.invoiceNo, invoice);
    }
    invoice.lines.push(row);
    invoice.lastEpochMs = row.epochMs;
  }
  yield* open.values();
}

/** Rounds thousandths to a 2-decimal amount, halves away from zero like a till would. */
function milliToAmount(milli: number): number {
  return (Math.sign(milli) * Math.round(Math.abs(milli) / 10)) / 100;
}

function byteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** Keeps the longest prefix of products that fits the size budget; amounts already cover every line. */
function fitProducts(event: SpecEventInput & { properties: Record<string, unknown> }, products: Product[]) {
  if (byteLength(event) <= MAX_DATASET_EVENT_BYTES) return event;
  const properties: Record<string, unknown> = {
    ...event.properties,
    products: [],
    products_truncated: true,
    product_count: products.length,
  };
  const truncated = { ...event, properties };
  let budget = MAX_DATASET_EVENT_BYTES - byteLength(truncated);
  let kept = 0;
  for (const product of products) {
    const cost = byteLength(product) + (kept > 0 ? 1 : 0); // the separating comma
    if (cost > budget) break;
    budget -= cost;
    kept++;
  }
  properties.products = products.slice(0, kept);
  return truncated;
}

function orderEvent(invoice: Invoice): SpecEventInput {
  const { first, lines } = invoice;
  const refund = first.invoiceNo.startsWith('C');
  let totalMilli = 0;
  const products = lines.map((line): Product => {
    // Cancellations carry negative quantities; the refund event states them as positive amounts.
    const quantity = refund ? Math.abs(line.quantity) : line.quantity;
    totalMilli += quantity * line.priceMilli;
    return { product_id: line.stockCode, quantity, price: line.price };
  });
  const amount = milliToAmount(totalMilli);
  const event = {
    type: 'track' as const,
    event: refund ? 'Order Refunded' : 'Order Completed',
    ...(first.userId === undefined
      ? { anonymousId: `retail-guest-${first.invoiceNo}` }
      : { userId: first.userId }),
    messageId: `retail-order-${first.invoiceNo}`,
    timestamp: first.timestamp,
    context: { channel: 'web' },
    properties: {
      order_id: first.invoiceNo,
      revenue: amount,
      total: amount,
      currency: 'GBP',
      country: first.country,
      products,
    },
  };
  return fitProducts(event, products);
}

/** One Order Completed (or Order Refunded for C-invoices) per invoice, timestamped at its first row. */
export async function* onlineRetailEvents(
  path = datasetPath('online_retail'),
): AsyncGenerator<SpecEventInput> {
  for await (const invoice of invoices(path)) yield orderEvent(invoice);
}

/** One identify per customer, at their first appearance, with the country of that first row. */
export async function* onlineRetailIdentifies(
  path = datasetPath('online_retail'),
): AsyncGenerator<SpecEventInput> {
  const seen = new Set<string>();
  for await (const row of retailRows(path)) {
    if (row.userId === undefined || seen.has(row.userId)) continue;
    seen.add(row.userId);
    yield {
      type: 'identify',
      userId: row.userId,
      messageId: `retail-identify-${row.userId}`,
      timestamp: row.timestamp,
      context: { channel: 'web' },
      traits: { address: { country: row.country } },
    };
  }
}
