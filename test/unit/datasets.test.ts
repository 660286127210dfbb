// Checks the dataset mappers against the real files: README figures plus sums recomputed here from the raw
// lines with a separate, deliberately naive reader, so a mapper bug cannot hide behind shared parsing code.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetPath, defaultDataDir, demoEvents } from '../../lib/datasets/index.js';
import { SpecEvent, type SpecEventInput } from '../../lib/ingest/spec.js';
import { datasetsPresent } from '../support/datasets.js';

const available = datasetsPresent();
if (!available) console.warn(`Skipping dataset mapper tests: the data folder ${defaultDataDir()} is absent.`);

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function* lines(path: string): AsyncGenerator<string> {
  const input = createReadStream(path).pipe(createGunzip());
  let header = true;
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (header) header = false;
    else if (line !== '') yield line;
  }
}

interface RawInvoice {
  lines: number;
  amount: number;
}

/** Online Retail figures straight from the lines. Only Description may hold commas, so read around it. */
async function rawRetail() {
  const invoices = new Map<string, RawInvoice>();
  const customers = new Set<string>();
  let customer17850Completed = 0;
  let cleanRows = 0;
  for await (const line of lines(datasetPath('online_retail'))) {
    const fields = line.split(',');
    const invoiceNo = fields[0] ?? '';
    const [quantity, , unitPrice, customerId, country] = fields.slice(-5);
    if (country === undefined) throw new Error(`short line: ${line}`);
    const qty = Number(quantity);
    const price = Number(unitPrice);
    const invoice = invoices.get(invoiceNo) ?? { lines: 0, amount: 0 };
    invoice.lines += 1;
    invoice.amount += Math.abs(qty) * price * (invoiceNo.startsWith('C') ? 1 : Math.sign(qty));
    invoices.set(invoiceNo, invoice);
    if (customerId) customers.add(customerId);
    if (customerId === '17850.0' && !invoiceNo.startsWith('C')) customer17850Completed += qty * price;
    if (customerId && !invoiceNo.startsWith('C') && qty > 0 && price > 0) cleanRows += 1;
  }
  const refunds = [...invoices.keys()].filter((id) => id.startsWith('C')).length;
  return { invoices, customers: customers.size, refunds, customer17850Completed, cleanRows };
}

/** REES46 figures straight from the lines (no quoted fields in this file). */
async function rawRees46() {
  const counts = new Map<string, number>();
  const seenLines = new Set<string>();
  const orders = new Set<string>();
  let duplicateLines = 0;
  let purchaseTotal = 0;
  for await (const line of lines(datasetPath('rees46'))) {
    const [time, type, , , , , price, , session] = line.split(',');
    counts.set(type ?? '', (counts.get(type ?? '') ?? 0) + 1);
    if (seenLines.has(line)) duplicateLines += 1;
    seenLines.add(line);
    if (type === 'purchase') {
      orders.add(`${session} ${time}`);
      purchaseTotal += Number(price);
    }
  }
  return { counts, duplicateLines, orders: orders.size, purchaseTotal };
}

type Source = 'retail-identify' | 'retail-order' | 'rees46';
const SOURCES: Source[] = ['retail-identify', 'retail-order', 'rees46'];

function sourceOf(messageId: string): Source {
  if (messageId.startsWith('retail-identify-')) return 'retail-identify';
  if (messageId.startsWith('retail-order-')) return 'retail-order';
  if (messageId.startsWith('rees46-')) return 'rees46';
  throw new Error(`unexpected messageId ${messageId}`);
}

const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

function newStats() {
  return {
    events: new Map<string, number>(),
    invalid: [] as string[],
    badTimestamps: [] as string[],
    badInvoices: [] as string[],
    maxBytes: 0,
    messageIds: new Set<string>(),
    duplicateMessageIds: 0,
    sourcesOutOfOrder: 0,
    timeRegressions: new Map<string, number>(),
    identify17850: undefined as unknown,
    revenue17850: 0,
    truncated: 0,
    reesOrderProducts: 0,
    reesOrderRevenue: 0,
    reesRepeatedCopies: 0,
  };
}
type Stats = ReturnType<typeof newStats>;
type TrackEvent = Extract<SpecEvent, { type: 'track' }>;

/** Checks that hold for every event: schema, size, id uniqueness, timestamp shape. */
function checkCommon(input: SpecEventInput, stats: Stats): SpecEvent | undefined {
  const parsed = SpecEvent.safeParse(input);
  if (!parsed.success) {
    stats.invalid.push(`${input.messageId}: ${parsed.error.message}`);
    return undefined;
  }
  const messageId = parsed.data.messageId ?? '';
  const timestamp = parsed.data.timestamp ?? '';
  stats.maxBytes = Math.max(stats.maxBytes, Buffer.byteLength(JSON.stringify(input)));
  if (stats.messageIds.has(messageId)) stats.duplicateMessageIds += 1;
  stats.messageIds.add(messageId);
  if (!ISO_UTC.test(timestamp) || new Date(timestamp).toISOString() !== timestamp) {
    stats.badTimestamps.push(timestamp);
  }
  return parsed.data;
}

function tallyRetailOrder(event: TrackEvent, stats: Stats, invoices: Map<string, RawInvoice>) {
  const properties = event.properties ?? {};
  const products = Array.isArray(properties.products) ? properties.products : [];
  const revenue = Number(properties.revenue);
  const truncated = properties.products_truncated === true;
  const lineCount = truncated ? properties.product_count : products.length;
  const raw = invoices.get(String(properties.order_id));
  if (truncated) stats.truncated += 1;
  const amountMatches =
    raw !== undefined && Math.abs(raw.amount - revenue) < 0.006 && revenue === properties.total;
  if (!amountMatches || lineCount !== raw.lines) stats.badInvoices.push(String(properties.order_id));
  if (event.userId === '17850' && event.event === 'Order Completed') stats.revenue17850 += revenue;
}

function tallyRees46(event: TrackEvent, stats: Stats) {
  const properties = event.properties ?? {};
  if (event.event === 'Order Completed') {
    stats.reesOrderProducts += Array.isArray(properties.products) ? properties.products.length : 0;
    stats.reesOrderRevenue += Number(properties.revenue);
  } else if (Number(/-(\d+)$/.exec(event.messageId ?? '')?.[1]) > 0) {
    stats.reesRepeatedCopies += 1;
  }
}

/** Sources must come in SOURCES order, and timestamps must not go back within a source. */
function orderChecker(stats: Stats) {
  let sourceIndex = 0;
  let lastTime = '';
  return (source: Source, timestamp: string) => {
    const index = SOURCES.indexOf(source);
    if (index < sourceIndex) stats.sourcesOutOfOrder += 1;
    if (index !== sourceIndex) lastTime = '';
    sourceIndex = index;
    if (timestamp < lastTime) count(stats.timeRegressions, source);
    lastTime = timestamp;
  };
}

/** One pass over demoEvents(), checking each event as it streams by and keeping only tallies. */
async function mapped(invoices: Map<string, RawInvoice>): Promise<Stats> {
  const stats = newStats();
  const checkOrder = orderChecker(stats);
  for await (const input of demoEvents()) {
    const event = checkCommon(input, stats);
    if (event === undefined) continue;
    const source = sourceOf(event.messageId ?? '');
    checkOrder(source, event.timestamp ?? '');
    if (event.type === 'identify') {
      count(stats.events, 'identify');
      if (event.userId === '17850')
        stats.identify17850 = { timestamp: event.timestamp, traits: event.traits };
    } else if (event.type === 'track') {
      count(stats.events, `${source} ${event.event}`);
      if (source === 'retail-order') tallyRetailOrder(event, stats, invoices);
      else tallyRees46(event, stats);
    } else {
      count(stats.events, event.type);
    }
  }
  return stats;
}

describe.skipIf(!available)(
  'dataset mappers on the real files in ../shared/data (skipped when absent)',
  () => {
    let retail: Awaited<ReturnType<typeof rawRetail>>;
    let rees: Awaited<ReturnType<typeof rawRees46>>;
    let stats: Awaited<ReturnType<typeof mapped>>;

    beforeAll(async () => {
      retail = await rawRetail();
      rees = await rawRees46();
      stats = await mapped(retail.invoices);
    }, 120_000);

    it('reads the raw files as the README describes them', () => {
      expect(retail.invoices.size).toBe(25_900);
      expect(retail.customers).toBe(4_372);
      expect(retail.cleanRows).toBe(397_884);
      expect(rees.counts.get('view')).toBe(17_055);
      expect(rees.counts.get('cart')).toBe(165);
      expect(rees.counts.get('purchase')).toBe(214);
    });

    it('produces only schema-valid events within the size limit, with unique ids and ISO timestamps', () => {
      expect(stats.invalid).toEqual([]);
      expect(stats.maxBytes).toBeLessThanOrEqual(32 * 1024);
      expect(stats.duplicateMessageIds).toBe(0);
      expect(stats.messageIds.size).toBe(4_372 + 25_900 + 17_055 + 165 + 214);
      expect(stats.badTimestamps).toEqual([]);
    });

    it('yields identifies, then retail orders, then REES46 events, each in time order', () => {
      expect(stats.sourcesOutOfOrder).toBe(0);
      expect(Object.fromEntries(stats.timeRegressions)).toEqual({});
    });

    it('maps Online Retail invoices to one order or refund event each, amounts covering every line', () => {
      const completed = stats.events.get('retail-order Order Completed') ?? 0;
      const refunded = stats.events.get('retail-order Order Refunded') ?? 0;
      expect(completed + refunded).toBe(25_900);
      expect(refunded).toBe(retail.refunds);
      expect(refunded).toBe(3_836);
      expect(stats.badInvoices).toEqual([]);
      // The 17 invoices of more than ~600 lines are cut to fit 30,000 bytes; their totals are not.
      expect(stats.truncated).toBe(17);
    });

    it('identifies each Online Retail customer once, at their first invoice', () => {
      expect(stats.events.get('identify')).toBe(4_372);
      expect(stats.identify17850).toEqual({
        timestamp: '2010-12-01T08:26:00.000Z',
        traits: { address: { country: 'United Kingdom' } },
      });
    });

    it('matches the revenue of customer 17850 summed from raw rows', () => {
      expect(retail.customer17850Completed).toBeCloseTo(5_391.21, 2);
      expect(stats.revenue17850).toBeCloseTo(retail.customer17850Completed, 2);
    });

    it('maps REES46 views, cart adds and purchases', () => {
      expect(stats.events.get('rees46 Product Viewed')).toBe(17_055);
      expect(stats.events.get('rees46 Product Added')).toBe(165);
      expect(stats.events.get('rees46 Order Completed')).toBe(rees.orders);
      expect(stats.reesOrderProducts).toBe(214);
      expect(stats.reesOrderRevenue).toBeCloseTo(rees.purchaseTotal, 2);
      expect(stats.reesOrderRevenue).toBeCloseTo(59_442.63, 2);
      // Identical lines in the file still get distinct messageIds (suffix -1, -2, ... on the repeated copies).
      expect(stats.reesRepeatedCopies).toBe(rees.duplicateLines);
      expect(rees.duplicateLines).toBe(5);
    });
  },
);
