// The archive written by the consumer is queryable by DuckDB with the documented schema: objects from
// the real bucket, copied with their raw/dt=... layout, read through the view in test/support/archiveDuckdb.ts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveBatch } from '../../lib/archive/archiveBatch.js';
import { ARCHIVE_COLUMNS } from '../../lib/archive/record.js';
import { ARCHIVE_DUCKDB_TYPES, DUCKDB_ARCHIVE_QUERIES, duckdbArchiveView } from '../support/archiveDuckdb.js';
import { makeEvent, makeEvents, newId, randomDay, recordsOf } from '../support/archiveFixtures.js';
import { archiveHarness } from '../support/archiveHarness.js';

const h = archiveHarness();
afterAll(() => h.close());

async function download(keys: readonly string[], root: string): Promise<void> {
  for (const key of keys) {
    const out = await h.s3.send(new GetObjectCommand({ Bucket: h.config.buckets.archive, Key: key }));
    if (!out.Body) throw new Error(`archive object ${key} has no body`);
    const file = join(root, key);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, await out.Body.transformToByteArray());
  }
}

describe('the archive in DuckDB', () => {
  it('reads the objects with the documented columns, partitions and JSON properties', async () => {
    const sourceId = newId('src');
    let [day1, day2] = [randomDay(), randomDay()];
    while (day2 === day1) day2 = randomDay();
    const orders = (day: string, revenues: number[]) =>
      revenues.map((revenue) =>
        makeEvent(sourceId, { receivedAt: `${day}T10:00:00.000Z`, properties: { revenue, currency: 'EUR' } }),
      );
    const batch1 = [
      ...orders(day1, [10, 20.5]),
      ...makeEvents(sourceId, 2, { receivedAt: `${day1}T11:00:00.000Z`, event: 'Product Viewed' }),
      ...orders(day2, [7]),
    ];
    const batch2 = [
      ...orders(day2, [3.25]),
      makeEvent(sourceId, {
        type: 'identify',
        event: undefined,
        properties: undefined,
        traits: { plan: 'pro' },
        receivedAt: `${day2}T12:00:00.000Z`,
      }),
    ];
    const keys: string[] = [];
    for (const batch of [batch1, batch2]) {
      const result = await archiveBatch(recordsOf(batch, 2), h.deps());
      expect(result.failedRecordIds).toEqual([]);
      keys.push(...result.objects);
    }
    expect(keys).toHaveLength(3);

    const root = await mkdtemp(join(tmpdir(), 'precis-duckdb-'));
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      await download(keys, root);
      await db.run(duckdbArchiveView(root));

      const described = (await db.runAndReadAll('DESCRIBE raw_events')).getRowObjectsJson();
      expect(described.map((c) => [c.column_name, c.column_type])).toEqual([
        ...ARCHIVE_COLUMNS.map((c) => [c, ARCHIVE_DUCKDB_TYPES[c]]),
        ['dt', 'DATE'],
      ]);

      const [count] = (
        await db.runAndReadAll(DUCKDB_ARCHIVE_QUERIES.rowsOfSource, [sourceId])
      ).getRowObjectsJson();
      expect(Number(count?.rows)).toBe(batch1.length + batch2.length);

      const byName = (
        await db.runAndReadAll(DUCKDB_ARCHIVE_QUERIES.eventsByName, [sourceId])
      ).getRowObjectsJson();
      expect(byName.map((r) => [r.name, Number(r.n)])).toEqual([
        ['Order Completed', 4],
        ['Product Viewed', 2],
        ['identify', 1],
      ]);

      const revenue = (
        await db.runAndReadAll(DUCKDB_ARCHIVE_QUERIES.revenueByDay, [sourceId])
      ).getRowObjectsJson();
      expect(revenue.map((r) => [r.dt, Number(r.revenue)])).toEqual(
        [
          [day1, 30.5],
          [day2, 10.25],
        ].sort(([a], [b]) => String(a).localeCompare(String(b))),
      );

      const [identify] = (
        await db.runAndReadAll(
          `SELECT schema_version, json_extract_string(traits, '$.plan') AS plan, properties
           FROM raw_events WHERE source_id = $1 AND type = 'identify'`,
          [sourceId],
        )
      ).getRowObjectsJson();
      expect(identify).toEqual({ schema_version: 2, plan: 'pro', properties: null });
    } finally {
      db.closeSync();
      instance.closeSync();
      await rm(root, { recursive: true, force: true });
    }
  });
});
