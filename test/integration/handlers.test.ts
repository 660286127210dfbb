// The deployed handlers themselves (middleware, config from the environment, runtime wiring) invoked
// with the sample events in events/, against the emulators: what `osls invoke local` would run.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createSqs } from '../../lib/aws/clients.js';
import { projectRoot } from '../../lib/projectRoot.js';
import { newId } from '../support/archiveFixtures.js';
import { archivedCounts, archiveHarness } from '../support/archiveHarness.js';
import { lambdaContext, receiveMessages } from '../support/archiveQueues.js';
import { type HttpHandler, sqsEvent as lambdaSqsEvent } from '../support/sqsEvents.js';

const h = archiveHarness();
const sqs = createSqs(h.config);
const queueName = newId('precis-handlers');
let queue: { url: string; arn: string };
let ingest: HttpHandler;
let openapi: HttpHandler;
let archive: typeof import('../../functions/queue/archive.js')['handler'];
let profiles: typeof import('../../functions/queue/profiles.js')['handler'];

/** A sample event, cloned (a test may change it). */
async function sample<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(join(projectRoot(), 'events', name), 'utf8')) as T;
}

/** An SQS event from this file's queue (receipt handles made up: the handlers never use them). */
function sqsEvent(messages: readonly { messageId: string; body: string }[]): SQSEvent {
  return lambdaSqsEvent(
    messages.map((m) => ({ ...m, receiptHandle: `rh-${m.messageId}` })),
    { arn: queue.arn, region: h.config.region, senderId: 'test' },
  );
}

async function call(handler: HttpHandler, name: string) {
  const res = await handler(await sample(name), lambdaContext('precis-test-ingest', 10_000));
  return { status: res.statusCode, body: JSON.parse(res.body ?? '{}') as Record<string, unknown> };
}

beforeAll(async () => {
  // The handlers read their configuration from the environment, as in Lambda: point it at the
  // emulators, with an ingest queue of this file's own so no other test's messages mix in.
  const created = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
  const url = String(created.QueueUrl);
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  queue = { url, arn: String(attrs.Attributes?.QueueArn) };
  for (const [key, value] of Object.entries(inject('stackEnv'))) vi.stubEnv(key, value);
  vi.stubEnv('PRECIS_QUEUE_INGEST', queueName);
  vi.stubEnv('PRECIS_LOG_LEVEL', 'SILENT');
  // PII keys come from the environment, as on a local stack (a fresh pair per run).
  vi.stubEnv('PRECIS_PII_LOCAL_KEY', randomBytes(32).toString('base64'));
  vi.stubEnv('PRECIS_HMAC_SECRET', randomBytes(32).toString('base64url'));
  ({ handler: ingest } = await import('../../functions/http/ingest.js'));
  ({ handler: openapi } = await import('../../functions/http/openapi.js'));
  ({ handler: archive } = await import('../../functions/queue/archive.js'));
  ({ handler: profiles } = await import('../../functions/queue/profiles.js'));
  // The sample events authenticate with the local demo key; create it here as the local stack does.
  const { apiKeysTable } = await import('../../lib/adapters/dynamodb/apiKeysTable.js');
  const { createApiKey } = await import('../../lib/auth/apiKeys.js');
  await createApiKey(
    { role: 'write', sourceId: 'demo', name: 'sample events' },
    apiKeysTable(h.dynamo, h.config.tables.apiKeys),
    Date.now,
    'local_demo',
  );
});

afterAll(async () => {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.url })).catch(() => {});
  vi.unstubAllEnvs();
});

describe('handlers on the sample events', () => {
  it('ingests, quarantines and archives the samples exactly once, gzip copy included', async () => {
    expect(await call(ingest, 'http/track.json')).toEqual({
      status: 200,
      body: { success: true, accepted: 1, rejected: [] },
    });

    const batch = await call(ingest, 'http/batch.json');
    expect(batch.status).toBe(200);
    expect(batch.body.accepted).toBe(3);
    expect(batch.body.rejected).toEqual([
      expect.objectContaining({
        index: 3,
        messageId: 'evt-batch-0004',
        errors: [
          expect.objectContaining({ path: 'userId', code: 'junk_id' }),
          expect.objectContaining({ path: 'properties.total', code: 'negative_amount' }),
        ],
      }),
    ]);
    // The same batch as API Gateway delivers a gzip body (RudderStack SDKs compress): same answer.
    expect(await call(ingest, 'http/batch-gzip.json')).toEqual(batch);

    // Everything enqueued goes through the archive consumer as one SQS batch.
    const messages = await receiveMessages(sqs, queue.url, 3);
    const event = sqsEvent(messages.map((m) => ({ messageId: String(m.MessageId), body: String(m.Body) })));
    expect(await archive(event, lambdaContext())).toEqual({ batchItemFailures: [] });

    const ids = ['evt-track-0001', 'evt-batch-0001', 'evt-batch-0002', 'evt-batch-0003'];
    const rows = [];
    for await (const r of h.reader.allRecords()) if (ids.includes(r.message_id)) rows.push(r);
    const counts = archivedCounts(rows);
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
    expect([...counts.values()]).toEqual([1, 1, 1, 1]);
    // The identify's e-mail left the edge encrypted, and as a hashed identifier.
    const identify = rows.find((r) => r.message_id === 'evt-batch-0001');
    expect(JSON.stringify(identify)).not.toContain('jane.doe@example.com');
    expect(JSON.parse(identify?.identifiers ?? '[]')).toEqual([
      expect.objectContaining({ type: 'email', mask: 'j***@example.com' }),
    ]);
    const order = rows.find((r) => r.message_id === 'evt-batch-0003');
    expect(order).toMatchObject({
      event: 'Order Completed',
      original_event: 'Completed Order',
      source_id: 'demo',
    });
    expect(JSON.parse(order?.properties ?? '{}')).toEqual({
      order_id: 'o-1001',
      revenue: 99.8,
      currency: 'EUR',
      products: [{ product_id: 'sku-123', price: 49.9, quantity: 2 }],
    });
    // Received when API Gateway got the request (requestContext.timeEpoch, 15:30:00), not when the
    // handler ran; the clock correction starts from there: 15:30:00 - (sentAt 15:29:59 - 15:29:58.120).
    expect(rows.find((r) => r.message_id === 'evt-track-0001')).toMatchObject({
      received_at: '2026-11-22T15:30:00.000Z',
      timestamp: '2026-11-22T15:29:59.120Z',
    });
  });

  it('applies an archive object to identity and profiles, whatever its events name, a poison record failing alone', async () => {
    // Issue 7, defect 2: an event named `constructor` made every write of its profile throw.
    const userId = newId('u-ctor');
    const template = await sample<APIGatewayProxyEventV2>('http/track.json');
    const sent = [
      { event: 'constructor', properties: { valueOf: 1 } },
      {
        event: 'Product Added',
        properties: { product_id: 'toString', category: '__proto__', brand: 'constructor', price: 1 },
      },
    ].map((fields) => ({ ...JSON.parse(template.body ?? '{}'), ...fields, userId, messageId: newId('evt') }));
    for (const body of sent) {
      const res = await ingest(
        { ...template, body: JSON.stringify(body) },
        lambdaContext('precis-test-ingest'),
      );
      expect(res.statusCode).toBe(200);
    }
    // Archive what the queue holds (the first test's messages may be visible again: dedup drops them).
    const keys = new Set<string>();
    const archivedIds = new Set<string>();
    for (let round = 0; archivedIds.size < sent.length && round < 10; round++) {
      const messages = await receiveMessages(sqs, queue.url, 1);
      const batch = sqsEvent(messages.map((m) => ({ messageId: String(m.MessageId), body: String(m.Body) })));
      expect(await archive(batch, lambdaContext())).toEqual({ batchItemFailures: [] });
      for await (const r of h.reader.allRecords()) {
        if (r.user_id !== userId) continue;
        keys.add(r.key);
        archivedIds.add(r.message_id);
      }
    }
    expect(archivedIds.size).toBe(sent.length);

    const notification = JSON.stringify({
      Records: [...keys].map((key) => ({
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: h.config.buckets.archive }, object: { key: encodeURIComponent(key) } },
      })),
    });
    const response = await profiles(
      sqsEvent([
        { messageId: 'poison', body: '{"Records": "not a notification"}' },
        { messageId: 'created', body: notification },
      ]),
      lambdaContext('precis-test-profiles'),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
    const { profilesTable } = await import('../../lib/adapters/dynamodb/profilesTable.js');
    const partial = await profilesTable(h.dynamo, h.config.tables.profiles).get(`user:${userId}`);
    expect(partial?.eventCounts.constructor).toBe(1);
    expect(partial?.eventCounts['Product Added']).toBe(1);
    expect(Object.keys(partial?.categoryAffinity ?? {})).toEqual(['__proto__']);
    expect(Object.keys(partial?.brandAffinity ?? {})).toEqual(['constructor']);
    expect(Object.keys(partial?.cart ?? {})).toEqual(['toString']);
  });

  it('serves the OpenAPI document', async () => {
    const res = await call(openapi, 'http/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
  });
});
