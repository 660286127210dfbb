// Profiles on real data: the UCI Online Retail events of three customers, mapped by lib/datasets and run
// through the real ingest pipeline (validation, normalization, quality rules), applied object by object in
// a shuffled order with a redelivery, must give the order figures that a naive reading of the raw CSV
// lines gives. The CSV side shares no code with the mappers or the reducer.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.js';
import { datasetPath, onlineRetailEvents, onlineRetailIdentifies } from '../../lib/datasets/index.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { prepareEvent } from '../../lib/ingest/route.js';
import { emptyPartial, type PartialProfile } from '../../lib/profiles/partial.js';
import { applyObject } from '../../lib/profiles/reduce.js';
import { datasetsPresent } from '../support/datasets.js';

/** 17850: the file's first customer, with a refund; 12346: one huge order refunded in full; 14911: the most invoices. */
const CUSTOMERS = ['17850', '12346', '14911'] as const;
const RECEIVED_AT = Date.parse('2026-01-01T00:00:00.000Z');
/** The default quality limits (lib/config.ts): mirrored below, not imported, to stay independent. */
const MAX_QUANTITY = 100_000;
const MAX_AMOUNT = 1_000_000;

interface RawRow {
  quantity: number;
  price: number;
}
interface RawInvoice {
  customer: string;
  date: string;
  country: string;
  rows: RawRow[];
}
interface Expected {
  orders: number;
  revenueCents: number;
  refundCount: number;
  refundCents: number;
  firstOrderAt: string | undefined;
  lastOrderAt: string | undefined;
  orderDays: string[];
  quarantined: number;
  country: string | undefined;
}

async function* lines(path: string): AsyncGenerator<string> {
  const input = createReadStream(path).pipe(createGunzip());
  let header = true;
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (header) header = false;
    else if (line !== '') yield line;
  }
}

/** The invoices of CUSTOMERS from the raw lines. Only Description may hold commas: read around it. */
async function rawInvoices(): Promise<Map<string, RawInvoice>> {
  const invoices = new Map<string, RawInvoice>();
  for await (const line of lines(datasetPath('online_retail'))) {
    const fields = line.split(',');
    const [quantity, date, unitPrice, customerId, country] = fields.slice(-5);
    const customer = customerId?.replace(/\.0$/, '') ?? '';
    if (!(CUSTOMERS as readonly string[]).includes(customer)) continue;
    const invoiceNo = fields[0] ?? '';
    const invoice = invoices.get(invoiceNo) ?? {
      customer,
      date: date ?? '',
      country: country ?? '',
      rows: [],
    };
    invoice.rows.push({ quantity: Number(quantity), price: Number(unitPrice) });
    invoices.set(invoiceNo, invoice);
  }
  return invoices;
}

/**
 * Per customer: orders are the non-C invoices, refunds the C invoices, each amount rounded to the cent
 * like a till (the mapper's contract). The ingest quality rules quarantine an event with any non-positive
 * quantity, negative price or amount, quantity over 100,000 or amount over 1,000,000: mirrored here, such
 * invoices count for nothing.
 */
function expected(invoices: Map<string, RawInvoice>): Map<string, Expected> {
  const out = new Map<string, Expected>();
  for (const customer of CUSTOMERS) {
    out.set(customer, {
      orders: 0,
      revenueCents: 0,
      refundCount: 0,
      refundCents: 0,
      firstOrderAt: undefined,
      lastOrderAt: undefined,
      orderDays: [],
      quarantined: 0,
      country: undefined,
    });
  }
  const sorted = [...invoices.entries()].sort(([, x], [, y]) =>
    x.date < y.date ? -1 : x.date > y.date ? 1 : 0,
  );
  for (const [invoiceNo, invoice] of sorted) {
    const e = out.get(invoice.customer) as Expected;
    e.country ??= invoice.country;
    const refund = invoiceNo.startsWith('C');
    const quantities = invoice.rows.map((r) => (refund ? Math.abs(r.quantity) : r.quantity));
    const milli = invoice.rows.reduce(
      (sum, r, i) => sum + (quantities[i] as number) * Math.round(r.price * 1000),
      0,
    );
    const cents = Math.sign(milli) * Math.round(Math.abs(milli) / 10);
    const bad =
      quantities.some((q) => q <= 0 || q > MAX_QUANTITY) ||
      invoice.rows.some((r) => r.price < 0 || r.price > MAX_AMOUNT) ||
      cents < 0 ||
      cents > MAX_AMOUNT * 100;
    if (bad) {
      e.quarantined += 1;
      continue;
    }
    const at = `${invoice.date.replace(' ', 'T')}.000Z`;
    if (refund) {
      e.refundCount += 1;
      e.refundCents += cents;
      continue;
    }
    e.orders += 1;
    e.revenueCents += cents;
    e.firstOrderAt ??= at;
    e.lastOrderAt = at;
    const day = at.slice(0, 10);
    if (!e.orderDays.includes(day)) e.orderDays.push(day);
  }
  return out;
}

interface Pipeline {
  events: Map<string, NormalizedEvent[]>;
  rejected: Map<string, number>;
}

/** The customers' events as the demo sends them, through the real edge pipeline. */
async function ingested(): Promise<Pipeline> {
  const quality = parseConfig({}).quality;
  const ctx = { sourceId: 'src_retail', receivedAt: RECEIVED_AT };
  const events = new Map<string, NormalizedEvent[]>(CUSTOMERS.map((c) => [c, []]));
  const rejected = new Map<string, number>(CUSTOMERS.map((c) => [c, 0]));
  const path = datasetPath('online_retail');
  for (const source of [onlineRetailIdentifies(path), onlineRetailEvents(path)]) {
    for await (const input of source) {
      const userId = (input as { userId?: unknown }).userId;
      if (typeof userId !== 'string' || !events.has(userId)) continue;
      const prepared = prepareEvent(input, ctx, quality);
      if (prepared.ok) events.get(userId)?.push(prepared.event);
      else rejected.set(userId, (rejected.get(userId) ?? 0) + 1);
    }
  }
  return { events, rejected };
}

/** Objects of 5 events, applied in a scrambled order, the first one delivered twice. */
function applyScrambled(node: string, events: NormalizedEvent[]): PartialProfile {
  const objects: NormalizedEvent[][] = [];
  for (let i = 0; i < events.length; i += 5) objects.push(events.slice(i, i + 5));
  const order = objects.map((_, i) => i).sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101) || a - b);
  let partial = emptyPartial(node);
  for (const i of [...order, order[0] ?? 0]) {
    partial = applyObject(
      partial,
      objects[i] ?? [],
      `raw/dt=2026-01-01/retail-${node}-${i}.ndjson.gz`,
      RECEIVED_AT + i,
    ).partial;
  }
  return partial;
}

describe.skipIf(!datasetsPresent())(
  'profiles on the Online Retail data (skipped without ../shared/data)',
  () => {
    let want: Map<string, Expected>;
    let pipeline: Pipeline;

    beforeAll(async () => {
      want = expected(await rawInvoices());
      pipeline = await ingested();
    }, 120_000);

    it.each(CUSTOMERS)(
      'customer %s: orders, revenue, refunds and order dates match the raw rows',
      (customer) => {
        const e = want.get(customer) as Expected;
        const events = pipeline.events.get(customer) ?? [];
        const p = applyScrambled(`user:${customer}`, events);

        expect(e.orders).toBeGreaterThan(0);
        expect(pipeline.rejected.get(customer)).toBe(e.quarantined);
        expect({
          orders: p.orders,
          revenue: p.revenue,
          refundCount: p.refundCount,
          refunds: p.refunds,
          firstOrderAt: p.firstOrderAt,
          lastOrderAt: p.lastOrderAt,
          orderDays: p.orderDays,
          country: p.region?.country,
          identifies: p.counts.identify,
          version: p.version,
        }).toEqual({
          orders: e.orders,
          revenue: e.revenueCents / 100,
          refundCount: e.refundCount,
          refunds: e.refundCents / 100,
          firstOrderAt: e.firstOrderAt,
          lastOrderAt: e.lastOrderAt,
          orderDays: e.orderDays.sort(),
          country: e.country,
          identifies: 1,
          version: Math.ceil(events.length / 5),
        });
      },
    );

    it('customer 12346 bought 74,215 jars for 77,183.60 and returned them all: net zero', () => {
      const p = applyScrambled('user:12346', pipeline.events.get('12346') ?? []);
      expect([p.orders, p.revenue, p.refundCount, p.refunds]).toEqual([1, 77183.6, 1, 77183.6]);
    });
  },
);
