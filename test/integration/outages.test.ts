// Dependency outages, injected with aws-sdk-client-mock on one client instance while everything else
// stays real: S3 refusing writes under the archive consumer, SQS refusing (all or part of) a batch
// under the ingest edge.
import { PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import {
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchResult,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { quarantineTable } from '../../lib/adapters/dynamodb/quarantineTable.js';
import { archiveBucket } from '../../lib/adapters/s3/archiveBucket.js';
import { eventQueue } from '../../lib/adapters/sqs/eventQueue.js';
import { archiveBatch } from '../../lib/archive/archiveBatch.js';
import { createS3, createSqs } from '../../lib/aws/clients.js';
import { StorageUnavailable } from '../../lib/errors.js';
import { parseEnvelope } from '../../lib/ingest/envelope.js';
import { type IngestDeps, type IngestRequest, ingest } from '../../lib/ingest/ingest.js';
import {
  countsOf,
  makeEvents,
  newId,
  randomDay,
  recordingLogger,
  recordsOf,
  sorted,
} from '../support/archiveFixtures.js';
import { archivedCounts, archiveHarness } from '../support/archiveHarness.js';
import { createTestQueue, queueDepth, receiveMessages } from '../support/archiveQueues.js';

const h = archiveHarness();
const sqs = createSqs(h.config);
afterAll(() => {
  h.close();
  sqs.destroy();
});

describe('S3 outage under the archive consumer', () => {
  const serviceUnavailable = () =>
    new S3ServiceException({
      name: 'ServiceUnavailable',
      $fault: 'server',
      $metadata: { httpStatusCode: 503 },
      message: 'Please reduce your request rate.',
    });

  it('fails every affected record, keeps the claims, and archives once when S3 is back', async () => {
    const sourceId = newId('src');
    const [day1, day2] = [randomDay(), randomDay()];
    const events = [
      ...makeEvents(sourceId, 3, { receivedAt: `${day1}T07:00:00.000Z` }),
      ...makeEvents(sourceId, 2, { receivedAt: `${day2}T07:00:00.000Z` }),
    ];
    const records = recordsOf(events, 2);
    const ids = sorted(events.map((e) => e.messageId));
    const leaseMs = 60_000;
    const t0 = Date.now();

    const s3 = createS3(h.config);
    const archive = archiveBucket(s3, h.config.buckets.archive);
    const s3Mock = mockClient(s3);
    s3Mock.on(PutObjectCommand).rejects(serviceUnavailable());
    try {
      const down = await archiveBatch(records, h.deps({ archive, leaseMs, now: () => t0 }));
      expect(sorted(down.failedRecordIds)).toEqual(sorted(records.map((r) => r.id)));
      expect(down).toMatchObject({ archived: [], duplicates: 0, objects: [] });
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(new Set([day1, day2]).size);
      // A failed PUT may still have landed: the claims stay, naming the objects that decide later.
      for (const id of ids) expect(await h.dedupItem(id, sourceId)).toMatchObject({ status: 'pending' });
      expect(await h.archivedRows(sourceId, [day1, day2])).toEqual([]);
    } finally {
      s3Mock.restore();
    }

    // A redelivery inside the lease finds the claims busy and writes nothing.
    const early = await archiveBatch(records, h.deps({ archive, leaseMs, now: () => t0 + 1_000 }));
    expect(sorted(early.failedRecordIds)).toEqual(sorted(records.map((r) => r.id)));
    expect(await h.archivedRows(sourceId, [day1, day2])).toEqual([]);

    // SQS redelivers after the visibility timeout, which outlasts the lease: no object, so take over.
    const back = await archiveBatch(records, h.deps({ archive, leaseMs, now: () => t0 + leaseMs + 1_000 }));
    expect(back.failedRecordIds).toEqual([]);
    expect(sorted(back.archived.map((e) => e.messageId))).toEqual(ids);
    const counts = archivedCounts(await h.archivedRows(sourceId, [day1, day2]));
    expect(sorted(counts.keys())).toEqual(ids);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('does not archive twice when a PUT landed although the client saw an error', async () => {
    const sourceId = newId('src');
    const day = randomDay();
    const events = makeEvents(sourceId, 4, { receivedAt: `${day}T09:00:00.000Z` });
    const records = recordsOf(events, 2);
    const leaseMs = 60_000;
    const t0 = Date.now();

    const s3 = createS3(h.config);
    const real = createS3(h.config);
    const s3Mock = mockClient(s3);
    // The write is applied, then the answer is lost (a timeout after the fact).
    s3Mock.on(PutObjectCommand).callsFake(async (input) => {
      await real.send(new PutObjectCommand(input));
      throw serviceUnavailable();
    });
    try {
      const lost = await archiveBatch(
        records,
        h.deps({ archive: archiveBucket(s3, h.config.buckets.archive), leaseMs, now: () => t0 }),
      );
      expect(lost.failedRecordIds).toHaveLength(records.length);
    } finally {
      s3Mock.restore();
      real.destroy();
    }
    const again = await archiveBatch(
      records,
      h.deps({
        archive: archiveBucket(s3, h.config.buckets.archive),
        leaseMs,
        now: () => t0 + leaseMs + 1_000,
      }),
    );
    expect(again.failedRecordIds).toEqual([]);
    expect(again.duplicates).toBe(events.length);
    const counts = archivedCounts(await h.archivedRows(sourceId, [day]));
    expect(sorted(counts.keys())).toEqual(sorted(events.map((e) => e.messageId)));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('SQS faults under the ingest edge', () => {
  const quarantine = quarantineTable(h.dynamo, h.config.tables.quarantine, h.config.quarantineRetentionDays);

  /** An SQS client whose SendMessageBatch the test scripts; queue URL lookups go to the emulator. */
  function scriptedSqs() {
    const client = createSqs(h.config);
    const mock = mockClient(client);
    mock.on(GetQueueUrlCommand).callsFake((input) => sqs.send(new GetQueueUrlCommand(input)));
    const close = () => {
      mock.restore();
      client.destroy();
    };
    return { client, mock, close };
  }

  const depsFor = (client: ReturnType<typeof createSqs>, queueName: string) => {
    const logger = recordingLogger();
    const deps: IngestDeps = {
      sink: eventQueue(client, queueName),
      quarantine,
      quality: h.config.quality,
      log: logger.log,
      now: Date.now,
      // These events hold no PII; protection has its own tests (pii*.test.ts).
      protect: async (e) => e,
      sealPayload: async (payload) => payload,
    };
    return { deps, logger };
  };

  const batchRequest = (sourceId: string, batch: Record<string, unknown>[]): IngestRequest => {
    const body = { batch };
    return { route: 'batch', body, bodyBytes: Buffer.byteLength(JSON.stringify(body)), sourceId };
  };

  const trackEvent = (props: Record<string, unknown> = {}) => ({
    type: 'track',
    event: 'Order Completed',
    messageId: newId('msg'),
    userId: newId('user'),
    properties: { revenue: 19.99, currency: 'EUR', ...props },
  });

  it('answers 503 unavailable when SQS refuses the batch, and enqueues nothing', async () => {
    const queue = await createTestQueue(sqs);
    const scripted = scriptedSqs();
    try {
      scripted.mock.on(SendMessageBatchCommand).rejects(
        new SQSServiceException({
          name: 'ServiceUnavailable',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
          message: 'Service Unavailable',
        }),
      );
      const { deps, logger } = depsFor(scripted.client, queue.name);
      const request = batchRequest(newId('src'), [trackEvent(), trackEvent()]);

      const error = await ingest(request, deps).then(
        () => undefined,
        (e: unknown) => e,
      );
      // Thrown as a storage failure; the HTTP edge answers it 503 (test/unit/httpResponse.test.ts).
      expect(error).toBeInstanceOf(StorageUnavailable);
      expect(scripted.mock.commandCalls(SendMessageBatchCommand).length).toBeGreaterThan(0);
      expect(logger.messages('error')).toContain('ingest write failed');
      expect(await queueDepth(sqs, queue.url)).toBe(0);
    } finally {
      scripted.close();
    }
  });

  it('resends only the entries SQS failed, and every event arrives once', async () => {
    const queue = await createTestQueue(sqs);
    const scripted = scriptedSqs();
    try {
      // Events big enough for several envelopes, few enough for one SendMessageBatch.
      const batch = Array.from({ length: 20 }, () => trackEvent({ note: 'x'.repeat(8_000) }));
      let heldBack: string | undefined;
      scripted.mock
        .on(SendMessageBatchCommand)
        .callsFakeOnce(async (input: SendMessageBatchCommandInput): Promise<SendMessageBatchResult> => {
          const [held, ...rest] = input.Entries ?? [];
          heldBack = held?.Id;
          // The others really reach the queue; the held-back one fails as a server-side fault.
          const out = await sqs.send(new SendMessageBatchCommand({ ...input, Entries: rest }));
          return {
            Successful: out.Successful ?? [],
            Failed: [{ Id: held?.Id ?? '', Code: 'InternalError', SenderFault: false, Message: 'injected' }],
          };
        })
        .callsFake((input: SendMessageBatchCommandInput) => sqs.send(new SendMessageBatchCommand(input)));
      const { deps } = depsFor(scripted.client, queue.name);
      const sourceId = newId('src');

      const response = await ingest(batchRequest(sourceId, batch), deps);
      expect(response).toEqual({ ok: true, value: { success: true, accepted: batch.length, rejected: [] } });

      const [first, retry, ...others] = scripted.mock
        .commandCalls(SendMessageBatchCommand)
        .map((c) => c.args[0].input.Entries ?? []);
      expect(others, 'one batch and one retry').toEqual([]);
      expect(first?.length, 'the batch must hold several envelopes for a partial failure').toBeGreaterThan(1);
      expect(heldBack).toBeDefined();
      expect(retry?.map((e) => e.Id)).toEqual([heldBack]);

      const envelopes = first?.length ?? 0;
      const messages = await receiveMessages(sqs, queue.url, envelopes);
      expect(messages).toHaveLength(envelopes);
      const delivered = messages.flatMap((m) => {
        const parsed = parseEnvelope(m.Body ?? '');
        if (!parsed.ok) throw new Error(`queued message is not an envelope: ${parsed.reason}`);
        return parsed.envelope.events;
      });
      expect(delivered.every((e) => e.sourceId === sourceId)).toBe(true);
      const counts = countsOf(delivered.map((e) => e.messageId));
      expect(sorted(counts.keys())).toEqual(sorted(batch.map((e) => e.messageId)));
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    } finally {
      scripted.close();
    }
  });

  it('enqueues through the real emulator when SQS is healthy', async () => {
    const queue = await createTestQueue(sqs);
    const { deps } = depsFor(sqs, queue.name);
    const batch = [trackEvent(), trackEvent(), trackEvent()];
    const response = await ingest(batchRequest(newId('src'), batch), deps);
    expect(response.ok && response.value.accepted).toBe(3);
    const messages = await receiveMessages(sqs, queue.url, 1);
    expect(messages).toHaveLength(1);
    const parsed = parseEnvelope(messages[0]?.Body ?? '');
    expect(parsed.ok && sorted(parsed.envelope.events.map((e) => e.messageId))).toEqual(
      sorted(batch.map((e) => e.messageId)),
    );
  });
});
