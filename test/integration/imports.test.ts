// Bulk imports against the emulators with the real adapters: the ingest queue (a queue of this file's
// own), the quarantine table, PII protection with the stack's keys, the archive consumer's dedup, the S3
// drop reading the bucket in ranges and writing its report, and the upload handler as Lambda runs it.
import { createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, type Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { apiKeysTable } from '../../lib/adapters/dynamodb/apiKeysTable.js';
import { quarantineTable } from '../../lib/adapters/dynamodb/quarantineTable.js';
import { s3ImportObjects } from '../../lib/adapters/s3/importObjects.js';
import { reportsBucket } from '../../lib/adapters/s3/reportsBucket.js';
import { eventQueue } from '../../lib/adapters/sqs/eventQueue.js';
import { archiveBatch } from '../../lib/archive/archiveBatch.js';
import { createApiKey } from '../../lib/auth/apiKeys.js';
import { createDynamoDb, createKms, createS3, createSqs } from '../../lib/aws/clients.js';
import { importDroppedObjects } from '../../lib/imports/drop.js';
import { type ImportDeps, importFile } from '../../lib/imports/importFile.js';
import { ImportReport } from '../../lib/imports/model.js';
import { parseEnvelope } from '../../lib/ingest/envelope.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { isPiiToken } from '../../lib/pii/cipher.js';
import { piiFor } from '../../lib/runtime.js';
import { newId, recordingLogger } from '../support/archiveFixtures.js';
import { archivedCounts, archiveHarness } from '../support/archiveHarness.js';
import { createTestQueue, lambdaContext, receiveMessages } from '../support/archiveQueues.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const sqs = createSqs(config);
const dynamo = createDynamoDb(config);
const s3 = createS3(config);
const h = archiveHarness(config);
const quarantine = quarantineTable(dynamo, config.tables.quarantine, config.quarantineRetentionDays);
const pii = piiFor(config, { dynamodb: dynamo, kms: () => createKms(config) });
const secret = config.pii.hmacSecret ?? '';

afterAll(() => {
  sqs.destroy();
  dynamo.destroy();
  s3.destroy();
  h.close();
});

/** What lib/runtime.ts builds for the import functions, with the ingest queue of one test. */
function importDeps(queueName: string): ImportDeps {
  return {
    ingest: {
      sink: eventQueue(sqs, queueName),
      quarantine,
      quality: config.quality,
      log: recordingLogger().log,
      now: Date.now,
      protect: pii.protect,
      sealPayload: pii.sealPayload,
    },
    secret: async () => secret,
    now: Date.now,
  };
}

const hmac = (label: string, value: string) =>
  createHmac('sha256', secret).update(`${label}:${value}`).digest().subarray(0, 16).toString('base64url');

function eventsOf(messages: readonly Message[]): NormalizedEvent[] {
  return messages.flatMap((m) => {
    const parsed = parseEnvelope(m.Body ?? '');
    if (!parsed.ok) throw new Error(`queued message is not an envelope: ${parsed.reason}`);
    return parsed.envelope.events;
  });
}

/** Every event on a queue: receives until `count` arrived (and once more, so extras show). */
async function queued(
  queueUrl: string,
  count: number,
): Promise<{ events: NormalizedEvent[]; messages: Message[] }> {
  const messages: Message[] = [];
  while (eventsOf(messages).length < count) {
    messages.push(...(await receiveMessages(sqs, queueUrl, 1)));
  }
  return { events: eventsOf(messages), messages };
}

describe('importFile through the real pipeline', () => {
  it('enqueues exactly the expected events, reports bad rows, quarantines a rejected row', async () => {
    const queue = await createTestQueue(sqs);
    const source = newId('crm');
    const run = newId('r');
    const jane = `jane.${run}@example.com`;
    const bob = `bob.${run}@example.com`;
    const csv = [
      'Customer ID,E-mail,First Name,Plan,City,Country,Updated At',
      `c1-${run},${jane.toUpperCase()},Jane,gold,Paris,FR,2025-03-01 10:00`,
      `,${bob},Bob,silver,,,`,
      ',,Nobody,,,,',
      'null,x@example.com,Placeholder,,,,',
      `c5-${run},eve@example.com,Eve,,,,next tuesday`,
    ].join('\r\n');
    const before = Date.now();
    const report = await importFile(
      { type: 'customers', sourceId: source, format: 'csv', body: [csv], file: 'crm.csv' },
      importDeps(queue.name),
    );
    expect(report).toMatchObject({
      type: 'customers',
      source,
      file: 'crm.csv',
      status: 'completed',
      rows: 5,
      skipped: 2,
      events: 3,
      accepted: 2,
      rejected: 1,
      errorCount: 3,
    });
    expect(report.errors).toEqual([
      { row: 3, field: 'customer_id', code: 'required', reason: expect.any(String) },
      {
        row: 4,
        field: 'userId',
        code: 'junk_id',
        reason: expect.any(String),
        quarantineId: expect.any(String),
      },
      { row: 5, field: 'updated_at', code: 'invalid_date', reason: expect.stringContaining('next tuesday') },
    ]);

    const { events, messages } = await queued(queue.url, 2);
    expect(events).toHaveLength(2);
    for (const m of messages) expect(m.Body?.toLowerCase()).not.toContain(jane);
    const [first, second] = events;
    expect(first).toMatchObject({
      type: 'identify',
      userId: `c1-${run}`,
      sourceId: source,
      timestamp: '2025-03-01T10:00:00.000Z',
      traits: { plan: 'gold', address: { country: 'FR' } },
      identifiers: [{ type: 'email', hash: hmac('email', jane), mask: 'j***@example.com' }],
    });
    expect(first?.sentAt).toBeUndefined();
    expect(isPiiToken(first?.traits?.email) && isPiiToken(first?.traits?.firstName)).toBe(true);
    expect(await pii.cipher.decrypt(String(first?.traits?.email))).toBe(jane);
    // E-mail only: a keyed anonymousId, timed by the upload.
    expect(second).toMatchObject({
      type: 'identify',
      anonymousId: `import-${hmac('import-email', bob)}`,
      traits: { plan: 'silver' },
      identifiers: [{ type: 'email', hash: hmac('email', bob) }],
    });
    expect(second?.userId).toBeUndefined();
    expect(Date.parse(second?.timestamp ?? '')).toBeGreaterThanOrEqual(before);

    const quarantineId = report.errors[1]?.quarantineId ?? '';
    const entry = await quarantine.get(quarantineId);
    expect(entry).toMatchObject({ sourceId: source, reasons: [{ path: 'userId', code: 'junk_id' }] });
    const payload = JSON.parse(await pii.openPayload(entry?.payload ?? ''));
    expect(payload).toMatchObject({ userId: 'null', traits: { firstName: 'Placeholder' } });
  });

  it('enqueues the same messageIds for the same file uploaded twice; the archive keeps each once', async () => {
    const queue = await createTestQueue(sqs);
    const source = newId('erp');
    const csv = [
      'order_id,customer_id,email,order_date,status,sku,price,quantity,currency',
      'A,c1,,2025-01-10 09:00,paid,p1,10,2,EUR',
      'B,,ann@example.com,2025-01-11,refunded,p2,7.5,1,EUR',
      'A,c1,,2025-01-10 09:00,paid,p3,5,1,EUR',
      'C,c2,,2025-01-12,pending,p4,1,1,EUR',
    ].join('\n');
    const input = { type: 'orders' as const, sourceId: source, format: 'csv' as const, body: [csv] };
    const first = await importFile(input, importDeps(queue.name));
    const second = await importFile(input, importDeps(queue.name));
    for (const report of [first, second]) {
      expect(report).toMatchObject({ rows: 4, skipped: 1, events: 3, accepted: 3, rejected: 0 });
      expect(report.errors).toEqual([
        { row: 4, field: 'status', code: 'invalid_status', reason: expect.any(String) },
      ]);
    }
    const { events, messages } = await queued(queue.url, 6);
    const ids = [
      `import-order-${source}-A-completed`,
      `import-order-${source}-B-completed`,
      `import-order-${source}-B-refunded`,
    ];
    expect(events.map((e) => e.messageId).sort()).toEqual([...ids, ...ids].sort());
    const a = events.find((e) => e.messageId === ids[0]);
    expect(a).toMatchObject({
      event: 'Order Completed',
      userId: 'c1',
      properties: { order_id: 'A', revenue: 25 },
    });
    const refund = events.find((e) => e.messageId === ids[2]);
    expect(refund).toMatchObject({
      event: 'Order Refunded',
      anonymousId: `import-${hmac('import-email', 'ann@example.com')}`,
      properties: { order_id: 'B', total: 7.5, currency: 'EUR' },
      identifiers: [{ type: 'email', hash: hmac('email', 'ann@example.com') }],
    });

    // Both deliveries through the archive consumer: each event archived once.
    const result = await archiveBatch(
      messages.map((m) => ({ id: String(m.MessageId), body: String(m.Body) })),
      h.deps(),
    );
    expect(result.failedRecordIds).toEqual([]);
    const rows = await h.archivedRows(source, [new Date().toISOString().slice(0, 10)]);
    const counts = archivedCounts(rows);
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
  });
});

describe('the S3 drop', () => {
  it('reads a gzip file from the bucket in ranges, imports it for the source of its path, writes the report', async () => {
    const queue = await createTestQueue(sqs);
    const source = newId('pos');
    const key = `imports/${source}/orders/2025 orders.csv.gz`;
    const lines = Array.from(
      { length: 30 },
      (_, i) => `o${i % 10},u${i % 10},2025-02-0${1 + (i % 9)},sku${i},1.5,2`,
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: config.buckets.archive,
        Key: key,
        Body: gzipSync(
          ['order_id,user_id,order_date,sku,price,quantity', ...lines, 'o10,,2025-02-01,x,1,1'].join('\n'),
        ),
      }),
    );
    const notification = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: config.buckets.archive }, object: { key: key.replaceAll(' ', '+') } },
        },
      ],
    };
    const result = await importDroppedObjects([{ id: 'rec-1', body: JSON.stringify(notification) }], {
      imports: importDeps(queue.name),
      // 64-byte ranges: the gzip stream arrives in many pieces.
      objects: s3ImportObjects(s3, 64),
      reports: reportsBucket(s3, config.buckets.archive),
      log: recordingLogger().log,
    });
    const reportKey = `reports/${key}.json`;
    expect(result).toEqual({ failedRecordIds: [], reports: [reportKey] });
    const out = await s3.send(new GetObjectCommand({ Bucket: config.buckets.archive, Key: reportKey }));
    const report = ImportReport.parse(
      JSON.parse(await (out.Body?.transformToString() ?? Promise.resolve('{}'))),
    );
    expect(report).toMatchObject({
      type: 'orders',
      source,
      file: key,
      rows: 31,
      skipped: 1,
      events: 10,
      accepted: 10,
      errors: [{ row: 31, field: 'user_id', code: 'required' }],
    });
    const { events } = await queued(queue.url, 10);
    expect(events).toHaveLength(10);
    // Each order has three lines (rows i, i+10, i+20) of 1.5 × 2.
    for (const e of events) {
      expect(e.sourceId).toBe(source);
      expect(e.properties).toMatchObject({ revenue: 9, products: [{}, {}, {}] });
      expect(e.properties?.products).toHaveLength(3);
    }
  });
});

describe('POST /v1/imports (the handler as Lambda runs it)', () => {
  type HttpHandler = (e: APIGatewayProxyEventV2, c: Context) => Promise<APIGatewayProxyStructuredResultV2>;
  let handler: HttpHandler;
  let queueUrl: string;
  let writeKey: string;
  const source = newId('upload');

  beforeAll(async () => {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: newId('precis-imports-http') }));
    queueUrl = String(created.QueueUrl);
    for (const [k, v] of Object.entries(inject('stackEnv'))) vi.stubEnv(k, v);
    vi.stubEnv('PRECIS_QUEUE_INGEST', queueUrl.split('/').pop() ?? '');
    vi.stubEnv('PRECIS_LOG_LEVEL', 'SILENT');
    ({ handler } = await import('../../functions/http/imports.js'));
    writeKey = (
      await createApiKey(
        { role: 'write', sourceId: source, name: 'imports test' },
        apiKeysTable(dynamo, config.tables.apiKeys),
      )
    ).key;
  });
  afterAll(async () => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {});
    vi.unstubAllEnvs();
  });

  function post(
    body: string,
    headers: Record<string, string>,
    query: Record<string, string> = { type: 'customers' },
  ) {
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: 'POST /v1/imports',
      rawPath: '/v1/imports',
      rawQueryString: new URLSearchParams(query).toString(),
      queryStringParameters: query,
      headers: { authorization: `Bearer ${writeKey}`, ...headers },
      requestContext: {
        accountId: '123456789012',
        apiId: 'api',
        domainName: 'api.example.com',
        domainPrefix: 'api',
        http: {
          method: 'POST',
          path: '/v1/imports',
          protocol: 'HTTP/1.1',
          sourceIp: '203.0.113.9',
          userAgent: 't',
        },
        requestId: 'req',
        routeKey: 'POST /v1/imports',
        stage: '$default',
        time: '01/Jan/2026:00:00:00 +0000',
        timeEpoch: Date.now(),
      },
      body,
      isBase64Encoded: false,
    };
    return handler(event, lambdaContext('precis-test-imports', 29_000)).then((res) => ({
      status: res.statusCode,
      body: JSON.parse(res.body ?? '{}') as Record<string, unknown>,
    }));
  }

  it('imports a CSV body for the key source and answers with the report', async () => {
    const res = await post('user_id,plan\nu1,gold\n,none\n', { 'content-type': 'text/csv' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source, rows: 2, accepted: 1, errors: [{ row: 2, code: 'required' }] });
    const [message] = await receiveMessages(sqs, queueUrl, 1);
    expect(eventsOf(message ? [message] : [])).toEqual([
      expect.objectContaining({ userId: 'u1', sourceId: source }),
    ]);
  });

  it('answers 400 with the report, 415 for other types, 413 pointing to the S3 drop, 401 without a key', async () => {
    const none = await post('user_id\n\n', { 'content-type': 'text/csv' });
    expect(none).toMatchObject({ status: 400, body: { error: 'nothing_imported', details: { rows: 0 } } });
    const ndjsonWithoutType = await post('{"user_id":"u"}', { 'content-type': 'application/json' });
    expect(ndjsonWithoutType).toMatchObject({ status: 415, body: { error: 'unsupported_media_type' } });
    const big = await post(`user_id\n${'u\n'.repeat(2.7 * 1024 * 1024)}`, { 'content-type': 'text/csv' });
    expect(big.status).toBe(413);
    expect(big.body.message).toContain('imports/<source>/<customers|orders>/');
    expect(big.body.message).toContain('5 MB');
    const missingType = await post('user_id\nu1', { 'content-type': 'text/csv' }, {});
    expect(missingType).toMatchObject({ status: 400, body: { details: [{ path: 'type' }] } });
    const anonymous = await post('user_id\nu1', { 'content-type': 'text/csv', authorization: '' });
    expect(anonymous.status).toBe(401);
  });
});
