// Fuzz: generated hostile and malformed requests on every HTTP route that serverless.yml deploys, each one
// run through the deployed handler (its whole middleware stack, config from the environment) against the
// real emulators. No request may get a 5xx, every rejection names a reason (and, for a 400, the path of
// what was wrong), and what the requests put on the queues must then pass the archive and profiles
// consumers without one failed record: no poisoned queue.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { apiKeysTable } from '../../lib/adapters/dynamodb/apiKeysTable.js';
import { createApiKey, type Role } from '../../lib/auth/apiKeys.js';
import { createDynamoDb, createSqs } from '../../lib/aws/clients.js';
import { projectRoot } from '../../lib/projectRoot.js';
import { readBody } from '../../lib/queue/eachRecord.js';
import { RunRequest } from '../../lib/segmentation/model.js';
import { loadServiceDefinition } from '../../local/service.js';
import { newId } from '../support/archiveFixtures.js';
import { archiveHarness } from '../support/archiveHarness.js';
import { createTestQueue, lambdaContext, type TestQueue } from '../support/archiveQueues.js';
import { testConfig } from '../support/provided.js';
import { type HttpHandler, receivedMessages, type SqsHandler, sqsEvent } from '../support/sqsEvents.js';

interface Route {
  readonly method: string;
  readonly path: string;
  readonly functionKey: string;
  readonly handler: HttpHandler;
}

/** 10,000 requests in all, spread over the routes by the generator. */
const RUNS = 10_000;

const sourceId = newId('fuzz');
const keys: Partial<Record<Role, string>> = {};
const queues: Record<string, TestQueue> = {};
let routes: Route[] = [];
const fuzzStart = Date.now();

/** Queues, keys and handlers of this file's own; inside the test, so the queues go when it ends. */
async function setUp(): Promise<void> {
  const config = testConfig();
  const sqs = createSqs(config);
  // Queues of this file's own, so that what the fuzz enqueues is drained here and nowhere else.
  for (const name of ['INGEST', 'IMPORTS', 'SEGMENTATION', 'SEGMENT_CHANGES', 'PROFILES']) {
    queues[name] = await createTestQueue(sqs, {}, `precis-fuzz-${name.toLowerCase()}`);
  }
  for (const [key, value] of Object.entries(inject('stackEnv'))) vi.stubEnv(key, value);
  for (const [name, queue] of Object.entries(queues)) vi.stubEnv(`PRECIS_QUEUE_${name}`, queue.name);
  vi.stubEnv('PRECIS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('PRECIS_PII_LOCAL_KEY', randomBytes(32).toString('base64'));
  vi.stubEnv('PRECIS_HMAC_SECRET', randomBytes(32).toString('base64url'));

  const store = apiKeysTable(createDynamoDb(config), config.tables.apiKeys);
  for (const role of ['write', 'read', 'admin'] as const) {
    keys[role] = (await createApiKey({ role, sourceId, name: `fuzz ${role}` }, store)).key;
  }

  const def = await loadServiceDefinition('local');
  for (const [functionKey, fn] of Object.entries(def.functions)) {
    const [modulePath, exportName] = splitHandler(fn.handler);
    for (const event of fn.events) {
      const http = event.httpApi as { method?: string; path?: string } | undefined;
      if (!http?.method || !http.path) continue;
      const module = (await import(/* @vite-ignore */ join(projectRoot(), `${modulePath}.ts`))) as Record<
        string,
        HttpHandler
      >;
      const handler = module[exportName];
      if (!handler) throw new Error(`${fn.handler} exports no ${exportName}`);
      routes.push({ method: http.method, path: http.path, functionKey, handler });
    }
  }
  routes = routes.sort((a, b) => `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`));
}

afterAll(() => {
  vi.unstubAllEnvs();
});

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

// ---- generators ---------------------------------------------------------------------------------

const hostileConstants = [
  '%25',
  '%',
  '%zz',
  '%2F',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  ' ',
  '\u0000',
  '\u0000\u0000',
  '../..',
  'null',
  'undefined',
  '0',
  'a/b',
  '🙂',
  '\ud800',
  'cus_',
  'crm:',
  'jane.doe@example.com',
  '+33 6 12 34 56 78',
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 3, arbitrary: fc.constantFrom(...hostileConstants) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 6_000 }).map((n) => 'é'.repeat(n)) },
);

const timestamp = fc.oneof(
  fc
    .date({ min: new Date('1990-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '2024-02-30T00:00:00Z',
    '1970-01-01T00:00:00Z',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    'yesterday',
    '',
  ),
  fc.integer(),
);

const hostileMap = fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });

const segmentEvent = fc.record(
  {
    type: fc.constantFrom('track', 'identify', 'page', 'screen', 'group', 'alias', 'nope'),
    userId: fc.oneof(hostileString, fc.integer(), fc.constant(null)),
    anonymousId: hostileString,
    previousId: hostileString,
    groupId: hostileString,
    messageId: fc.oneof(fc.uuid(), hostileString),
    event: fc.oneof(
      hostileString,
      fc.constantFrom('Order Completed', 'Product Added', 'Product Viewed', 'Checkout Started'),
    ),
    name: hostileString,
    timestamp,
    originalTimestamp: timestamp,
    sentAt: timestamp,
    properties: fc.oneof(
      hostileMap,
      fc.record({
        order_id: hostileString,
        revenue: fc.oneof(fc.double(), fc.string()),
        products: fc.array(
          fc.record({ product_id: hostileString, category: hostileString, price: fc.double() }),
          {
            maxLength: 3,
          },
        ),
      }),
    ),
    traits: hostileMap,
    context: fc.record(
      {
        ip: fc.oneof(fc.ipV4(), fc.ipV6(), hostileString),
        timezone: hostileString,
        page: fc.record({ url: fc.oneof(fc.webUrl({ withQueryParameters: true }), hostileString) }),
        traits: hostileMap,
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

/** `{"userId":"u","event":"e","properties":{"a":{"a":…1…}}}` nested `depth` levels, built as text. */
const deeplyNested = (depth: number) =>
  `{"userId":"deep","event":"Deep","properties":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;

interface GeneratedBody {
  readonly text?: string;
  readonly bytes?: Buffer;
  readonly contentType?: string;
  readonly contentEncoding?: string;
}

const jsonBody = (value: unknown): GeneratedBody => ({
  text: JSON.stringify(value),
  contentType: 'application/json',
});

const contentTypes = fc.constantFrom(
  'application/json',
  'text/plain',
  'text/csv',
  'application/x-ndjson',
  '',
);

const plainBody: fc.Arbitrary<GeneratedBody> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<GeneratedBody>({}) },
  { weight: 4, arbitrary: segmentEvent.map(jsonBody) },
  {
    weight: 3,
    arbitrary: fc
      .record({ batch: fc.array(segmentEvent, { maxLength: 5 }), writeKey: fc.option(hostileString) })
      .map(jsonBody),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map(jsonBody) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        asOf: hostileString,
        mergeId: hostileString,
        event: fc.option(segmentEvent),
        format: hostileString,
        source: hostileString,
      })
      .map(jsonBody),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(31, 32, 33, 200, 5_000, 100_000)
      .map((d) => ({ text: deeplyNested(d), contentType: 'application/json' })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ text: fc.string({ maxLength: 200 }), contentType: contentTypes }),
  },
  {
    weight: 1,
    arbitrary: fc.constant<GeneratedBody>({ text: 'x'.repeat(600_000), contentType: 'application/json' }),
  },
);

const body: fc.Arbitrary<GeneratedBody> = fc.oneof(
  { weight: 5, arbitrary: plainBody },
  {
    weight: 1,
    arbitrary: plainBody.map((b) => ({
      bytes: gzipSync(Buffer.from(b.text ?? '')),
      contentType: b.contentType,
      contentEncoding: 'gzip',
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 300 })
      .map((a) => ({ bytes: Buffer.from(a), contentType: 'application/json', contentEncoding: 'gzip' })),
  },
);

const authorization = fc.oneof(
  { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom<Role>('write', 'read', 'admin')
      .map((role) => `Basic ${Buffer.from(`${keys[role]}:`).toString('base64')}`),
  },
  { weight: 1, arbitrary: hostileString.map((s) => `Basic ${Buffer.from(`${s}:`).toString('base64')}`) },
  { weight: 1, arbitrary: hostileString.map((s) => `Basic ${s}`) },
  { weight: 1, arbitrary: hostileString.map((s) => `Bearer ${s}`) },
);

const query = fc.dictionary(
  fc.oneof(
    fc.constantFrom('limit', 'cursor', 'reveal', 'status', 'source', 'asOf', 'before', 'run'),
    hostileString,
  ),
  fc.oneof(hostileString, fc.constantFrom('pii', '1', '0', '-1', '100000', 'true')),
  { maxKeys: 3 },
);

interface GeneratedRequest {
  readonly route: Route;
  readonly id: string;
  readonly authorization: string | undefined;
  readonly query: Record<string, string>;
  readonly body: GeneratedBody;
}

const request = (): fc.Arbitrary<GeneratedRequest> =>
  fc.record({
    route: fc.constantFrom(...routes),
    id: hostileString,
    authorization,
    query,
    body,
  });

// ---- requests as API Gateway (HTTP API, payload v2) hands them to a function ----------------------

function encodeSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value; // a lone surrogate cannot be percent-encoded; a client would send it mangled
  }
}

function eventOf(r: GeneratedRequest): APIGatewayProxyEventV2 {
  const hasId = r.route.path.includes('{id}');
  const rawPath = r.route.path.replace('{id}', encodeSegment(r.id));
  const headers: Record<string, string> = { host: 'fuzz.execute-api.eu-west-1.amazonaws.com' };
  if (r.authorization !== undefined) headers.authorization = r.authorization;
  if (r.body.contentType) headers['content-type'] = r.body.contentType;
  if (r.body.contentEncoding) headers['content-encoding'] = r.body.contentEncoding;
  const rawQueryString = new URLSearchParams(Object.entries(r.query)).toString();
  const binary = r.body.bytes !== undefined;
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: `${r.route.method} ${r.route.path}`,
    rawPath,
    rawQueryString,
    headers,
    queryStringParameters: Object.keys(r.query).length > 0 ? { ...r.query } : undefined,
    pathParameters: hasId ? { id: r.id } : undefined,
    requestContext: {
      accountId: '123456789012',
      apiId: 'fuzz',
      domainName: headers.host as string,
      domainPrefix: 'fuzz',
      http: {
        method: r.route.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.9',
        userAgent: 'fast-check',
      },
      requestId: newId('fuzzreq'),
      routeKey: `${r.route.method} ${r.route.path}`,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: binary ? r.body.bytes?.toString('base64') : r.body.text,
    isBase64Encoded: binary,
  };
}

// ---- what every answer must be --------------------------------------------------------------------

/** What is wrong with an answer (empty when nothing is). */
function problemsOf(res: APIGatewayProxyStructuredResultV2): string[] {
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 500) return [`status ${status}: ${res.body?.slice(0, 200)}`];
  let parsed: Record<string, unknown> | null;
  try {
    parsed = res.body ? (JSON.parse(res.body) as Record<string, unknown> | null) : null;
  } catch {
    return [`status ${status} with a body that is not JSON`];
  }
  if (parsed === null) return status >= 400 ? [`status ${status} without a body`] : [];
  const problems = status >= 400 ? errorBodyProblems(status, parsed, res.body ?? '') : [];
  const unnamed = rejectionsOf(parsed).some(
    (r) =>
      r.errors.length === 0 ||
      !r.errors.every((i) => typeof i.path === 'string' && String(i.message ?? '').length > 0),
  );
  return unnamed ? [...problems, 'a rejected event without path and reason'] : problems;
}

/** An error answer has the one error shape, and a 400 names the path of what was wrong. */
function errorBodyProblems(status: number, parsed: Record<string, unknown>, raw: string): string[] {
  const problems: string[] = [];
  if (typeof parsed.error !== 'string') problems.push(`status ${status} without an error code`);
  if (String(parsed.message ?? '').length === 0) problems.push(`status ${status} without a message`);
  if (status === 400 && !namesPaths(parsed)) {
    problems.push(`400 ${String(parsed.error)} names no path: ${raw.slice(0, 200)}`);
  }
  return problems;
}

/** A failing request, short enough to read. */
function describeRequest(r: GeneratedRequest): string {
  const body =
    r.body.text ?? (r.body.bytes ? `<${r.body.bytes.length} bytes ${r.body.contentEncoding}>` : '');
  return JSON.stringify({
    id: r.id.length > 60 ? `${r.id.slice(0, 20)}…(${r.id.length} chars)` : r.id,
    auth: r.authorization?.slice(0, 30),
    query: r.query,
    body: body.length > 300 ? `${body.slice(0, 300)}…(${body.length} chars)` : body,
  });
}

/** Whole-body errors (not JSON, not gzip) have no field to name: their message is the reason. */
const WHOLE_BODY_ERRORS = new Set(['malformed_json', 'malformed_body', 'unsupported_media_type']);

function namesPaths(body: Record<string, unknown>): boolean {
  if (WHOLE_BODY_ERRORS.has(String(body.error))) return true;
  const details = body.details as unknown;
  const issues = Array.isArray(details)
    ? details
    : Array.isArray((details as { rejected?: unknown })?.rejected)
      ? (details as { rejected: { errors: unknown[] }[] }).rejected.flatMap((r) => r.errors)
      : [];
  return (
    issues.length > 0 &&
    issues.every(
      (i) =>
        typeof (i as { path?: unknown }).path === 'string' &&
        String((i as { message?: unknown }).message ?? '').length > 0,
    )
  );
}

function rejectionsOf(
  body: Record<string, unknown> | null,
): { errors: { path: unknown; message: unknown }[] }[] {
  const rejected = body?.rejected;
  return Array.isArray(rejected) ? (rejected as { errors: { path: unknown; message: unknown }[] }[]) : [];
}

// ---- draining what the fuzz enqueued ----------------------------------------------------------------

async function drainThrough(queue: TestQueue, handler: SqsHandler, functionName: string): Promise<number> {
  const sqs = createSqs(testConfig());
  let total = 0;
  for (;;) {
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return total;
    const event = sqsEvent(receivedMessages(messages), {
      arn: queue.arn,
      region: 'eu-west-1',
      senderId: 'fuzz',
    });
    const out = await handler(event, lambdaContext(functionName, 120_000));
    expect(out.batchItemFailures, `${functionName} failed records`).toEqual([]);
    total += messages.length;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: String(m.ReceiptHandle) })),
      }),
    );
  }
}

/** The archive objects holding this file's events: the S3 notifications the profiles feed would get. */
async function archivedObjectsOfSource(): Promise<string[]> {
  const harness = archiveHarness(testConfig());
  const days = [fuzzStart, Date.now()].map((t) => new Date(t).toISOString().slice(0, 10));
  const rows = await harness.archivedRows(sourceId, days);
  harness.close();
  return [...new Set(rows.map((r) => r.key))];
}

describe('fuzz: every route, generated hostile requests', () => {
  it(`answers ${RUNS} requests with no 5xx, each rejection with a reason, and poisons no queue`, async () => {
    await setUp();
    const statuses = new Map<number, number>();
    const failures = new Map<string, string>();
    const perRoute = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(request(), async (r) => {
        const res = await r.route.handler(
          eventOf(r),
          lambdaContext(`precis-fuzz-${r.route.functionKey}`, 30_000),
        );
        const status = res.statusCode ?? 0;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const routeKey = `${r.route.method} ${r.route.path}`;
        perRoute.set(routeKey, (perRoute.get(routeKey) ?? 0) + 1);
        for (const problem of problemsOf(res)) {
          // One example per route and kind of problem: a report to read, not 10,000 lines.
          const signature = `${routeKey}: ${problem.replace(/"requestId":"[^"]*"/, '').slice(0, 160)}`;
          if (!failures.has(signature)) failures.set(signature, describeRequest(r));
        }
      }),
      { numRuns: RUNS, seed: 20261206 },
    );
    expect(Object.fromEntries(failures)).toEqual({});
    // Every route was reached, and the generators reached past authentication to success and rejection.
    expect([...perRoute.keys()].length).toBe(routes.length);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);

    // What was accepted passes the archive consumer, and the archived objects the profiles consumer.
    const { handler: archive } = await import('../../functions/queue/archive.js');
    const archived = await drainThrough(queues.INGEST as TestQueue, archive, 'precis-fuzz-archive');
    expect(archived).toBeGreaterThan(0);
    const config = testConfig();
    const objectKeys = await archivedObjectsOfSource();
    expect(objectKeys.length).toBeGreaterThan(0);
    const sqs = createSqs(config);
    for (let i = 0; i < objectKeys.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: (queues.PROFILES as TestQueue).url,
          Entries: objectKeys.slice(i, i + 10).map((key, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify({
              Records: [
                {
                  eventName: 'ObjectCreated:Put',
                  s3: { bucket: { name: config.buckets.archive }, object: { key: encodeURIComponent(key) } },
                },
              ],
            }),
          })),
        }),
      );
    }
    const { handler: profiles } = await import('../../functions/queue/profiles.js');
    expect(await drainThrough(queues.PROFILES as TestQueue, profiles, 'precis-fuzz-profiles')).toBe(
      objectKeys.length,
    );
    // Run requests the fuzz queued are what the runner reads: each parses as a RunRequest (executing
    // them would be whole segmentation runs over the shared test archive; the runner's own tests do).
    const runRequests = await drainThrough(
      queues.SEGMENTATION as TestQueue,
      async (event) => {
        for (const record of event.Records) readBody({ id: record.messageId, body: record.body }, RunRequest);
        return { batchItemFailures: [] };
      },
      'precis-fuzz-segmentation',
    );
    expect(runRequests).toBeGreaterThan(0);
  }, 900_000);
});
