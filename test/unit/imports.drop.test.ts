// The S3 drop's decisions, over in-memory ports: which keys are imports, where reports go, what is never
// retried (a key off the layout: a failed report) and what is (an unreadable message, storage down).
import { describe, expect, it } from 'vitest';
import {
  dropTargetOf,
  type ImportObject,
  importDroppedObjects,
  importReportKey,
} from '../../lib/imports/drop.js';
import type { ImportDeps } from '../../lib/imports/importFile.js';
import { formatOfContentType, formatOfName } from '../../lib/imports/model.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { defaultQuality, RECEIVED_AT } from './factories.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** An S3 notification as the queue delivers it: keys URL-encoded, spaces as '+'. */
const notification = (...keys: string[]) =>
  JSON.stringify({
    Records: keys.map((key) => ({
      eventName: 'ObjectCreated:Put',
      s3: {
        bucket: { name: 'archive' },
        object: {
          key: key
            .split('/')
            .map((p) => encodeURIComponent(p).replace(/%20/g, '+'))
            .join('/'),
        },
      },
    })),
  });

function harness(files: Record<string, string>, options: { failEnqueue?: boolean } = {}) {
  const reports = new Map<string, unknown>();
  const removed: string[] = [];
  const enqueued: NormalizedEvent[] = [];
  const imports: ImportDeps = {
    ingest: {
      sink: {
        async enqueue(events) {
          if (options.failEnqueue) throw new Error('SQS is down');
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
    newId: () => 'fixed',
  };
  const deps = {
    imports,
    objects: {
      async open({ key }: { key: string }): Promise<ImportObject | undefined> {
        const text = files[key];
        if (text === undefined) return undefined;
        return {
          size: text.length,
          lastModified: Date.UTC(2026, 0, 2),
          body: (async function* () {
            yield Buffer.from(text);
          })(),
        };
      },
      async remove({ key }: { key: string }) {
        removed.push(key);
        delete files[key];
      },
    },
    reports: {
      async putJson(key: string, value: unknown) {
        reports.set(key, value);
      },
    },
    log: silent,
  };
  return { deps, reports, enqueued, removed };
}

describe('dropTargetOf', () => {
  it('reads source, type and format from imports/<source>/<type>/<file>', () => {
    expect(dropTargetOf('imports/crm/customers/2026-01.csv')).toEqual({
      ok: true,
      sourceId: 'crm',
      type: 'customers',
      format: 'csv',
      gzip: false,
    });
    expect(dropTargetOf('imports/erp.eu/orders/sub/dir/All Orders.NDJSON.gz')).toEqual({
      ok: true,
      sourceId: 'erp.eu',
      type: 'orders',
      format: 'ndjson',
      gzip: true,
    });
    expect(dropTargetOf('imports/pos/orders/x.jsonl')).toMatchObject({ ok: true, format: 'ndjson' });
  });

  it('says why other keys are not imports', () => {
    const reasons = (key: string) => {
      const t = dropTargetOf(key);
      return t.ok ? 'ok' : t.reason;
    };
    expect(reasons('imports/crm/customers.csv')).toMatch(/does not follow imports\/<source>/);
    expect(reasons('imports/crm/leads/a.csv')).toMatch(/"leads" is not an import type/);
    expect(reasons('imports/crm/orders/a.xlsx')).toMatch(/not a \.csv or \.ndjson/);
    expect(reasons('imports/cr m/orders/a.csv')).toMatch(/not a source id/);
    expect(reasons('raw/dt=2026-01-01/x.ndjson.gz')).toMatch(/does not follow/);
  });

  it('puts the report under reports/ with the same path', () => {
    expect(importReportKey('imports/crm/orders/a.csv')).toBe('reports/imports/crm/orders/a.csv.json');
  });

  it('knows formats by file name and Content-Type', () => {
    expect(formatOfName('x.CSV.GZ')).toEqual({ format: 'csv', gzip: true });
    expect(formatOfName('x.txt')).toBeUndefined();
    expect(formatOfContentType('text/csv; charset=utf-8')).toBe('csv');
    expect(formatOfContentType('application/x-ndjson')).toBe('ndjson');
    expect(formatOfContentType('application/json')).toBeUndefined();
    expect(formatOfContentType(undefined)).toBeUndefined();
  });
});

describe('importDroppedObjects', () => {
  it('imports each object of a notification for the source of its path and writes its report', async () => {
    const h = harness({
      'imports/crm/customers/week 1.csv': 'user_id,plan\nu1,gold\n,none\n',
      'imports/shop/orders/o.ndjson': '{"order_id":"A","user_id":"u1","date":"2025-06-01","total":9}\n',
    });
    const result = await importDroppedObjects(
      [{ id: 'r1', body: notification('imports/crm/customers/week 1.csv', 'imports/shop/orders/o.ndjson') }],
      h.deps,
    );
    expect(result).toEqual({
      failedRecordIds: [],
      reports: ['reports/imports/crm/customers/week 1.csv.json', 'reports/imports/shop/orders/o.ndjson.json'],
    });
    expect(h.reports.get('reports/imports/crm/customers/week 1.csv.json')).toMatchObject({
      type: 'customers',
      source: 'crm',
      file: 'imports/crm/customers/week 1.csv',
      rows: 2,
      accepted: 1,
      errorCount: 1,
      errors: [{ row: 2, field: 'user_id', code: 'required' }],
    });
    expect(h.enqueued.map((e) => [e.sourceId, e.messageId, e.timestamp])).toEqual([
      // No date in the row: the object's LastModified.
      ['crm', expect.stringMatching(/^import-customer-/), '2026-01-02T00:00:00.000Z'],
      ['shop', 'import-order-shop-A-completed', '2025-06-01T00:00:00.000Z'],
    ]);
  });

  it('writes a failed report for a key off the layout or a vanished object, and does not retry them', async () => {
    const h = harness({});
    const result = await importDroppedObjects(
      [
        {
          id: 'r1',
          body: notification('imports/crm/leads.csv', 'imports/crm/orders/gone.csv', 'imports/crm/'),
        },
      ],
      h.deps,
    );
    expect(result.failedRecordIds).toEqual([]);
    expect(Object.fromEntries(h.reports)).toEqual({
      'reports/imports/crm/leads.csv.json': {
        importId: 'imp_fixed',
        file: 'imports/crm/leads.csv',
        status: 'failed',
        failure: expect.stringContaining('does not follow imports/<source>'),
        startedAt: new Date(RECEIVED_AT).toISOString(),
        finishedAt: new Date(RECEIVED_AT).toISOString(),
      },
    });
    // A file gone before its notification arrives writes no report: most often it is a redelivery
    // after the import deleted it, whose report must stand.
    expect(h.reports.has('reports/imports/crm/orders/gone.csv.json')).toBe(false);
  });

  it('deletes an imported file once its report is written, and leaves the report alone on a redelivery', async () => {
    const h = harness({ 'imports/a/customers/x.csv': 'user_id,plan\nu1,gold\n' });
    const record = { id: 'r', body: notification('imports/a/customers/x.csv') };
    await importDroppedObjects([record], h.deps);
    expect(h.removed).toEqual(['imports/a/customers/x.csv']);
    const report = h.reports.get('reports/imports/a/customers/x.csv.json');
    expect(report).toMatchObject({ status: 'completed', accepted: 1 });
    const again = await importDroppedObjects([record], h.deps);
    expect(again.failedRecordIds).toEqual([]);
    expect(h.reports.get('reports/imports/a/customers/x.csv.json')).toBe(report);
  });

  it('fails the records it could not read or finish, and only those', async () => {
    const ok = harness({ 'imports/a/customers/x.csv': 'user_id\nu1\n' });
    const result = await importDroppedObjects(
      [
        { id: 'bad', body: 'not json' },
        { id: 'good', body: notification('imports/a/customers/x.csv') },
        { id: 'test', body: JSON.stringify({ Event: 's3:TestEvent' }) },
      ],
      ok.deps,
    );
    expect(result.failedRecordIds).toEqual(['bad']);

    const down = harness({ 'imports/a/customers/x.csv': 'user_id\nu1\n' }, { failEnqueue: true });
    const failed = await importDroppedObjects(
      [{ id: 'r', body: notification('imports/a/customers/x.csv') }],
      down.deps,
    );
    expect(failed).toEqual({ failedRecordIds: ['r'], reports: [] });
    expect(down.reports.size).toBe(0);
  });

  it('reports a file that cannot be read to its end as failed, without retrying it', async () => {
    const h = harness({ 'imports/a/orders/x.csv': 'order_id,user_id,date\nA,u1,"2025-01-01\n' });
    const result = await importDroppedObjects(
      [{ id: 'r', body: notification('imports/a/orders/x.csv') }],
      h.deps,
    );
    expect(result.failedRecordIds).toEqual([]);
    expect(h.reports.get('reports/imports/a/orders/x.csv.json')).toMatchObject({
      status: 'failed',
      failure: expect.stringContaining('CSV is malformed'),
      events: 0,
    });
  });
});
