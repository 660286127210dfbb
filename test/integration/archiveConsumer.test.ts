// The archive consumer behind the local SQS event source mapping, on real queues: a poison message
// goes to the DLQ through the queue's redrive policy while good messages are archived and deleted, and
// a batch whose handler throws is never deleted.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveBatch } from '../../lib/archive/archiveBatch.js';
import { createSqs } from '../../lib/aws/clients.js';
import type { QueueRecord } from '../../lib/queue/record.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { type SqsEventSource, startSqsEventSource } from '../../local/sqsEventSource.js';
import {
  countsOf,
  makeEvents,
  newId,
  randomDay,
  recordOf,
  sorted,
  waitFor,
} from '../support/archiveFixtures.js';
import { archivedCounts, archiveHarness } from '../support/archiveHarness.js';
import {
  createTestQueue,
  lambdaContext,
  queueDepth,
  receiveMessages,
  type TestQueue,
} from '../support/archiveQueues.js';

const h = archiveHarness();
const sqs = createSqs(h.config);
afterAll(() => {
  h.close();
  sqs.destroy();
});

type Handler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

/** Runs `handler` behind the event source, as Lambda would, and remembers every delivery. */
function consume(queue: TestQueue, handler: Handler) {
  const deliveries: { event: SQSEvent; response?: SQSBatchResponse }[] = [];
  const errors: unknown[] = [];
  const source: SqsEventSource = startSqsEventSource({
    sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    region: h.config.region,
    batchSize: 10,
    maximumBatchingWindowSeconds: 0,
    reportBatchItemFailures: true,
    invoke: async (event) => {
      const delivery: (typeof deliveries)[number] = { event };
      deliveries.push(delivery);
      delivery.response = await handler(event, lambdaContext());
      return delivery.response;
    },
    onError: (error) => errors.push(error),
  });
  const receivedIds = () => deliveries.flatMap((d) => d.event.Records.map((r) => r.messageId));
  return { source, deliveries, errors, receivedIds };
}

/** The poison-message queue's visibility timeout, seconds. */
const VISIBILITY_S = 8;

const archiveHandler = () => withSqs((records: QueueRecord[]) => archiveBatch(records, h.deps()));

async function send(client: SQSClient, url: string, body: string): Promise<string> {
  const out = await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
  if (!out.MessageId) throw new Error('SendMessage returned no MessageId');
  return out.MessageId;
}

describe('archive consumer on a real queue', () => {
  it('moves a poison message to the DLQ after its receives and archives the good one', {
    timeout: 120_000,
  }, async () => {
    const dlq = await createTestQueue(sqs, {}, 'precis-it-dlq');
    // The visibility timeout must exceed the time a batch takes, as the deployed queues' 6x the consumer's
    // timeout does: at 1 s, a busy machine took longer than that to archive the good message, which came
    // back twice and went to the DLQ beside the poison one (a clean run under load).
    const queue = await createTestQueue(sqs, {
      VisibilityTimeout: String(VISIBILITY_S),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 }),
    });
    const sourceId = newId('src');
    const day = randomDay();
    const events = makeEvents(sourceId, 3, { receivedAt: `${day}T20:00:00.000Z` });
    const garbage = `not json ${newId('garbage')}`;
    const garbageId = await send(sqs, queue.url, garbage);
    const goodId = await send(sqs, queue.url, recordOf(events).body);

    const run = consume(queue, archiveHandler());
    let dead: Awaited<ReturnType<typeof receiveMessages>>;
    try {
      dead = await waitFor(
        'the poison message to reach the DLQ',
        async () => {
          const got = await receiveMessages(sqs, dlq.url, 0);
          return got.length > 0 ? got : undefined;
        },
        // Two receives, each failing at once and coming back after the visibility timeout, then the move.
        { timeoutMs: 6 * VISIBILITY_S * 1000 },
      );
    } finally {
      await run.source.stop();
    }

    expect(dead.map((m) => m.Body)).toEqual([garbage]);
    // Nothing else in the DLQ (the poison message itself is in flight to this test), the source is empty.
    expect(await queueDepth(sqs, dlq.url)).toBe(1);
    expect(await queueDepth(sqs, queue.url)).toBe(0);
    expect(run.errors).toEqual([]);

    // Delivered until its receive count reached maxReceiveCount.
    const records = run.deliveries.flatMap((d) => d.event.Records);
    const garbageReceives = records
      .filter((r) => r.messageId === garbageId)
      .map((r) => Number(r.attributes.ApproximateReceiveCount));
    expect(Math.max(...garbageReceives)).toBe(2);
    expect(records.some((r) => r.messageId === goodId)).toBe(true);
    for (const d of run.deliveries) {
      expect(d.response?.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
        d.event.Records.some((r) => r.messageId === garbageId) ? [garbageId] : [],
      );
    }

    const counts = archivedCounts(await h.archivedRows(sourceId, [day]));
    expect(sorted(counts.keys())).toEqual(sorted(events.map((e) => e.messageId)));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('deletes no message of a batch whose handler throws; a healthy consumer archives them later', async () => {
    const queue = await createTestQueue(sqs, { VisibilityTimeout: '1' });
    const sourceId = newId('src');
    const day = randomDay();
    const events = makeEvents(sourceId, 6, { receivedAt: `${day}T21:00:00.000Z` });
    const ids = await Promise.all(
      [events.slice(0, 2), events.slice(2, 4), events.slice(4)].map((group) =>
        send(sqs, queue.url, recordOf(group).body),
      ),
    );

    const crashing = consume(
      queue,
      withSqs(async () => {
        throw new Error('injected: the function crashed');
      }),
    );
    try {
      await waitFor(
        'every message to be delivered twice',
        async () => {
          const counts = countsOf(crashing.receivedIds());
          return ids.every((id) => (counts.get(id) ?? 0) >= 2);
        },
        { timeoutMs: 20_000 },
      );
    } finally {
      await crashing.source.stop();
    }
    expect(crashing.errors.length).toBe(crashing.deliveries.length);
    expect(crashing.errors.every((e) => e instanceof Error && e.message.includes('injected'))).toBe(true);
    expect(await queueDepth(sqs, queue.url)).toBe(ids.length);
    expect(await h.archivedRows(sourceId, [day])).toEqual([]);

    const healthy = consume(queue, archiveHandler());
    try {
      await waitFor('the queue to be drained', async () => (await queueDepth(sqs, queue.url)) === 0, {
        timeoutMs: 20_000,
      });
    } finally {
      await healthy.source.stop();
    }
    expect(healthy.errors).toEqual([]);
    const counts = archivedCounts(await h.archivedRows(sourceId, [day]));
    expect(sorted(counts.keys())).toEqual(sorted(events.map((e) => e.messageId)));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });
});
