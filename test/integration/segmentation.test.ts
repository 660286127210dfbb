// Segmentation runs against the emulators with the real adapters: archive objects in S3 (one written
// late), identity resolved by the profiles consumer, the run rebuilding customers as of a date through
// the runner's history SQL (compaction into the bucket, mirror, DuckDB), checked once against the
// reducer's fold of the raw archive (the oracle), the report
// and member files in S3, assignments and runs in DynamoDB, changes on SQS; then a back-test, a re-delivered
// request and a later run with transitions.

import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { identityTable } from '../../lib/adapters/dynamodb/identityTable.js';
import { profilesTable } from '../../lib/adapters/dynamodb/profilesTable.js';
import { archiveBucket, archiveReader } from '../../lib/adapters/s3/archiveBucket.js';
import { archiveObjectKey, encodeArchiveObject, toArchiveRecord } from '../../lib/archive/record.js';
import { createDynamoDb, createDynamoDbClient, createS3, createSqs } from '../../lib/aws/clients.js';
import { runnerDepsFor } from '../../lib/history/runtime.js';
import { customerIdOf, identityRules } from '../../lib/identity/graph.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { applyArchiveObject } from '../../lib/profiles/consume.js';
import { projectRoot } from '../../lib/projectRoot.js';
import {
  listRunsPage,
  listSegments,
  MembersQuery,
  RunListQuery,
  segmentMembers,
} from '../../lib/segmentation/api.js';
import { runQueuedRequests } from '../../lib/segmentation/consume.js';
import { bufferFile, membersMetadata } from '../../lib/segmentation/members.js';
import { type Assignment, type RunRecord, SegmentChangesMessage } from '../../lib/segmentation/model.js';
import { foldReader } from '../../lib/segmentation/reader.js';
import { buildRequest } from '../../lib/segmentation/requests.js';
import { executeRun } from '../../lib/segmentation/run.js';
import { SEGMENT_IDS, type SegmentId } from '../../lib/segmentation/segments.js';
import { createActiveTable } from '../../local/provision.js';
import { makeEvent, newId, recordingLogger } from '../support/archiveFixtures.js';
import { lambdaContext } from '../support/archiveQueues.js';
import { expectRejection, expectValue } from '../support/outcome.js';
import { testConfig } from '../support/provided.js';

const tag = newId('seg').slice(4, 12);
const bucket = `precis-it-seg-${tag}`;
const changesQueue = `precis-it-seg-changes-${tag}`;
// The engines' folders (mirrored Parquet files, spill files) of this file's runs.
const historyDir = mkdtempSync(join(tmpdir(), 'precis-it-seg-history-'));
const config = testConfig({
  PRECIS_BUCKET_ARCHIVE: bucket,
  PRECIS_QUEUE_SEGMENT_CHANGES: changesQueue,
  PRECIS_HISTORY_DIR: historyDir,
});
const dynamo = createDynamoDb(config);
const s3 = createS3(config);
const sqs = createSqs(config);
const deps = runnerDepsFor(config, { dynamodb: dynamo, s3, sqs });
const DAY = 86_400_000;
const AS_OF = '2025-01-01';
const user = (i: number) => `seg-${tag}-u${i}`;

interface Expected {
  lastOrder: number;
  orders: number;
  monetary: number;
}
const expected = new Map<string, Expected>();

function order(
  userId: string | undefined,
  at: number,
  revenue: number,
  extra: Partial<NormalizedEvent> = {},
) {
  const timestamp = new Date(at).toISOString();
  return makeEvent('it', {
    userId,
    event: 'Order Completed',
    properties: { order_id: newId('o'), revenue, currency: 'EUR' },
    timestamp,
    receivedAt: timestamp,
    ...extra,
  });
}

/** 60 buyers with 1-5 orders in 2024 and one in 2025, some refunds; 40 browsing prospects; one stitch. */
function history(): { objects: NormalizedEvent[][]; late: NormalizedEvent[] } {
  const before: NormalizedEvent[] = [];
  const after: NormalizedEvent[] = [];
  const base = Date.parse('2024-01-10T10:00:00Z');
  for (let i = 0; i < 60; i++) {
    const e: Expected = { lastOrder: 0, orders: 0, monetary: 0 };
    for (let n = 0; n <= i % 5; n++) {
      const at = base + (i * 3 + n * 40) * DAY;
      before.push(order(user(i), at, 10 * (i + 1)));
      e.orders++;
      e.monetary += 10 * (i + 1);
      e.lastOrder = Math.max(e.lastOrder, at);
    }
    if (i % 10 === 0) {
      const at = base + (i * 3 + 1) * DAY;
      before.push(
        makeEvent('it', {
          userId: user(i),
          event: 'Order Refunded',
          properties: { order_id: newId('o'), total: 5 },
          timestamp: new Date(at).toISOString(),
          receivedAt: new Date(at).toISOString(),
        }),
      );
      e.monetary -= 5;
    }
    after.push(order(user(i), Date.parse('2025-02-01T10:00:00Z') + i * 60_000, 99));
    expected.set(user(i), e);
  }
  for (let p = 0; p < 40; p++) {
    const at = new Date(base + p * 5 * DAY).toISOString();
    before.push(
      makeEvent('it', {
        type: 'page',
        event: undefined,
        userId: undefined,
        anonymousId: `seg-${tag}-anon${p}`,
        properties: {},
        timestamp: at,
        receivedAt: at,
      }),
    );
  }
  // An anonymous order, then the login that tells whose it was: it counts for the user.
  const anon = `seg-${tag}-stitch-anon`;
  const stitched = `seg-${tag}-stitched`;
  const t0 = Date.parse('2024-11-01T09:00:00Z');
  before.push(order(undefined, t0, 250, { anonymousId: anon }));
  before.push(
    makeEvent('it', {
      type: 'identify',
      event: undefined,
      userId: stitched,
      anonymousId: anon,
      properties: undefined,
      traits: {},
      timestamp: new Date(t0 + 60_000).toISOString(),
      receivedAt: new Date(t0 + 60_000).toISOString(),
    }),
  );
  expected.set(stitched, { lastOrder: t0, orders: 1, monetary: 250 });
  // Archived last, timestamped in 2024: a late arrival the run must still see.
  const lateAt = Date.parse('2024-12-30T12:00:00Z');
  const late = [order(user(1), lateAt, 7)];
  const e1 = expected.get(user(1));
  if (e1) {
    e1.orders++;
    e1.monetary += 7;
    e1.lastOrder = lateAt;
  }
  const mixed = [...before, ...after];
  const objects: NormalizedEvent[][] = [];
  for (let i = 0; i < mixed.length; i += 60) objects.push(mixed.slice(i, i + 60));
  return { objects, late };
}

const customerOf = (userId: string) => customerIdOf(`user:${userId}`);
function request(asOf: string | undefined, publish: boolean, requestedAt = '2025-06-01T08:00:00Z') {
  const window = {
    timezone: 'UTC',
    now: () => Date.parse(requestedAt),
    minAsOf: config.quality.minTimestampMs,
  };
  const built = buildRequest({ asOf, publish }, 'test', window);
  if (!built.ok) throw new Error(JSON.stringify(built.issues));
  return built.value;
}

async function receiveChanges(): Promise<SegmentChangesMessage[]> {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: changesQueue }))).QueueUrl ?? '';
  const out: SegmentChangesMessage[] = [];
  for (let empty = 0; empty < 2; ) {
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
    if (!got.Messages?.length) {
      empty++;
      continue;
    }
    for (const m of got.Messages) {
      out.push(SegmentChangesMessage.parse(JSON.parse(m.Body ?? '')));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  return out;
}

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await sqs.send(new CreateQueueCommand({ QueueName: changesQueue }));
  const { objects, late } = history();
  const archive = archiveBucket(s3, bucket);
  const keys: string[] = [];
  const written = Date.parse('2025-05-01T00:00:00Z');
  for (const [i, events] of [...objects, late].entries()) {
    const at = written + i * 1000;
    const key = archiveObjectKey('2025-05-01', at, `it-${i}`);
    await archive.put(
      key,
      encodeArchiveObject(events.map((e) => toArchiveRecord(e, new Date(at).toISOString()))),
    );
    keys.push(key);
  }
  // The profiles consumer records the identity graph the run groups nodes by.
  const profileDeps = {
    archive: archiveReader(s3, bucket),
    partials: profilesTable(dynamo, config.tables.profiles),
    identity: {
      store: identityTable(dynamo, config.tables.identity),
      rules: identityRules(config.identifiers),
      now: Date.now,
      log: recordingLogger().log,
    },
    log: recordingLogger().log,
  };
  for (const key of keys) await applyArchiveObject(key, profileDeps);
});

afterAll(async () => {
  await deps.history.close?.();
  dynamo.destroy();
  s3.destroy();
  sqs.destroy();
  await rm(historyDir, { recursive: true, force: true });
});

describe('the runner function', () => {
  it('runs a queued request from the sample event and reports a malformed one as a failed record', async () => {
    const event = JSON.parse(
      await readFile(join(projectRoot(), 'events', 'sqs', 'segmentation-run.json'), 'utf8'),
    ) as SQSEvent;
    const [record] = event.Records;
    if (!record) throw new Error('the sample has no record');
    const runId = `seg_20250101T000000Z_${tag}`;
    record.body = JSON.stringify({ ...JSON.parse(record.body), runId });
    event.Records.push({ ...record, messageId: 'poison', body: '{"runId":"not a run"}' });
    for (const [key, value] of Object.entries(inject('stackEnv'))) vi.stubEnv(key, value);
    vi.stubEnv('PRECIS_BUCKET_ARCHIVE', bucket);
    vi.stubEnv('PRECIS_QUEUE_SEGMENT_CHANGES', changesQueue);
    vi.stubEnv('PRECIS_LOG_LEVEL', 'SILENT');
    // A fresh module graph: the handler reads its configuration from the environment, once, as in Lambda.
    vi.resetModules();
    const { handler } = await import('../../functions/queue/segmentation.js');
    const out = await handler(event, lambdaContext('precis-test-segmentation', 900_000));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'poison' }]);
    const run = await deps.runs.getRun(runId);
    expect(run?.status).toBe('completed');
    expect(run?.published).toBe(false);
    expect(run?.summary?.buyers).toBe(61);
    vi.unstubAllEnvs();
  });
});

describe('a live segmentation run', () => {
  let runId = '';

  it('rebuilds customers as of the date, scores RFM exactly and names segments', async () => {
    const run = await executeRun(request(AS_OF, true), deps);
    runId = run.runId;
    expect(run.status).toBe('completed');
    expect(run.published).toBe(true);
    expect(run.summary?.buyers).toBe(61);
    expect(run.summary?.prospects).toBe(40);
    const asOf = Date.parse(`${AS_OF}T00:00:00Z`);
    for (const [userId, e] of expected) {
      const a = await deps.runs.getAssignment(customerOf(userId));
      expect(a?.runId).toBe(run.runId);
      expect(a?.rfm).toMatchObject({
        recencyDays: Math.floor((asOf - e.lastOrder) / DAY),
        frequency: e.orders,
        monetary: e.monetary,
      });
      expect(a?.reasons.length).toBeGreaterThan(0);
    }
    const report = await deps.files.getReport(run.runId);
    expect(report?.input.eventsAfterAsOf).toBe(60);
    expect(report?.populations.buyers.selection?.validation.silhouette).toBeGreaterThan(0);
    expect(report?.segments.reduce((n, s) => n + s.size, 0)).toBe(101);
    expect(report?.transitions).toBeNull();
  });

  it('pages through every member of every segment exactly once', async () => {
    const seen: string[] = [];
    for (const segment of SEGMENT_IDS) {
      let cursor: string | undefined;
      do {
        const page = await deps.files.membersPage(runId, segment, cursor, 7);
        expect(page.members.length).toBeLessThanOrEqual(7);
        for (const m of page.members) {
          expect(m.segment).toBe(segment);
          seen.push(m.customerId);
        }
        cursor = page.next;
      } while (cursor !== undefined);
    }
    expect(seen).toHaveLength(101);
    expect(new Set(seen).size).toBe(101);
  });

  it('publishes every customer as an entry on the first live run', async () => {
    const messages = await receiveChanges();
    const changes = messages.flatMap((m) => m.changes);
    expect(new Set(messages.map((m) => m.runId))).toEqual(new Set([runId]));
    expect(changes).toHaveLength(101);
    expect(changes.every((c) => c.from === null && c.to !== null)).toBe(true);
  });

  it('does nothing again for a re-delivered request of a completed run', async () => {
    const before = await deps.runs.getRun(runId);
    const again = await executeRun({ ...request(AS_OF, true), runId }, deps);
    expect(again).toEqual(before);
    expect(await receiveChanges()).toEqual([]);
  });

  it('reproduces a run: the same as-of and parameters give the same segments, scores and reasons', async () => {
    // Asked earlier than the live run, so that the live run stays the latest of that as-of time.
    const again = await executeRun(request(AS_OF, false, '2025-05-31T09:00:00Z'), deps);
    expect(again.runId).not.toBe(runId);
    const [first, second] = await Promise.all([
      deps.files.getReport(runId),
      deps.files.getReport(again.runId),
    ]);
    expect(second?.segments).toEqual(first?.segments);
    expect(second?.populations.buyers.selection).toEqual(first?.populations.buyers.selection);
    const members = async (id: string) =>
      (await Promise.all(SEGMENT_IDS.map((s) => deps.files.membersPage(id, s, undefined, 500)))).flatMap(
        (p) => p.members,
      );
    expect(await members(again.runId)).toEqual(await members(runId));
  });

  it("gives the same run as the reducer's fold of the raw archive (the oracle)", async () => {
    const foldDeps = {
      ...deps,
      history: foldReader({
        archive: archiveReader(s3, bucket),
        identity: identityTable(dynamo, config.tables.identity),
        log: recordingLogger().log,
      }),
    };
    const viaFold = await executeRun(request(AS_OF, false, '2025-05-30T09:00:00Z'), foldDeps);
    expect(viaFold.status).toBe('completed');
    const [sql, fold] = await Promise.all([deps.files.getReport(runId), deps.files.getReport(viaFold.runId)]);
    expect(Object.keys(sql?.stagesMs ?? {})).toEqual(
      expect.arrayContaining(['compaction', 'mirror', 'snapshot', 'states', 'features']),
    );
    // One Parquet file (every object was archived today) instead of the raw objects. Whether the run
    // merged into the snapshot or recomputed in full depends on what this file's earlier runs left in
    // it; either way it must agree with the fold (historySnapshot.test.ts checks both modes).
    expect(sql?.input).toEqual({
      ...fold?.input,
      objects: 1,
      history: {
        mode: expect.stringMatching(/^(incremental|full)$/),
        snapshotThrough: expect.any(String),
        lateNodes: 0,
      },
    });
    expect(fold?.input.objects).toBeGreaterThan(1);
    expect(sql?.segments).toEqual(fold?.segments);
    expect(sql?.populations.buyers.selection).toEqual(fold?.populations.buyers.selection);
    expect(sql?.populations.prospects.selection).toEqual(fold?.populations.prospects.selection);
    const members = async (id: string) =>
      (await Promise.all(SEGMENT_IDS.map((s) => deps.files.membersPage(id, s, undefined, 500)))).flatMap(
        (p) => p.members,
      );
    // The fold has no product facts, so no recommendations: everything else is the same.
    const viaSql = await members(runId);
    expect(viaSql.every((m) => Array.isArray(m.recommendations))).toBe(true);
    expect(await members(viaFold.runId)).toEqual(viaSql.map(({ recommendations: _r, ...m }) => m));
    expect(fold?.models?.recommendations).toBeNull();
    // This file's events name no product: no interactions, no best seller, an empty list each.
    expect(sql?.models?.recommendations).toMatchObject({ interactions: 0, popular: [] });
    expect(viaSql.every((m) => m.recommendations?.length === 0)).toBe(true);
  });

  it('keeps a back-test from overwriting the published assignments', async () => {
    const run = await executeRun(request('2024-07-01', true), deps);
    expect(run.status).toBe('completed');
    expect(run.published).toBe(false);
    expect(run.note).toMatch(/later as-of/);
    expect(await deps.runs.publishedRun()).toBe(runId);
    expect((await deps.runs.getAssignment(customerOf(user(3))))?.runId).toBe(runId);
    // Only events before 2024-07-01: fewer buyers, the 2024 Q3-Q4 orders left out.
    expect(run.summary?.buyers).toBeLessThan(61);
  });

  it('reports transitions and publishes only the movers on the next live run', async () => {
    const run = await executeRun(request('2025-03-01', true), deps);
    expect(run.published).toBe(true);
    const report = await deps.files.getReport(run.runId);
    expect(report?.transitions?.previousRunId).toBe(runId);
    const moved = report?.transitions?.moved ?? -1;
    const changes = (await receiveChanges()).flatMap((m) => m.changes);
    expect(changes).toHaveLength(moved);
    expect(changes.every((c) => c.from !== c.to)).toBe(true);
    const a = await deps.runs.getAssignment(customerOf(user(2)));
    expect(a?.runId).toBe(run.runId);
    expect(a?.rfm?.frequency).toBe((expected.get(user(2))?.orders ?? 0) + 1);
  });
  it('retries a live run that died while publishing against the run it started from, not from scratch', async () => {
    const before = await deps.runs.publishedRun();
    let calls = 0;
    const failing = {
      ...deps,
      changes: {
        publish: async (...args: Parameters<typeof deps.changes.publish>) => {
          calls++;
          if (calls === 1) throw new Error('SQS unavailable');
          return deps.changes.publish(...args);
        },
      },
    };
    const req = request('2025-04-01', true);
    await expect(executeRun(req, failing)).rejects.toThrow('SQS unavailable');
    const failed = await deps.runs.getRun(req.runId);
    expect(failed?.status).toBe('failed');
    expect(failed?.publishedOver).toBe(before);
    // The pointer already names the new run; the retry must still diff against the one before it.
    expect(await deps.runs.publishedRun()).toBe(req.runId);
    const run = await executeRun(req, deps);
    expect(run.status).toBe('completed');
    expect(run.attempts).toBe(2);
    const changes = (await receiveChanges()).flatMap((m) => m.changes);
    expect(changes.every((c) => c.from !== null)).toBe(true);
    const report = await deps.files.getReport(run.runId);
    expect(report?.transitions?.previousRunId).toBe(before);
    expect(changes).toHaveLength(report?.transitions?.moved ?? -1);
  });

  it('keeps paging the run a members page came from when another run is published meanwhile', async () => {
    const readDeps = { runs: deps.runs, files: deps.files };
    const before = await expectValue(listSegments(undefined, readDeps));
    const biggest = [...before.segments].sort((a, b) => b.size - a.size)[0];
    if (!biggest) throw new Error('no segment');
    const first = await expectValue(segmentMembers(biggest.id, MembersQuery.parse({ limit: '3' }), readDeps));
    expect(first.nextCursor).toBeDefined();
    const later = await executeRun(request('2025-04-15', true), deps);
    expect((await expectValue(listSegments(undefined, readDeps))).runId).toBe(later.runId);
    await receiveChanges();
    const rest = await expectValue(
      segmentMembers(biggest.id, MembersQuery.parse({ limit: '500', cursor: first.nextCursor }), readDeps),
    );
    expect(rest.runId).toBe(first.runId);
    const all = await deps.files.membersPage(first.runId, biggest.id, undefined, 500);
    expect([...first.members, ...rest.members]).toEqual(all.members);
    // A cursor names its run: asking for another run with it is a client's mistake, not a page.
    expect(
      await expectRejection(
        segmentMembers(biggest.id, { limit: 5, cursor: first.nextCursor, runId: later.runId }, readDeps),
      ),
    ).toMatchObject({ reason: 'invalid', issues: [{ path: 'cursor', code: 'invalid_cursor' }] });
  });
});

describe('runs after an empty or damaged run', () => {
  // Its own bucket (an empty archive) and segments table: the runs, the published pointer and the archive
  // here are this block's alone, as on a fresh deployment.
  const fresh = `precis-it-seg-fresh-${tag}`;
  const freshConfig = testConfig({
    PRECIS_BUCKET_ARCHIVE: fresh,
    PRECIS_TABLE_SEGMENTS: fresh,
    PRECIS_QUEUE_SEGMENT_CHANGES: changesQueue,
    PRECIS_HISTORY_DIR: historyDir,
  });
  const raw = createDynamoDbClient(freshConfig);
  const logged = recordingLogger();
  const freshDeps = { ...runnerDepsFor(freshConfig, { dynamodb: dynamo, s3, sqs }), log: logged.log };
  const membersKey = (runId: string, segment: SegmentId = SEGMENT_IDS[0]) =>
    `segmentation/${runId}/members/${segment}.parquet`;
  const objectBytes = async (key: string) => {
    const object = await s3.send(new GetObjectCommand({ Bucket: fresh, Key: key }));
    return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
  };

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: fresh }));
    await createActiveTable(raw, {
      TableName: fresh,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
  });
  afterAll(async () => {
    await raw.send(new DeleteTableCommand({ TableName: fresh })).catch(() => {});
    raw.destroy();
  });

  const archiveOrder = async (userId: string, at: string) => {
    const e = order(userId, Date.parse(at), 42);
    const key = archiveObjectKey(at.slice(0, 10), Date.parse(at), `it-${newId('w').slice(2, 10)}`);
    await archiveBucket(s3, fresh).put(key, encodeArchiveObject([toArchiveRecord(e, at)]));
  };

  it('writes valid empty members files for a run over no customer, and the next runs complete', async () => {
    const empty = await executeRun(request('2011-12-10', true), freshDeps);
    expect(empty).toMatchObject({ status: 'completed', published: true });
    expect(empty.summary?.customers).toBe(0);
    for (const segment of SEGMENT_IDS) {
      const metadata = await membersMetadata(bufferFile(await objectBytes(membersKey(empty.runId, segment))));
      expect(Number(metadata.num_rows)).toBe(0);
    }

    await archiveOrder(`seg-${tag}-first`, '2011-12-10T09:00:00.000Z');
    // A back-test diffs against the empty run; a live run claims over it.
    const backTest = await executeRun(request('2011-12-11', false), freshDeps);
    expect(backTest.status).toBe('completed');
    expect((await freshDeps.files.getReport(backTest.runId))?.transitions).toMatchObject({
      previousRunId: empty.runId,
      moved: 1,
    });
    const live = await executeRun(request('2011-12-11', true), freshDeps);
    expect(live).toMatchObject({ status: 'completed', published: true });
    expect(live.summary?.customers).toBe(1);
    const changes = (await receiveChanges()).flatMap((m) => m.changes);
    expect(changes).toEqual([expect.objectContaining({ from: null, to: expect.any(String) })]);
  });

  it('completes a run whose previous run is damaged, without transitions, and logs the key and stack', async () => {
    const previous = await executeRun(request('2011-12-12', true), freshDeps);
    expect(previous.status).toBe('completed');
    await receiveChanges();
    const whole = Buffer.from(await objectBytes(membersKey(previous.runId)));
    for (const body of [
      Buffer.alloc(0),
      Buffer.from('not parquet at all'),
      whole.subarray(0, whole.length - 9),
    ]) {
      await s3.send(new PutObjectCommand({ Bucket: fresh, Key: membersKey(previous.runId), Body: body }));
      logged.entries.length = 0;
      const backTest = await executeRun(request('2011-12-13', false), freshDeps);
      expect(backTest.status).toBe('completed');
      expect((await freshDeps.files.getReport(backTest.runId))?.transitions).toBeNull();
      const warning = logged.entries.find((e) => e.level === 'warn');
      expect(warning?.message).toMatch(/previous run/);
      expect(warning?.extra[0]).toMatchObject({
        previousRunId: previous.runId,
        objectKey: membersKey(previous.runId),
        stack: expect.stringContaining('Error'),
      });
    }
    // A live run over the damaged published run: every customer is published as an entry.
    const live = await executeRun(request('2011-12-13', true), freshDeps);
    expect(live).toMatchObject({ status: 'completed', published: true });
    const changes = (await receiveChanges()).flatMap((m) => m.changes);
    expect(changes).toEqual([expect.objectContaining({ from: null })]);
  });

  it('still reads a run written before the members Parquet files: transitions and pages', async () => {
    const runId = `seg_legacy_${tag}`;
    const put = (name: string, body: string | Buffer) =>
      s3.send(new PutObjectCommand({ Bucket: fresh, Key: `segmentation/${runId}/${name}`, Body: body }));
    const legacy = (i: number, segment: SegmentId): Assignment => ({
      customerId: `cus_legacy_${i}`,
      userIds: [`u-${i}`],
      segment,
      population: 'buyers',
      cluster: 0,
      distance: 0.5,
      reasons: ['frequency in the top 20 % (7, median 2)'],
      reasonCodes: ['frequency:high'],
    });
    const loyal = Array.from({ length: 5 }, (_, i) => legacy(i, 'loyal'));
    const ndjson = (rows: Assignment[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    await put('assignments.ndjson.gz', gzipSync(ndjson([...loyal, legacy(9, 'dormant')])));
    await put('members/loyal.ndjson', ndjson(loyal));
    expect(await freshDeps.files.segmentsOf(runId)).toEqual(
      new Map([...loyal.map((r) => [r.customerId, 'loyal'] as const), ['cus_legacy_9', 'dormant']]),
    );
    const first = await freshDeps.files.membersPage(runId, 'loyal', undefined, 3);
    expect(first.members).toEqual(loyal.slice(0, 3));
    expect(await freshDeps.files.membersPage(runId, 'loyal', first.next, 3)).toEqual({
      members: loyal.slice(3),
    });
    expect(await freshDeps.files.segmentsOf(`seg_none_${tag}`)).toBeUndefined();
  });

  it('lists runs newest as-of first, a bounded page at a time, each run once', async () => {
    const readDeps = { runs: freshDeps.runs, files: freshDeps.files };
    const seen: RunRecord[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listRunsPage(RunListQuery.parse({ limit: '2', cursor }), readDeps);
      expect(page.runs.length).toBeLessThanOrEqual(2);
      seen.push(...page.runs);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined && pages < 50);
    const ids = seen.map((r) => r.runId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(8);
    const order = (r: RunRecord) => `${r.asOf}|${r.requestedAt}|${r.runId}`;
    expect(ids).toEqual([...seen].sort((a, b) => (order(a) < order(b) ? 1 : -1)).map((r) => r.runId));
    // Every run stored is listed, with its latest status.
    for (const r of seen) expect(await freshDeps.runs.getRun(r.runId)).toEqual(r);
    expect(RunListQuery.safeParse({ cursor: 'not a cursor!' }).success).toBe(false);
  });

  it("exports members with the customer's userIds and CRM ids, never an e-mail or phone", async () => {
    const userId = `seg-${tag}-crm`;
    const at = '2011-12-15T09:00:00.000Z';
    const e = order(userId, Date.parse(at), 10);
    const identify = makeEvent('it', {
      type: 'identify',
      event: undefined,
      userId,
      properties: undefined,
      // As the edge leaves them: e-mail and phone sealed, the CRM id in clear (it is an identifier).
      traits: { crm_id: 'CRM-42', email: 'enc:v1:k1:sealed', phone: 'enc:v1:k1:sealed2', plan: 'gold' },
      timestamp: at,
      receivedAt: at,
    });
    const key = archiveObjectKey('2011-12-15', Date.parse(at), `it-crm-${tag}`);
    await archiveBucket(s3, fresh).put(
      key,
      encodeArchiveObject([e, identify].map((x) => toArchiveRecord(x, at))),
    );
    const run = await executeRun(request('2011-12-16', false), freshDeps);
    expect(run.status).toBe('completed');
    const customerId = customerOf(userId);
    const all = (
      await Promise.all(SEGMENT_IDS.map((id) => freshDeps.files.membersPage(run.runId, id, undefined, 500)))
    ).flatMap((p) => p.members);
    const member = all.find((m) => m.customerId === customerId);
    expect(member).toMatchObject({ userIds: [userId], crmIds: ['CRM-42'] });
    expect(all.find((m) => m.customerId === customerOf(`seg-${tag}-first`))).toMatchObject({
      userIds: [`seg-${tag}-first`],
      crmIds: [],
    });
    const csv = await s3.send(
      new GetObjectCommand({
        Bucket: fresh,
        Key: `segmentation/${run.runId}/members/${member?.segment}.csv`,
      }),
    );
    const text = (await csv.Body?.transformToString()) ?? '';
    const [header, ...rows] = text.trim().split('\n');
    expect(header?.split(',').slice(0, 3)).toEqual(['customerId', 'userIds', 'crmIds']);
    expect(rows.find((r) => r.startsWith(customerId))).toMatch(`${customerId},${userId},CRM-42,`);
    expect(text).not.toMatch(/enc:v1|sealed/);
  });

  it('never lets the nightly run replace a live run of its own day, whichever finishes last', async () => {
    const asOf = '2011-12-20';
    const nightly = (requestedAt: string) => {
      const window = {
        timezone: 'UTC',
        now: () => Date.parse(requestedAt),
        minAsOf: config.quality.minTimestampMs,
      };
      const built = buildRequest({ asOf, publish: true }, 'schedule', window, { nightly: true });
      if (!built.ok) throw new Error(JSON.stringify(built.issues));
      return built.value;
    };
    // The demo's (or an operator's) run of the day first, the schedule's nightly run of that day after.
    const operator = await executeRun(request(asOf, true), freshDeps);
    expect(operator.published).toBe(true);
    const late = await executeRun(nightly('2011-12-20T01:05:00Z'), freshDeps);
    expect(late).toMatchObject({ status: 'completed', published: false });
    expect(await freshDeps.runs.publishedRun()).toBe(operator.runId);
    // An operator's run of the same day does replace a nightly one (and its own retry re-claims).
    const again = await executeRun(request(asOf, true, '2025-06-02T08:00:00Z'), freshDeps);
    expect(again.published).toBe(true);
    expect(await freshDeps.runs.publishedRun()).toBe(again.runId);
    await receiveChanges();
  });

  it('records the object key on a run that fails reading the archive, and logs the stack', async () => {
    const key = archiveObjectKey('2011-12-14', Date.parse('2011-12-14T00:00:00Z'), 'it-damaged');
    await s3.send(new PutObjectCommand({ Bucket: fresh, Key: key, Body: Buffer.from('not gzip') }));
    try {
      const req = request('2011-12-15', false);
      const records = [{ id: 'm1', body: JSON.stringify(req) }];
      logged.entries.length = 0;
      const out = await runQueuedRequests(records, freshDeps);
      expect(out.failedRecordIds).toEqual(['m1']);
      const failed = await freshDeps.runs.getRun(req.runId);
      expect(failed?.status).toBe('failed');
      expect(failed?.error).toContain(key);
      const error = logged.entries.find((e) => e.level === 'error');
      expect(error?.extra[0]).toMatchObject({
        runId: req.runId,
        objectKey: key,
        stack: expect.stringContaining('Error'),
      });
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: fresh, Key: key }));
    }
  });
});
