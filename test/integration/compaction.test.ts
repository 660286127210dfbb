// Compaction on the S3 emulator: raw NDJSON days become Parquet days with manifests, idempotently; an open
// day that gains a late object is compacted again and no other; a damaged manifest is repaired; stray keys
// are skipped; the runner's mirror fetches only what changed; and the features read through the mirrored
// Parquet equal the reducer's over the same bucket; the Athena reader compacts into the bucket and queries the
// stack's workgroup and database. Each test has a bucket of its own.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type DuckdbHistory, duckdbHistory } from '../../lib/adapters/duckdb/historyEngine.js';
import { memoryIdentityStore } from '../../lib/adapters/memory/identityStore.js';
import { archiveReader } from '../../lib/adapters/s3/archiveBucket.js';
import { mirrorFacts, s3ColumnarArchive } from '../../lib/adapters/s3/columnarArchive.js';
import { archiveObjectKey, encodeArchiveObject, toArchiveRecord } from '../../lib/archive/record.js';
import { createS3 } from '../../lib/aws/clients.js';
import { ATHENA_TABLES, athenaReader, duckdbReader } from '../../lib/history/bucketReaders.js';
import { type CompactDeps, compactChanged, FACTS_FORMAT, finalThrough } from '../../lib/history/compact.js';
import { sqlFeaturesAsOf } from '../../lib/history/features.js';
import { customerIdOf } from '../../lib/identity/graph.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { featuresOf, holdoutDayOf } from '../../lib/segmentation/features.js';
import { historyAsOf } from '../../lib/segmentation/history.js';
import { DAY_MS, makeEvent, newId, recordingLogger } from '../support/archiveFixtures.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const s3 = createS3(config);
afterAll(() => s3.destroy());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const DAY1 = '2026-10-01';
const DAY2 = '2026-10-02';

async function setup(now: { t: number }) {
  const bucket = newId('precis-compaction').toLowerCase().slice(0, 50);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const writerRoot = await mkdtemp(join(tmpdir(), 'precis-compact-'));
  const readerRoot = await mkdtemp(join(tmpdir(), 'precis-mirror-'));
  const writer = await duckdbHistory(writerRoot, { threads: 1, memoryMb: 256 });
  const reader = await duckdbHistory(readerRoot, { threads: 1, memoryMb: 256 });
  cleanups.push(async () => {
    writer.close();
    reader.close();
    await rm(writerRoot, { recursive: true, force: true });
    await rm(readerRoot, { recursive: true, force: true });
  });
  const logger = recordingLogger();
  const raw = archiveReader(s3, bucket);
  const deps: CompactDeps = {
    raw,
    columnar: s3ColumnarArchive(s3, bucket, writer, logger.log, () => now.t),
    log: logger.log,
    now: () => now.t,
  };
  let serial = 0;
  async function putObject(day: string, events: readonly NormalizedEvent[]): Promise<string> {
    const key = archiveObjectKey(day, Date.parse(`${day}T12:00:00Z`) + serial * 1000, `w${serial++}`);
    const body = encodeArchiveObject(events.map((e) => toArchiveRecord(e, e.receivedAt)));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    return key;
  }
  return { bucket, deps, raw, reader, readerRoot, writerRoot, logger, putObject };
}

/** A runner's history reader over the test's bucket, on a small engine, at the test's clock. */
const readerOptions = (
  t: Awaited<ReturnType<typeof setup>>,
  identity: ReturnType<typeof memoryIdentityStore>,
  dir: string,
  now: { t: number },
) => ({
  s3,
  bucket: t.bucket,
  identity,
  dir,
  engine: { threads: 1, memoryMb: 256 },
  log: t.logger.log,
  now: () => now.t,
});

const eventsOn = (day: string, users: readonly string[], extra: Partial<NormalizedEvent> = {}) =>
  users.map((userId, i) =>
    makeEvent('src_web', {
      userId,
      receivedAt: `${day}T10:00:00.000Z`,
      timestamp: `${day}T09:0${i}:00.000Z`,
      properties: { order_id: `${day}-${userId}`, revenue: 10 + i },
      ...extra,
    }),
  );

async function rowsPerDay(engine: DuckdbHistory): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for await (const page of engine.query(
    'SELECT CAST(dt AS VARCHAR) AS dt, count(*) AS n FROM facts GROUP BY dt',
  )) {
    for (const row of page) out[String(row.dt)] = Number(row.n);
  }
  return out;
}

describe('compaction to the columnar archive', () => {
  it('compacts each day once, again only an open day that changed, and the mirror follows', async () => {
    const now = { t: Date.parse(`${DAY2}T00:00:00Z`) + 20 * DAY_MS };
    const t = await setup(now);
    await t.putObject(DAY1, eventsOn(DAY1, ['u1', 'u2']));
    await t.putObject(DAY1, eventsOn(DAY1, ['u3']));
    await t.putObject(DAY2, eventsOn(DAY2, ['u1']));

    const first = await compactChanged(t.deps);
    expect(first.compacted.map((c) => [c.day, c.objects, c.rows])).toEqual([
      [DAY1, 2, 3],
      [DAY2, 1, 1],
    ]);
    expect(await mirrorFacts(s3, t.bucket, t.readerRoot)).toMatchObject({ fetched: 2, kept: 0 });
    expect(await rowsPerDay(t.reader)).toEqual({ [DAY1]: 3, [DAY2]: 1 });

    // Nothing changed: nothing is written, nothing fetched.
    expect(await compactChanged(t.deps)).toEqual({ compacted: [], current: 2 });
    expect(await mirrorFacts(s3, t.bucket, t.readerRoot)).toMatchObject({ fetched: 0, kept: 2 });

    // A late object for DAY2 while it is still open: DAY2 alone is compacted again.
    now.t = Date.parse(`${DAY2}T00:00:00Z`) + 2 * DAY_MS;
    await t.putObject(DAY2, eventsOn(DAY2, ['u4', 'u5']));
    const late = await compactChanged(t.deps);
    expect(late.compacted.map((c) => [c.day, c.objects, c.rows])).toEqual([[DAY2, 2, 3]]);
    expect(await mirrorFacts(s3, t.bucket, t.readerRoot)).toMatchObject({ fetched: 1, kept: 1 });
    expect(await rowsPerDay(t.reader)).toEqual({ [DAY1]: 3, [DAY2]: 3 });
    // The writer's own folder (the DuckDB reader mirrors into it) already holds what it uploaded.
    expect(await mirrorFacts(s3, t.bucket, t.writerRoot)).toMatchObject({ fetched: 0, kept: 2 });
  });

  it('repairs a damaged manifest and skips a stray key', async () => {
    const now = { t: Date.parse(`${DAY2}T00:00:00Z`) + 20 * DAY_MS };
    const t = await setup(now);
    await t.putObject(DAY1, eventsOn(DAY1, ['u1']));
    await s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: `raw/dt=${DAY1}/notes.txt`, Body: 'hello' }));
    expect((await compactChanged(t.deps)).compacted.map((c) => c.rows)).toEqual([1]);
    expect(t.logger.messages('warn')).toContain('not an archive object key: skipped');

    await s3.send(
      new PutObjectCommand({ Bucket: t.bucket, Key: `facts/dt=${DAY1}/manifest.json`, Body: '{"day":' }),
    );
    expect((await compactChanged(t.deps)).compacted.map((c) => c.day)).toEqual([DAY1]);
    expect(t.logger.messages('warn')).toContain('columnar manifest unreadable: day compacted again');
    expect(await compactChanged(t.deps)).toEqual({ compacted: [], current: 1 });
  });

  it('compacts again a day of an older facts format, once (an upgrade that adds a column)', async () => {
    const now = { t: Date.parse(`${DAY2}T00:00:00Z`) + 20 * DAY_MS };
    const t = await setup(now);
    await t.putObject(DAY1, eventsOn(DAY1, ['u1']));
    await t.putObject(DAY2, eventsOn(DAY2, ['u2']));
    await compactChanged(t.deps);
    // DAY1's manifest as a version before FACTS_FORMAT wrote it: no `format`.
    const key = `facts/dt=${DAY1}/manifest.json`;
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }))
    ).Body?.transformToString();
    const { format: _format, ...old } = JSON.parse(body ?? '{}') as Record<string, unknown>;
    expect(_format).toBe(FACTS_FORMAT);
    await s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: JSON.stringify(old) }));
    expect((await compactChanged(t.deps)).compacted.map((c) => c.day)).toEqual([DAY1]);
    expect(await compactChanged(t.deps)).toEqual({ compacted: [], current: 2 });
  });

  it('an empty archive compacts nothing, mirrors nothing and has no customers', async () => {
    const now = { t: Date.now() };
    const t = await setup(now);
    expect(await compactChanged(t.deps)).toEqual({ compacted: [], current: 0 });
    expect(await mirrorFacts(s3, t.bucket, t.readerRoot)).toEqual({ fetched: 0, kept: 0, bytes: 0 });
    const { features } = await sqlFeaturesAsOf(now.t, { engine: t.reader, identity: memoryIdentityStore() });
    expect(features).toEqual([]);
  });

  it('features read through the mirrored Parquet equal the reducer’s over the same bucket', async () => {
    const now = { t: Date.parse(`${DAY2}T00:00:00Z`) + 20 * DAY_MS };
    const t = await setup(now);
    await t.putObject(DAY1, [
      ...eventsOn(DAY1, ['u1', 'u2', 'u3']),
      ...eventsOn(DAY1, ['u1'], { event: 'Product Viewed', properties: { category: 'shoes' } }),
    ]);
    await t.putObject(DAY2, eventsOn(DAY2, ['u1', 'u4']));
    await compactChanged(t.deps);
    await mirrorFacts(s3, t.bucket, t.readerRoot);
    const identity = memoryIdentityStore();
    const asOf = now.t;
    const sql = await sqlFeaturesAsOf(asOf, { engine: t.reader, identity });
    const folded = await historyAsOf(asOf, { archive: t.raw, identity, log: t.logger.log });
    const reducer = [...folded.customers].map(([id, agg]) => featuresOf(id, agg, asOf));
    const byId = (list: { customerId: string }[]) =>
      [...list].sort((a, b) => a.customerId.localeCompare(b.customerId));
    expect(sql.features).toHaveLength(4);
    expect(byId(sql.features)).toEqual(byId(reducer));
  });

  it('a DuckDB runner keeps its snapshot of the final days in the bucket; a cold runner starts from it', async () => {
    const now = { t: Date.parse(`${DAY2}T00:00:00Z`) + 20 * DAY_MS };
    const t = await setup(now);
    await t.putObject(DAY1, eventsOn(DAY1, ['u1', 'u2']));
    await t.putObject(DAY2, eventsOn(DAY2, ['u1', 'u3']));
    const identity = memoryIdentityStore();
    const runner = async () => {
      const dir = await mkdtemp(join(tmpdir(), 'precis-runner-'));
      const reader = duckdbReader(readerOptions(t, identity, dir, now));
      cleanups.push(async () => {
        await reader.close?.();
        await rm(dir, { recursive: true, force: true });
      });
      return reader;
    };
    const stages: string[] = [];
    const timer = async <T>(name: string, work: () => Promise<T> | T) => {
      stages.push(name);
      return work();
    };
    /** The features of a full recomputation over the bucket's facts, as of now. */
    const full = async () => {
      await mirrorFacts(s3, t.bucket, t.readerRoot);
      return (await sqlFeaturesAsOf(now.t, { engine: t.reader, identity })).features;
    };
    const snapshotKeys = async () =>
      (
        (await s3.send(new ListObjectsV2Command({ Bucket: t.bucket, Prefix: 'history/snapshot/' })))
          .Contents ?? []
      )
        .map((o) => o.Key ?? '')
        .sort();

    const first = await (await runner()).read(now.t, timer, holdoutDayOf(now.t));
    expect(stages).toEqual(['compaction', 'mirror', 'history', 'snapshot', 'states', 'features']);
    const through = finalThrough(now.t);
    expect(first.input.history).toEqual({ mode: 'incremental', snapshotThrough: through, lateNodes: 0 });
    expect(first.features).toEqual(await full());
    expect(t.logger.messages('info')).toContain('history snapshot rebuilt');
    const stored = await snapshotKeys();
    expect(stored).toEqual([
      'history/snapshot/snapshot.json',
      expect.stringMatching(/^history\/snapshot\/snapshot\/[\w-]+\/snap_orders\.parquet$/),
      expect.stringMatching(/^history\/snapshot\/snapshot\/[\w-]+\/snap_state\.parquet$/),
    ]);

    // A cold runner (another folder) downloads it: no rebuild; a day received since is merged in.
    const DAY3 = new Date(now.t).toISOString().slice(0, 10);
    await t.putObject(DAY3, eventsOn(DAY3, ['u2', 'u4']));
    const cold = await runner();
    const second = await cold.read(now.t + DAY_MS, timer, holdoutDayOf(now.t + DAY_MS));
    expect(t.logger.messages('info').filter((m) => m === 'history snapshot rebuilt')).toHaveLength(1);
    expect(second.input.history).toEqual({ mode: 'incremental', snapshotThrough: through, lateNodes: 0 });
    now.t += DAY_MS;
    expect(second.features).toEqual(await full());
    expect(second.features.map((f) => f.customerId).sort()).toEqual(
      ['u1', 'u2', 'u3', 'u4'].map((u) => customerIdOf(`user:${u}`)).sort(),
    );

    // Days later DAY3 is final: the snapshot advances over it and replaces the stored one.
    now.t += 10 * DAY_MS;
    const third = await cold.read(now.t, timer, holdoutDayOf(now.t));
    expect(t.logger.messages('info')).toContain('history snapshot advanced');
    expect(third.input.history).toEqual({
      mode: 'incremental',
      snapshotThrough: finalThrough(now.t),
      lateNodes: 0,
    });
    expect(third.features).toEqual(await full());
    const replaced = await snapshotKeys();
    expect(replaced).toHaveLength(3);
    expect(replaced).not.toEqual(stored);

    // A stored manifest naming a file that is gone (another runner replaced the snapshot meanwhile): a
    // cold runner rebuilds instead of failing, and stores a whole snapshot again.
    const gone = replaced.find((k) => k.endsWith('snap_state.parquet')) ?? '';
    await s3.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: gone }));
    const fourth = await (await runner()).read(now.t, timer, holdoutDayOf(now.t));
    expect(fourth.features).toEqual(third.features);
    expect(t.logger.messages('info').filter((m) => m === 'history snapshot rebuilt')).toHaveLength(2);
    expect(await snapshotKeys()).toHaveLength(3);
  });

  it('on Athena: compacts into the bucket, writes the node table there, and queries the workgroup and database', async () => {
    // There is no Athena emulator: Athena's answers are scripted (the engine's calls are checked in
    // test/unit/athenaHistory.test.ts, the SQL's results on DuckDB above); S3 is the emulator's.
    const now = { t: Date.parse(`${DAY2}T00:00:00Z`) + 20 * DAY_MS };
    const t = await setup(now);
    await t.putObject(DAY1, eventsOn(DAY1, ['u1', 'u2']));
    await t.putObject(DAY2, eventsOn(DAY2, ['u1']));
    const athena = mockClient(AthenaClient);
    cleanups.push(() => athena.restore());
    const asked: { sql: string; workGroup?: string; database?: string }[] = [];
    // Each query's result is a file in the bucket, as Athena writes it to the workgroup's output location
    // (a header, every field quoted); the engine reads it from there.
    const resultKey = (id: string) => `athena-results/${id}.csv`;
    const csv = (...rows: string[][]) => rows.map((r) => `${r.map((v) => `"${v}"`).join(',')}\n`).join('');
    athena.on(StartQueryExecutionCommand).callsFake(async (input) => {
      const sql = input.QueryString ?? '';
      asked.push({ sql, workGroup: input.WorkGroup, database: input.QueryExecutionContext?.Database });
      const id = `q${asked.length}`;
      const body = sql.startsWith('SELECT DISTINCT node')
        ? csv(['node'], ['user:u1'], ['user:u2'])
        : sql.includes('AS later')
          ? csv(['events', 'later'], ['3', '0'])
          : csv(['cust']);
      await s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: resultKey(id), Body: body }));
      return { QueryExecutionId: id };
    });
    athena.on(GetQueryExecutionCommand).callsFake((input) => ({
      QueryExecution: {
        Status: { State: 'SUCCEEDED' },
        ResultConfiguration: {
          OutputLocation: `s3://${t.bucket}/${resultKey(String(input.QueryExecutionId))}`,
        },
      },
    }));
    const dir = await mkdtemp(join(tmpdir(), 'precis-athena-reader-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const identity = memoryIdentityStore();
    await identity.addNodes([{ key: 'user:u1', display: 'u1', at: `${DAY1}T10:00:00.000Z` }]);
    const reader = athenaReader({
      ...readerOptions(t, identity, dir, now),
      athena: new AthenaClient({ region: config.region }),
      workGroup: 'precis-test-history',
      database: 'precis_test',
    });
    const read = await reader.read(now.t, async (_name, work) => work(), holdoutDayOf(now.t));
    // Athena keeps no snapshot: it aggregates the whole archive.
    expect(read.input).toEqual({
      objects: 2,
      events: 3,
      eventsAfterAsOf: 0,
      customers: 0,
      history: { mode: 'full', snapshotThrough: null, lateNodes: 0 },
    });
    // One folder for the reader's engine while it is open; none once closed (the CLI closes it).
    expect(await readdir(dir)).toHaveLength(1);
    await reader.close?.();
    expect(await readdir(dir)).toEqual([]);
    expect(await factKeys(t.bucket)).toEqual([
      `facts/dt=${DAY1}/part-0.parquet`,
      `facts/dt=${DAY2}/part-0.parquet`,
    ]);
    expect(asked.length).toBeGreaterThanOrEqual(3);
    // Every result came from its file: no GetQueryResults paging.
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
    for (const q of asked) {
      expect(q).toMatchObject({ workGroup: 'precis-test-history', database: 'precis_test' });
      expect(q.sql).toContain('"precis_test"."facts"');
    }
    const nodes = await s3.send(
      new GetObjectCommand({ Bucket: t.bucket, Key: `${ATHENA_TABLES.nodesPrefix}nodes.ndjson.gz` }),
    );
    const lines = gunzipSync(
      Buffer.from(
        await (nodes.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      ),
    )
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { node: string; customer_id: string });
    // Only the nodes the identity graph knows are mapped (the SQL keeps any other node as its own customer).
    expect(lines).toEqual([{ node: 'user:u1', customer_id: customerIdOf('user:u1') }]);
  });
});

async function factKeys(bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'facts/' }));
  return (out.Contents ?? [])
    .map((o) => o.Key ?? '')
    .filter((k) => k.endsWith('.parquet'))
    .sort();
}
