// The CLI's chunking: whole rows, whole orders, under the limits, each chunk a file of its own, and the
// chunks' reports merged back into the file's row numbers — the same report as importing the file whole.
import { describe, expect, it } from 'vitest';
import { type Chunk, csvLine, ReportMerger, UploadChunker } from '../../lib/imports/chunks.js';
import { type ImportDeps, importFile } from '../../lib/imports/importFile.js';
import type { ImportFormat, ImportReport, ImportType } from '../../lib/imports/model.js';
import { type ReadRow, readRows } from '../../lib/imports/read.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { defaultQuality, RECEIVED_AT } from './factories.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function memoryDeps(enqueued: NormalizedEvent[]): ImportDeps {
  return {
    ingest: {
      sink: {
        async enqueue(events) {
          enqueued.push(...events);
        },
      },
      quarantine: { async put() {} },
      quality: defaultQuality(),
      log: silent,
      now: () => RECEIVED_AT,
      protect: async (e) => e,
      sealPayload: async (p) => p,
    },
    secret: async () => 'a-test-secret-of-32-characters!!',
    now: () => RECEIVED_AT,
  };
}

const stream = async function* (text: string) {
  yield text;
};

async function chunksOf(
  text: string,
  type: ImportType,
  format: ImportFormat,
  maxRows: number,
  maxBytes = 1e6,
) {
  const chunker = new UploadChunker({ type, format, maxRows, maxBytes });
  const chunks: Chunk[] = [];
  for await (const chunk of chunker.chunks(stream(text))) chunks.push(chunk);
  return { chunks, localErrors: chunker.localErrors };
}

async function rowsOf(body: string, format: ImportFormat): Promise<ReadRow[]> {
  const rows: ReadRow[] = [];
  for await (const row of readRows([body], format)) rows.push(row);
  return rows;
}

describe('csvLine', () => {
  it('quotes what needs it, so that the server reads back the same fields', async () => {
    const fields = ['plain', 'a,b', 'say "hi"', 'two\nlines', ' spaced ', '', 'semi;colon'];
    const rows = await rowsOf(csvLine(['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']) + csvLine(fields), 'csv');
    expect(rows).toEqual([
      {
        row: 1,
        values: {
          c1: 'plain',
          c2: 'a,b',
          c3: 'say "hi"',
          c4: 'two\nlines',
          c5: ' spaced ',
          c6: '',
          c7: 'semi;colon',
        },
      },
    ]);
  });
});

describe('UploadChunker', () => {
  const customers = [
    'user_id;name;note',
    'u1;Ann;"multi',
    'line"',
    '',
    'u2;Bob;x',
    'u3;Cy;y',
    'u4;Di;z',
    'u5;Ed;w',
  ].join('\n');

  it('cuts customers into whole rows, each chunk a CSV with the header, rows mapped to the file', async () => {
    const { chunks } = await chunksOf(customers, 'customers', 'csv', 2);
    expect(chunks.map((c) => c.rows)).toEqual([[1, 3], [4, 5], [6]]);
    const fileRows = (await rowsOf(customers, 'csv')).map((r) => ('values' in r ? [r.row, r.values] : r));
    const rebuilt = [];
    for (const chunk of chunks) {
      expect(chunk.body.startsWith('user_id,name,note\n')).toBe(true);
      for (const r of await rowsOf(chunk.body, 'csv')) {
        if ('values' in r) rebuilt.push([chunk.rows[r.row - 1], r.values]);
      }
    }
    expect(rebuilt).toEqual(fileRows);
  });

  it('keeps requests under the byte limit, and refuses a row that alone is over it', async () => {
    const text = ['user_id,blob', ...Array.from({ length: 10 }, (_, i) => `u${i},${'x'.repeat(100)}`)].join(
      '\n',
    );
    const { chunks } = await chunksOf(text, 'customers', 'csv', 1000, 400);
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) expect(Buffer.byteLength(chunk.body)).toBeLessThanOrEqual(400);
    expect(chunks.flatMap((c) => c.rows)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await expect(chunksOf(text, 'customers', 'csv', 1000, 100)).rejects.toThrow(
      /row 1 take more than the 100 bytes/,
    );
  });

  it('keeps every row of an order in one chunk, however far apart they are', async () => {
    const text = [
      'order_id,user_id,date,sku',
      'A,u1,2024-01-01,a1',
      'B,u2,2024-01-01,b1',
      'C,u3,2024-01-01,c1',
      'A,u1,2024-01-01,a2',
      ',u9,2024-01-01,x',
      'B,u2,2024-01-01,b2',
      'A,u1,2024-01-01,a3',
    ].join('\n');
    const { chunks } = await chunksOf(text, 'orders', 'csv', 3);
    expect(chunks.map((c) => c.rows)).toEqual([[1, 4, 7], [2, 6, 3], [5]]);
    // An order with more rows than a chunk takes still goes whole, alone.
    const big = await chunksOf(text, 'orders', 'csv', 2);
    expect(big.chunks.map((c) => c.rows)).toEqual([
      [1, 4, 7],
      [2, 6],
      [3, 5],
    ]);
  });

  it('sends NDJSON lines as they are, numbered by line, and reports lines it cannot send', async () => {
    const long = `{"user_id":"${'x'.repeat(1024 * 1024)}"}`;
    const text = `{"order_id":"A","user_id":"u"}\n\n{"orderId":"B"}\n${long}\n{"order_id":"A","sku":"2"}\n`;
    const { chunks, localErrors } = await chunksOf(text, 'orders', 'ndjson', 10);
    expect(chunks).toEqual([
      {
        body: '{"order_id":"A","user_id":"u"}\n{"order_id":"A","sku":"2"}\n{"orderId":"B"}\n',
        rows: [1, 5, 3],
      },
    ]);
    expect(localErrors).toEqual([
      { row: 4, field: '(line)', code: 'line_too_long', reason: expect.any(String) },
    ]);
  });
});

describe('chunked uploads', () => {
  /** Imports the file whole, then in chunks of `maxRows` merged; both must report the same. */
  async function both(text: string, type: ImportType, format: ImportFormat, maxRows: number) {
    const wholeEvents: NormalizedEvent[] = [];
    const whole = await importFile({ type, sourceId: 's', format, body: [text] }, memoryDeps(wholeEvents));
    const chunkedEvents: NormalizedEvent[] = [];
    const merger = new ReportMerger(type);
    const chunker = new UploadChunker({ type, format, maxRows, maxBytes: 1e6 });
    for await (const chunk of chunker.chunks(stream(text))) {
      const report = await importFile(
        { type, sourceId: 's', format, body: [chunk.body] },
        memoryDeps(chunkedEvents),
      );
      merger.add(report, chunk.rows);
    }
    merger.addLocal(chunker.localErrors);
    return { whole, merged: merger.result(), wholeEvents, chunkedEvents };
  }

  const same = (whole: ImportReport, merged: ReturnType<ReportMerger['result']>) => {
    const pick = (r: typeof whole | typeof merged) => ({
      rows: r.rows,
      skipped: r.skipped,
      events: r.events,
      accepted: r.accepted,
      rejected: r.rejected,
      errorCount: r.errorCount,
      errors: r.errors.map((e) => [e.row, e.field, e.code]),
    });
    expect(pick(merged)).toEqual(pick(whole));
  };

  it('report customers as importing the file whole does, in its row numbers', async () => {
    const text = [
      'customer_id,email,plan',
      'c1,a@example.com,gold',
      ',,nobody',
      '',
      'null,b@example.com,junk',
      ',c@example.com,silver',
      'c5,bad-date,',
      'c6,d@example.com,',
    ].join('\n');
    const { whole, merged, wholeEvents, chunkedEvents } = await both(text, 'customers', 'csv', 2);
    expect(whole.errors.map((e) => e.row)).toEqual([2, 4]);
    same(whole, merged);
    expect(merged.chunks).toBe(3);
    expect(chunkedEvents.map((e) => e.messageId)).toEqual(wholeEvents.map((e) => e.messageId));
  });

  it('report orders as importing the file whole does: the same events, no order cut in two', async () => {
    const text = [
      'order_id,customer_id,order_date,sku,price,quantity',
      'A,c1,2024-05-01,a1,10,1',
      'B,c2,2024-05-02,b1,4,1',
      'C,c3,2024-05-03,c1,2,1',
      'A,c1,2024-05-01,a2,2.5,2',
      'D,c4,not-a-date,d1,1,1',
      'B,c2,2024-05-02,b2,-1,1',
      'E,,2024-05-03,e1,1,1',
      'A,c1,2024-05-01,a3,1,1',
    ].join('\n');
    const { whole, merged, wholeEvents, chunkedEvents } = await both(text, 'orders', 'csv', 2);
    expect(whole.errors.map((e) => [e.row, e.code])).toEqual([
      [5, 'invalid_date'],
      [6, 'negative_amount'],
      [7, 'required'],
    ]);
    same(whole, merged);
    const byId = (events: NormalizedEvent[]) =>
      Object.fromEntries(events.map((e) => [e.messageId, e.properties?.revenue]));
    expect(byId(chunkedEvents)).toEqual(byId(wholeEvents));
    expect(byId(wholeEvents)).toEqual({ 'import-order-s-A-completed': 16, 'import-order-s-C-completed': 2 });
  });
});
