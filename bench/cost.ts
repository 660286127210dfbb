// npm run bench:cost [-- --events N] [--batch-size N] [--archive-batch N] [--rees46-share F] [--json]
// What a million events cost on AWS, from what the real code does: a sample of the real datasets goes
// through the deployed handlers in-process (ingest HTTP handler with API Gateway v2 events, the archive
// consumer on what landed on the ingest queue, the profiles consumer on S3 notifications of the archived
// objects) against the emulators, and a middleware on the functions' shared AWS clients
// (hookSharedClients) counts every call: per service and operation, payload bytes, DynamoDB items with
// their sizes by DynamoDB's formula and the write/read units they cost, handler durations and log bytes.
// The counts are scaled to 1,000,000 events and priced with the list prices below (docs/cost.md).
//
// Two processes: this one starts the emulators and provisions them from serverless.yml; a child started
// with the stack's environment (the functions read their configuration from it, as in Lambda) runs the
// handlers and sends its counts back. The child's stdout is the functions' log output, counted by bytes.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { parseArgs, promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { MetadataBearer, MiddlewareStack } from '@smithy/types';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { z } from 'zod';
import { apiKeysTable } from '../lib/adapters/dynamodb/apiKeysTable.js';
import { createApiKey } from '../lib/auth/apiKeys.js';
import {
  createDynamoDb,
  createDynamoDbClient,
  createS3,
  createSqs,
  hookSharedClients,
} from '../lib/aws/clients.js';
import { type Config, config, parseConfig } from '../lib/config.js';
import {
  datasetPath,
  datasetsAvailable,
  onlineRetailEvents,
  onlineRetailIdentifies,
  rees46Events,
} from '../lib/datasets/index.js';
import type { SpecEventInput } from '../lib/ingest/spec.js';
import { startEmulators } from '../local/emulators.js';
import { provision } from '../local/provision.js';
import { loadServiceDefinition, OSLS_BIN, PROJECT_ROOT } from '../local/service.js';
import { localSecrets } from '../local/stack.js';

const { values } = parseArgs({
  options: {
    worker: { type: 'boolean', default: false },
    events: { type: 'string', default: '10000' },
    /** Events per request: analytics-node flushes 15 by default; analytics.js in a browser sends 1. */
    'batch-size': { type: 'string', default: '15' },
    /** Share of REES46 (web browsing) events; default: the demo's mix of the two datasets. */
    'rees46-share': { type: 'string' },
    /** Messages per archive invocation (serverless.yml: 10); more needs a batching window, as on AWS. */
    'archive-batch': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

// ---------------------------------------------------------------------------------------------------
// List prices, us-east-1, without free tiers (as of 2026; update here and in docs/cost.md).

const PRICES = {
  region: 'us-east-1',
  apiRequest: { usd: 1.0 / 1e6, what: 'API Gateway HTTP API, per request (each 512 KB counts as one)' },
  lambdaRequest: { usd: 0.2 / 1e6, what: 'Lambda, per invocation' },
  lambdaGbSecondArm: { usd: 0.0000133334, what: 'Lambda arm64, per GB-second' },
  sqsRequest: { usd: 0.4 / 1e6, what: 'SQS standard, per request (each 64 KB chunk counts as one)' },
  dynamoWrite: { usd: 0.625 / 1e6, what: 'DynamoDB on-demand, per write request unit (1 KB)' },
  dynamoRead: { usd: 0.125 / 1e6, what: 'DynamoDB on-demand, per read request unit (4 KB consistent)' },
  dynamoStorage: { usd: 0.25, what: 'DynamoDB storage, per GB-month' },
  dynamoPitr: { usd: 0.2, what: 'DynamoDB point-in-time recovery, per GB-month' },
  s3Put: { usd: 0.005 / 1000, what: 'S3 Standard PUT, COPY, POST, LIST, per request' },
  s3Get: { usd: 0.0004 / 1000, what: 'S3 Standard GET, HEAD and others, per request' },
  s3Storage: { usd: 0.023, what: 'S3 Standard storage, per GB-month' },
  logsIngest: { usd: 0.5, what: 'CloudWatch Logs ingestion (Lambda logs), per GB' },
  logsStorage: { usd: 0.03, what: 'CloudWatch Logs storage, per GB-month (compressed)' },
  kmsKey: { usd: 1.0, what: 'KMS customer-managed key, per month' },
  kmsRequest: { usd: 0.03 / 10_000, what: 'KMS, per request' },
  secret: { usd: 0.4, what: 'Secrets Manager, per secret-month' },
  secretRequest: { usd: 0.05 / 10_000, what: 'Secrets Manager, per API call' },
  alarm: { usd: 0.1, what: 'CloudWatch alarm (standard resolution, one metric), per month' },
} as const;

/** Assumptions that no local run can measure; each is stated in docs/cost.md. */
const ASSUMED = {
  /** START, END and REPORT lines Lambda writes per invocation (text format). */
  platformLogBytesPerInvocation: 300,
  /** An idle SQS event source mapping long-polls with 5 pollers, a 20 s receive each (3/min each). */
  idleReceivesPerQueueMonth: 5 * 3 * 60 * 24 * 30,
  /** Execution environments started per million events (each fetches the HMAC secret, makes a data key). */
  environmentStartsPerMillion: 100,
  /** DynamoDB's per-item storage overhead. */
  dynamoItemOverheadBytes: 100,
};

const MB = 1024 * 1024;
const GB = 1024 * MB;

// ---------------------------------------------------------------------------------------------------
// DynamoDB's item size: attribute names plus values (UTF-8 strings, ~1 byte per 2 significant digits + 1
// for numbers, 1 byte for booleans and nulls, 3 bytes plus 1 per element for lists and maps).

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

function numberSize(n: string): number {
  const digits = n.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '');
  const significant = digits.replace(/0+$/, '').length || 1;
  return Math.ceil(significant / 2) + 1 + (n.startsWith('-') ? 1 : 0);
}

const binarySize = (b: unknown) =>
  b instanceof Uint8Array ? b.byteLength : typeof b === 'string' ? Buffer.from(b, 'base64').length : 0;

function valueSize(v: AttributeValue | Record<string, unknown>): number {
  const a = v as Record<string, unknown>;
  if (typeof a.S === 'string') return utf8(a.S);
  if (typeof a.N === 'string') return numberSize(a.N);
  if (a.B !== undefined) return binarySize(a.B);
  if (a.BOOL !== undefined || a.NULL !== undefined) return 1;
  if (Array.isArray(a.SS)) return (a.SS as string[]).reduce((n, s) => n + utf8(s), 0);
  if (Array.isArray(a.NS)) return (a.NS as string[]).reduce((n, s) => n + numberSize(s), 0);
  if (Array.isArray(a.BS)) return (a.BS as unknown[]).reduce<number>((n, b) => n + binarySize(b), 0);
  if (Array.isArray(a.L)) return 3 + (a.L as AttributeValue[]).reduce((n, e) => n + 1 + valueSize(e), 0);
  if (a.M && typeof a.M === 'object') return 3 + itemSize(a.M as Record<string, AttributeValue>, 1);
  return 0;
}

/** Bytes of a marshalled item; map members carry 1 byte each on top (`perAttribute`). */
export function itemSize(item: Record<string, AttributeValue | Record<string, unknown>>, perAttribute = 0) {
  let n = 0;
  for (const [name, value] of Object.entries(item)) n += utf8(name) + valueSize(value) + perAttribute;
  return n;
}

/** The same for an item as the document client returns it (plain values: outputs are unmarshalled). */
function plainSize(v: unknown): number {
  if (typeof v === 'string') return utf8(v);
  if (typeof v === 'number' || typeof v === 'bigint') return numberSize(String(v));
  if (typeof v === 'boolean' || v === null) return 1;
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof Set) return [...v].reduce<number>((n, x) => n + plainSize(x), 0);
  if (Array.isArray(v)) return 3 + v.reduce<number>((n, x) => n + 1 + plainSize(x), 0);
  if (v && typeof v === 'object') return 3 + plainItemSize(v as Record<string, unknown>, 1);
  return 0;
}

function plainItemSize(item: Record<string, unknown>, perAttribute = 0): number {
  let n = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value !== undefined) n += utf8(name) + plainSize(value) + perAttribute;
  }
  return n;
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const readUnits = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

// ---------------------------------------------------------------------------------------------------
// Counting (in the worker)

interface OpFigures {
  calls: number;
  errors: number;
  requestBytes: number;
  responseBytes: number;
  /** SQS: 64 KB chunks billed; S3: objects; DynamoDB: items written or read. */
  billed: number;
  wcu: number;
  rru: number;
}

interface SizeFigures {
  count: number;
  total: number;
  max: number;
  sizes: number[];
}

interface FunctionFigures {
  invocations: number;
  ms: number[];
  cpuMs: number;
  logBytes: number;
  logLines: number;
}

interface Figures {
  events: { sent: number; accepted: number; rejected: number; requests: number; apiRequests: number };
  dataset: { retail: number; rees46: number; customers: number; bytes: number };
  /** `${caller} ${service} ${operation}` */
  ops: Record<string, OpFigures>;
  /** `${table} ${written|read}` item sizes in bytes, as sent or returned. */
  items: Record<string, SizeFigures>;
  functions: Record<string, FunctionFigures>;
  stored: {
    tables: Record<string, { items: number; bytes: number; p50: number; p95: number; max: number }>;
    s3Objects: number;
    s3Bytes: number;
    logGzipRatio: number;
  };
  dataKeysMade: number;
  /** Items holding a JSON document (`doc`, the partial profiles): units as written and with the doc gzipped. */
  docWrites: { writes: number; wcu: number; wcuGzipped: number };
  /** Events per request, messages per archive and per profiles invocation. */
  batching: { request: number; archive: number; profiles: number };
  wallSeconds: number;
}

type Caller = string;
let caller: Caller = 'bench';

function emptyFigures(): Figures {
  return {
    events: { sent: 0, accepted: 0, rejected: 0, requests: 0, apiRequests: 0 },
    dataset: { retail: 0, rees46: 0, customers: 0, bytes: 0 },
    ops: {},
    items: {},
    functions: {},
    stored: { tables: {}, s3Objects: 0, s3Bytes: 0, logGzipRatio: 0 },
    dataKeysMade: 0,
    docWrites: { writes: 0, wcu: 0, wcuGzipped: 0 },
    batching: { request: 0, archive: 0, profiles: 0 },
    wallSeconds: 0,
  };
}

const fig = emptyFigures();

function op(service: string, name: string): OpFigures {
  const key = `${caller} ${service} ${name}`;
  fig.ops[key] ??= { calls: 0, errors: 0, requestBytes: 0, responseBytes: 0, billed: 0, wcu: 0, rru: 0 };
  return fig.ops[key];
}

function sized(table: string, kind: 'written' | 'read', bytes: number) {
  const key = `${table} ${kind}`;
  fig.items[key] ??= { count: 0, total: 0, max: 0, sizes: [] };
  const s = fig.items[key];
  s.count++;
  s.total += bytes;
  s.max = Math.max(s.max, bytes);
  s.sizes.push(bytes);
}

type Item = Record<string, AttributeValue>;
type Json = Record<string, unknown>;

/** The units DynamoDB charged as the emulator reports them (it applies the size rule to old and new item). */
function consumed(output: Json | undefined): number | undefined {
  const c = output?.ConsumedCapacity;
  if (Array.isArray(c)) return c.reduce((n: number, x: Json) => n + Number(x.CapacityUnits ?? 0), 0);
  if (c && typeof c === 'object') return Number((c as Json).CapacityUnits ?? 0);
  return undefined;
}

/** What a document item would cost with its JSON gzipped into a binary attribute (a measured what-if). */
function gzipWhatIf(item: Item, size: number) {
  const doc = item.doc?.S;
  if (doc === undefined) return;
  fig.docWrites.writes++;
  fig.docWrites.wcu += writeUnits(size);
  fig.docWrites.wcuGzipped += writeUnits(size - utf8(doc) + gzipSync(doc).length);
}

type Units = (input: Json, output: Json | undefined, f: OpFigures) => void;

const tableOf = (input: Json) => String(input.TableName ?? '');

/** Single-item writes: the emulator's figure (old and new item) when it succeeded, else the item's own. */
const putUnits: Units = (input, output, f) => {
  const size = itemSize(input.Item as Item);
  sized(tableOf(input), 'written', size);
  f.billed++;
  f.wcu += (output && consumed(output)) ?? writeUnits(size);
  gzipWhatIf(input.Item as Item, size);
};

const updateUnits: Units = (_input, output, f) => {
  f.billed++;
  f.wcu += consumed(output) ?? 1;
};

const getUnits: Units = (input, output, f) => {
  const item = output?.Item as Json | undefined;
  const size = item ? plainItemSize(item) : 0;
  if (item) sized(tableOf(input), 'read', size);
  f.billed++;
  f.rru += readUnits(size, input.ConsistentRead === true);
};

/** Query and Scan: the items' sizes summed, then rounded once. */
const queryUnits: Units = (input, output, f) => {
  const items = (output?.Items ?? []) as Json[];
  const sizes = items.map((i) => plainItemSize(i));
  for (const size of sizes) sized(tableOf(input), 'read', size);
  f.billed += items.length;
  f.rru += readUnits(
    sizes.reduce((n, x) => n + x, 0),
    input.ConsistentRead === true,
  );
};

/** Each key read as its own GetItem; a key that is not there still costs the minimum read. */
const batchGetUnits: Units = (input, output, f) => {
  const requests = (input.RequestItems ?? {}) as Record<string, { Keys: Item[]; ConsistentRead?: boolean }>;
  const responses = (output?.Responses ?? {}) as Record<string, Json[]>;
  const unprocessed = (output?.UnprocessedKeys ?? {}) as Record<string, { Keys: Item[] }>;
  for (const [t, r] of Object.entries(requests)) {
    const found = responses[t] ?? [];
    for (const i of found) {
      const size = plainItemSize(i);
      sized(t, 'read', size);
      f.rru += readUnits(size, r.ConsistentRead === true);
    }
    const missing = r.Keys.length - found.length - (unprocessed[t]?.Keys.length ?? 0);
    f.rru += Math.max(0, missing) * readUnits(0, r.ConsistentRead === true);
    f.billed += r.Keys.length;
  }
};

const batchWriteUnits: Units = (input, output, f) => {
  const requests = (input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: Item } }[]>;
  let own = 0;
  for (const [t, list] of Object.entries(requests)) {
    for (const r of list) {
      const size = r.PutRequest ? itemSize(r.PutRequest.Item) : 0;
      if (r.PutRequest) sized(t, 'written', size);
      own += writeUnits(size);
      f.billed++;
    }
  }
  f.wcu += consumed(output) ?? own;
};

/** Write and read units by DynamoDB operation; failed conditional writes are charged too. */
const DYNAMO_UNITS: Record<string, Units> = {
  PutItem: putUnits,
  UpdateItem: updateUnits,
  DeleteItem: updateUnits,
  GetItem: getUnits,
  Query: queryUnits,
  Scan: queryUnits,
  BatchGetItem: batchGetUnits,
  BatchWriteItem: batchWriteUnits,
};

/** Bytes of the SQS message bodies a call carries, billed by 64 KB chunk. */
function sqsPayload(name: string, input: Json, output: Json | undefined): number {
  if (name === 'SendMessage') return utf8(String(input.MessageBody ?? ''));
  if (name === 'SendMessageBatch') {
    return ((input.Entries ?? []) as Json[]).reduce((n, e) => n + utf8(String(e.MessageBody ?? '')), 0);
  }
  if (name === 'ReceiveMessage') {
    return ((output?.Messages ?? []) as Json[]).reduce((n, m) => n + utf8(String(m.Body ?? '')), 0);
  }
  return 0;
}

function bodyBytes(message: { body?: unknown; headers?: Record<string, string> } | undefined): number {
  const body = message?.body;
  if (typeof body === 'string') return utf8(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return Number(message?.headers?.['content-length'] ?? 0);
}

function record(service: string, command: string, input: Json, output: Json | undefined, bytes: number[]) {
  const name = command.replace(/Command$/, '');
  const f = op(service, name);
  f.calls++;
  if (!output) f.errors++;
  f.requestBytes += bytes[0] ?? 0;
  f.responseBytes += bytes[1] ?? 0;
  if (service === 'dynamodb') DYNAMO_UNITS[name]?.(input, output, f);
  if (service === 'sqs') f.billed += Math.max(1, Math.ceil(sqsPayload(name, input, output) / (64 * 1024)));
  if (service === 's3') f.billed++;
}

/**
 * Counts every call of a client, one per attempt (retries are billed too). DynamoDB calls ask for
 * ReturnConsumedCapacity, so that updates are charged by the larger of the old and new item, as DynamoDB
 * does; nothing else about a call changes.
 */
function instrument(service: string, stack: MiddlewareStack<Json, MetadataBearer>) {
  if (service === 'dynamodb') {
    stack.add(
      (next) => async (args) =>
        next({ ...args, input: { ...(args.input as Json), ReturnConsumedCapacity: 'TOTAL' } }),
      { step: 'initialize', priority: 'low', name: 'precisCostCapacity' },
    );
  }
  stack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const request = args.request as { body?: unknown; headers?: Record<string, string> };
      const input = args.input as Json;
      try {
        const out = await next(args);
        const response = out.response as { headers?: Record<string, string> };
        record(service, command, input, out.output as unknown as Json, [
          bodyBytes(request),
          bodyBytes(response),
        ]);
        return out;
      } catch (error) {
        record(service, command, input, undefined, [bodyBytes(request), 0]);
        throw error;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'precisCostCounter' },
  );
}

const stackOf = (client: { middlewareStack: unknown }) =>
  client.middlewareStack as MiddlewareStack<Json, MetadataBearer>;

// ---------------------------------------------------------------------------------------------------
// The sample: whole customers (every event of each), so that profiles, timelines and ledgers reach the
// sizes real histories give them.

const customerOf = (e: SpecEventInput) => {
  const x = e as { userId?: unknown; anonymousId?: unknown; messageId?: unknown };
  return String(x.userId ?? x.anonymousId ?? x.messageId ?? '');
};

function pickCustomers(
  events: SpecEventInput[],
  target: number,
): { events: SpecEventInput[]; customers: number } {
  const byCustomer = new Map<string, number>();
  for (const e of events) byCustomer.set(customerOf(e), (byCustomer.get(customerOf(e)) ?? 0) + 1);
  const hash = (s: string) => createHash('sha1').update(s).digest('hex');
  const chosen = new Set<string>();
  let n = 0;
  for (const c of [...byCustomer.keys()].sort((a, b) => (hash(a) < hash(b) ? -1 : 1))) {
    if (n >= target) break;
    chosen.add(c);
    n += byCustomer.get(c) ?? 0;
  }
  return { events: events.filter((e) => chosen.has(customerOf(e))), customers: chosen.size };
}

async function sample(total: number, reesShare: number | undefined) {
  const retailPath = datasetPath('online_retail');
  const retail: SpecEventInput[] = [];
  for await (const e of onlineRetailIdentifies(retailPath)) retail.push(e);
  for await (const e of onlineRetailEvents(retailPath)) retail.push(e);
  const rees: SpecEventInput[] = [];
  for await (const e of rees46Events()) rees.push(e);
  const share = reesShare ?? rees.length / (rees.length + retail.length);
  const r = pickCustomers(retail, Math.round(total * (1 - share)));
  const w = pickCustomers(rees, Math.round(total * share));
  return {
    events: [...r.events, ...w.events],
    retail: r.events.length,
    rees46: w.events.length,
    customers: r.customers + w.customers,
  };
}

/** Request bodies as a Segment SDK sends them: `size` events a request, at most 480 KB. */
function batches(events: SpecEventInput[], size: number): string[] {
  const bodies: string[] = [];
  let parts: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (parts.length > 0)
      bodies.push(`{"batch":[${parts.join(',')}],"sentAt":"${new Date().toISOString()}"}`);
    parts = [];
    bytes = 0;
  };
  for (const e of events) {
    const json = JSON.stringify(e);
    if (parts.length === size || bytes + json.length > 480 * 1024) flush();
    parts.push(json);
    bytes += json.length + 1;
  }
  flush();
  return bodies;
}

// ---------------------------------------------------------------------------------------------------
// The worker: the handlers, invoked as Lambda invokes them.

type HttpHandler = (e: APIGatewayProxyEventV2, c: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type SqsHandler = (e: SQSEvent, c: Context) => Promise<SQSBatchResponse>;

/**
 * The functions' own timeouts are not enforced: against the emulators, many times slower than DynamoDB
 * and S3, a consumer that takes seconds on AWS can take minutes, and middy would cut it short.
 */
const BENCH_TIMEOUT_MS = 30 * 60_000;

function lambdaContext(c: Config, functionName: string, memoryMb: number): Context {
  const deadline = Date.now() + BENCH_TIMEOUT_MS;
  const name = `precis-${c.stage}-${functionName}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${c.region}:000000000000:function:${name}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

const logText: string[] = [];

/** Runs one invocation as `fn`, timing it and counting what it logs. */
async function invoke<T>(fn: string, call: () => Promise<T>): Promise<T> {
  fig.functions[fn] ??= { invocations: 0, ms: [], cpuMs: 0, logBytes: 0, logLines: 0 };
  const f = fig.functions[fn];
  caller = fn;
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    return await call();
  } finally {
    f.ms.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    f.cpuMs += (used.user + used.system) / 1000;
    f.invocations++;
    caller = 'bench';
  }
}

/** The functions log JSON lines to stdout: count them per function instead of printing them. */
function captureLogs() {
  process.stdout.write = ((chunk: string | Uint8Array) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const f = fig.functions[caller];
    if (f) {
      f.logBytes += utf8(text);
      f.logLines += text.split('\n').length - 1;
      logText.push(text);
    }
    return true;
  }) as typeof process.stdout.write;
}

function sqsEvent(
  messages: { MessageId?: string; ReceiptHandle?: string; Body?: string }[],
  arn: string,
  c: Config,
): SQSEvent {
  const now = String(Date.now());
  return {
    Records: messages.map((m) => ({
      messageId: String(m.MessageId),
      receiptHandle: String(m.ReceiptHandle),
      body: String(m.Body),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: now,
        SenderId: 'bench',
        ApproximateFirstReceiveTimestamp: now,
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: arn,
      awsRegion: c.region,
    })),
  };
}

/** An S3 ObjectCreated notification as S3 sends it to SQS (key URL-encoded, spaces as '+'). */
function s3Notification(c: Config, key: string, size: number): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: c.region,
        eventTime: now,
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AROAEXAMPLEROLEID:precis-archive' },
        requestParameters: { sourceIPAddress: '10.0.0.1' },
        responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': randomUUID() },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'precis-profiles-feed',
          bucket: {
            name: c.buckets.archive,
            ownerIdentity: { principalId: 'A3NL1KOZZKExample' },
            arn: `arn:aws:s3:::${c.buckets.archive}`,
          },
          object: {
            key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'),
            size,
            eTag: createHash('md5').update(key).digest('hex'),
            sequencer: Date.now().toString(16).toUpperCase(),
          },
        },
      },
    ],
  });
}

interface Queue {
  readonly url: string;
  readonly arn: string;
}

async function queue(sqs: SQSClient, name: string): Promise<Queue> {
  const url = String((await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl);
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return { url, arn: String(attrs.Attributes?.QueueArn) };
}

/**
 * Lambda's event source mapping: receives up to `batchSize` messages (10 a call, as SQS allows; more only
 * with a batching window), invokes, deletes what did not fail. Its calls are billed SQS requests, counted
 * under "event source". Stops when `expected` messages were handled.
 */
async function drain(
  esm: SQSClient,
  q: Queue,
  expected: number,
  fn: string,
  handler: SqsHandler,
  c: Config,
  s: { readonly batchSize: number; readonly memoryMb: number },
) {
  let handled = 0;
  const deadline = Date.now() + 30 * 60_000;
  while (handled < expected) {
    if (Date.now() > deadline) throw new Error(`${fn}: ${expected - handled} messages never arrived`);
    const messages = await receiveBatch(esm, q, s.batchSize);
    if (messages.length === 0) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    const context = lambdaContext(c, fn, s.memoryMb);
    const result = await invoke(fn, () => handler(sqsEvent(messages, q.arn, c), context));
    const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    const done = messages.filter((m) => !failed.has(String(m.MessageId)));
    if (failed.size > 0) console.error(`${fn}: ${failed.size} records failed (they will be retried)`);
    caller = 'event source';
    for (let i = 0; i < done.length; i += 10) {
      await esm.send(
        new DeleteMessageBatchCommand({
          QueueUrl: q.url,
          Entries: done
            .slice(i, i + 10)
            .map((m, n) => ({ Id: String(n), ReceiptHandle: String(m.ReceiptHandle) })),
        }),
      );
    }
    caller = 'bench';
    handled += done.length;
  }
}

async function receiveBatch(esm: SQSClient, q: Queue, batchSize: number) {
  const messages: NonNullable<ReceiveMessageCommandOutput['Messages']> = [];
  caller = 'event source';
  try {
    while (messages.length < batchSize) {
      const got = await esm.send(
        new ReceiveMessageCommand({
          QueueUrl: q.url,
          MaxNumberOfMessages: Math.min(10, batchSize - messages.length),
          WaitTimeSeconds: 0,
        }),
      );
      if (!got.Messages?.length) break;
      messages.push(...got.Messages);
    }
    return messages;
  } finally {
    caller = 'bench';
  }
}

const WorkerArgs = z.object({
  events: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  reesShare: z.number().min(0).max(1).optional(),
  settings: z.record(z.string(), z.object({ batchSize: z.number(), memoryMb: z.number() })),
});
type WorkerArgs = z.infer<typeof WorkerArgs>;

/** A function's settings from serverless.yml (the SQS trigger's batch size, memory). */
function settingOf(args: WorkerArgs, fn: string) {
  const s = args.settings[fn];
  if (!s) throw new Error(`serverless.yml has no function ${fn}`);
  return s;
}

async function worker(args: WorkerArgs) {
  const started = Date.now();
  const c = config();
  hookSharedClients(({ client, service }) => instrument(service, stackOf(client)));
  // The event source mapping and S3's notifications call SQS too (billed): counted on a client of their own.
  const esm = createSqs(c);
  instrument('sqs', stackOf(esm));

  const { events, retail, rees46, customers } = await sample(args.events, args.reesShare);
  fig.dataset = { retail, rees46, customers, bytes: events.reduce((n, e) => n + utf8(JSON.stringify(e)), 0) };
  const { key } = await createApiKey(
    { role: 'write', sourceId: 'bench', name: 'cost benchmark' },
    apiKeysTable(createDynamoDb(c), c.tables.apiKeys),
  );
  const { handler: ingest } = (await import('../functions/http/ingest.js')) as { handler: HttpHandler };
  const { handler: archive } = (await import('../functions/queue/archive.js')) as { handler: SqsHandler };
  const { handler: profiles } = (await import('../functions/queue/profiles.js')) as { handler: SqsHandler };
  captureLogs();

  // 1. The API: SDK-sized batches to POST /v1/batch.
  const authorization = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
  const ingestSettings = settingOf(args, 'ingest');
  fig.batching = {
    request: args.batchSize,
    archive: settingOf(args, 'archive').batchSize,
    profiles: settingOf(args, 'profiles').batchSize,
  };
  for (const body of batches(events, args.batchSize)) {
    const at = Date.now();
    const res = await invoke('ingest', () =>
      ingest(
        {
          version: '2.0',
          routeKey: 'POST /v1/batch',
          rawPath: '/v1/batch',
          rawQueryString: '',
          headers: {
            'content-type': 'application/json',
            authorization,
            'user-agent': 'analytics-node-next/latest',
            'content-length': String(utf8(body)),
          },
          requestContext: {
            accountId: '000000000000',
            apiId: 'bench',
            domainName: 'bench.execute-api.us-east-1.amazonaws.com',
            domainPrefix: 'bench',
            http: {
              method: 'POST',
              path: '/v1/batch',
              protocol: 'HTTP/1.1',
              sourceIp: '203.0.113.7',
              userAgent: 'analytics-node-next/latest',
            },
            requestId: randomUUID(),
            routeKey: 'POST /v1/batch',
            stage: '$default',
            time: new Date(at).toUTCString(),
            timeEpoch: at,
          },
          body,
          isBase64Encoded: false,
        },
        lambdaContext(c, 'ingest', ingestSettings.memoryMb),
      ),
    );
    const sent = (JSON.parse(body) as { batch: unknown[] }).batch.length;
    const answer = JSON.parse(res.body ?? '{}') as {
      accepted?: number;
      details?: { rejected?: unknown[] };
      rejected?: unknown[];
    };
    if (res.statusCode !== 200 && res.statusCode !== 400)
      throw new Error(`ingest answered ${res.statusCode}: ${res.body}`);
    fig.events.sent += sent;
    fig.events.accepted += answer.accepted ?? 0;
    fig.events.rejected += (answer.rejected ?? answer.details?.rejected ?? []).length;
    fig.events.requests++;
    fig.events.apiRequests += Math.max(1, Math.ceil(utf8(body) / (512 * 1024)));
  }
  console.error(
    `ingest: ${fig.events.sent} events in ${fig.events.requests} requests (${fig.events.rejected} quarantined)`,
  );

  // 2. The archive consumer, in the batches its event source mapping delivers.
  const ingestQueue = await queue(esm, c.queues.ingest);
  const onQueue = await queueLength(esm, ingestQueue);
  await drain(esm, ingestQueue, onQueue, 'archive', archive, c, settingOf(args, 'archive'));
  console.error(`archive: ${onQueue} messages`);

  // 3. S3 notifies the profiles feed of each archived object; the profiles consumer applies them.
  const s3 = createS3(c);
  const objects = await listObjects(s3, c.buckets.archive, 'raw/');
  const profilesQueue = await queue(esm, c.queues.profiles);
  caller = 's3 notifications';
  for (const o of objects) {
    await esm.send(
      new SendMessageCommand({ QueueUrl: profilesQueue.url, MessageBody: s3Notification(c, o.key, o.size) }),
    );
  }
  caller = 'bench';
  await drain(esm, profilesQueue, objects.length, 'profiles', profiles, c, settingOf(args, 'profiles'));
  console.error(`profiles: ${objects.length} archive objects applied`);

  // 4. What is stored afterwards.
  const raw = createDynamoDbClient(c);
  for (const table of Object.values(c.tables)) {
    const sizes: number[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await raw.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
      for (const i of page.Items ?? []) sizes.push(itemSize(i));
      start = page.LastEvaluatedKey;
    } while (start);
    sizes.sort((a, b) => a - b);
    fig.stored.tables[table] = {
      items: sizes.length,
      bytes: sizes.reduce((n, s) => n + s, 0),
      p50: percentile(sizes, 50),
      p95: percentile(sizes, 95),
      max: sizes.at(-1) ?? 0,
    };
  }
  const all = await listObjects(s3, c.buckets.archive, '');
  fig.stored.s3Objects = all.length;
  fig.stored.s3Bytes = all.reduce((n, o) => n + o.size, 0);
  const logs = logText.join('');
  fig.stored.logGzipRatio = logs.length > 0 ? gzipSync(logs).length / utf8(logs) : 0;
  fig.dataKeysMade = fig.stored.tables[c.tables.dataKeys]?.items ?? 0;
  fig.wallSeconds = (Date.now() - started) / 1000;
  for (const s of Object.values(fig.items)) s.sizes.sort((a, b) => a - b);
}

async function queueLength(sqs: SQSClient, q: Queue): Promise<number> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
}

async function listObjects(s3: ReturnType<typeof createS3>, bucket: string, prefix: string) {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) out.push({ key: String(o.Key), size: Number(o.Size ?? 0) });
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

// ---------------------------------------------------------------------------------------------------
// The parent: emulators, the child, then the bill.

const Printed = z.object({
  provider: z
    .object({ memorySize: z.number().default(1024), architecture: z.string().default('x86_64') })
    .loose(),
  functions: z.record(
    z.string(),
    z
      .object({
        memorySize: z.number().optional(),
        events: z.array(z.record(z.string(), z.unknown())).default([]),
      })
      .loose(),
  ),
  resources: z.object({
    Resources: z.record(
      z.string(),
      z.object({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).default({}) }),
    ),
  }),
});
type Printed = z.infer<typeof Printed>;

/** serverless.yml as deployed (memory, timeouts and resources are the same for every stage). */
async function printedService(): Promise<Printed> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [OSLS_BIN, 'print', '--stage', 'local', '--format', 'json'],
    { cwd: PROJECT_ROOT, maxBuffer: 16 * MB },
  );
  return Printed.parse(JSON.parse(stdout));
}

function settingsOf(p: Printed) {
  const settings: Record<string, { memoryMb: number; batchSize: number }> = {};
  for (const [name, fn] of Object.entries(p.functions)) {
    const sqs = fn.events.map((e) => e.sqs as { batchSize?: number } | undefined).find(Boolean);
    settings[name] = {
      memoryMb: fn.memorySize ?? p.provider.memorySize,
      batchSize: sqs?.batchSize ?? 10,
    };
  }
  return settings;
}

async function runWorker(env: Record<string, string>, args: WorkerArgs): Promise<Figures> {
  const child = spawn(process.execPath, [String(process.argv[1]), '--worker'], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: Figures | undefined;
    child.on('message', (m) => {
      result = m as Figures;
    });
    child.once('spawn', () => child.send(args));
    child.once('error', reject);
    child.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`the worker exited with ${code} before reporting`)),
    );
  });
}

interface Line {
  readonly group: string;
  readonly what: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

/** Sums a field over the counted calls that `match` (caller, service, operation). */
function sumOps(
  f: Figures,
  match: (caller: string, service: string, op: string) => boolean,
  field: keyof OpFigures,
) {
  let n = 0;
  for (const [k, v] of Object.entries(f.ops)) {
    const parts = k.split(' ');
    const opName = parts.pop() ?? '';
    const service = parts.pop() ?? '';
    if (match(parts.join(' '), service, opName)) n += v[field];
  }
  return n;
}

/**
 * The bill of the counted figures scaled to a million events. Lambda is billed by the measured wall time
 * of each invocation (`cpu`: by its CPU time instead, a lower bound that leaves out waiting on storage).
 */
function bill(
  f: Figures,
  p: Printed,
  cpu = false,
): { perMillion: Line[]; storage: Line[]; idle: Line[]; scale: number } {
  const scale = 1e6 / f.events.sent;
  return { perMillion: perMillion(f, p, cpu, scale), storage: storage(f, p, scale), idle: idle(p), scale };
}

/** Bytes CloudWatch ingests: what the functions logged, and Lambda's own lines per invocation. */
function logBytesOf(f: Figures): number {
  const invocations = Object.values(f.functions).reduce((n, fn) => n + fn.invocations, 0);
  return (
    Object.values(f.functions).reduce((n, fn) => n + fn.logBytes, 0) +
    invocations * ASSUMED.platformLogBytesPerInvocation
  );
}

function perMillion(f: Figures, p: Printed, cpu: boolean, scale: number): Line[] {
  const settings = settingsOf(p);
  const perMillion: Line[] = [];
  const add = (group: string, what: string, quantity: number, unit: string, price: number) =>
    perMillion.push({ group, what, quantity, unit, usd: quantity * price });

  add('API Gateway', 'HTTP API requests', f.events.apiRequests * scale, 'requests', PRICES.apiRequest.usd);
  for (const [name, fn] of Object.entries(f.functions)) {
    const mem = (settings[name]?.memoryMb ?? 1024) / 1024;
    const billedMs = cpu ? fn.cpuMs : fn.ms.reduce((n, ms) => n + Math.ceil(ms), 0);
    add('Lambda', `${name}: invocations`, fn.invocations * scale, 'invocations', PRICES.lambdaRequest.usd);
    add(
      'Lambda',
      `${name}: ${mem * 1024} MB × measured ${cpu ? 'CPU time' : 'duration'}`,
      (billedMs / 1000) * mem * scale,
      'GB-s',
      PRICES.lambdaGbSecondArm.usd,
    );
  }
  const sqsBy = (callerName: string) =>
    sumOps(f, (c, s) => s === 'sqs' && c === callerName, 'billed') * scale;
  add('SQS', 'ingest: SendMessageBatch (64 KB chunks)', sqsBy('ingest'), 'requests', PRICES.sqsRequest.usd);
  add(
    'SQS',
    'S3 → profiles feed notifications',
    sqsBy('s3 notifications'),
    'requests',
    PRICES.sqsRequest.usd,
  );
  add('SQS', 'event sources: receive + delete', sqsBy('event source'), 'requests', PRICES.sqsRequest.usd);
  for (const fn of Object.keys(f.functions)) {
    const wcu = sumOps(f, (c, s) => c === fn && s === 'dynamodb', 'wcu') * scale;
    const rru = sumOps(f, (c, s) => c === fn && s === 'dynamodb', 'rru') * scale;
    if (wcu > 0) add('DynamoDB', `${fn}: write request units`, wcu, 'WRU', PRICES.dynamoWrite.usd);
    if (rru > 0) add('DynamoDB', `${fn}: read request units`, rru, 'RRU', PRICES.dynamoRead.usd);
  }
  const s3Put = sumOps(
    f,
    (_c, s, o) => s === 's3' && /^(Put|Copy|List|CreateMultipart|UploadPart|CompleteMultipart)/.test(o),
    'calls',
  );
  const s3Get = sumOps(f, (_c, s, o) => s === 's3' && /^(Get|Head)/.test(o), 'calls');
  add('S3', 'PUT requests', s3Put * scale, 'requests', PRICES.s3Put.usd);
  add('S3', 'GET and HEAD requests', s3Get * scale, 'requests', PRICES.s3Get.usd);
  const logBytes = logBytesOf(f);
  add(
    'CloudWatch Logs',
    'ingestion (function lines + START/END/REPORT)',
    (logBytes * scale) / GB,
    'GB',
    PRICES.logsIngest.usd,
  );
  const starts = ASSUMED.environmentStartsPerMillion;
  add(
    'KMS',
    `GenerateDataKey, one per environment start (${starts} assumed)`,
    starts,
    'requests',
    PRICES.kmsRequest.usd,
  );
  add(
    'Secrets Manager',
    `GetSecretValue, one per environment start (${starts} assumed)`,
    starts,
    'calls',
    PRICES.secretRequest.usd,
  );
  return perMillion;
}

/** Storage a million events add, per month it is kept. */
function storage(f: Figures, p: Printed, scale: number): Line[] {
  const storage: Line[] = [];
  const pitrTables = new Set(
    Object.values(p.resources.Resources)
      .filter((r) => r.Type === 'AWS::DynamoDB::Table')
      .filter(
        (r) =>
          (
            r.Properties.PointInTimeRecoverySpecification as
              | { PointInTimeRecoveryEnabled?: boolean }
              | undefined
          )?.PointInTimeRecoveryEnabled,
      )
      .map((r) => String(r.Properties.TableName)),
  );
  let dynamoBytes = 0;
  let pitrBytes = 0;
  for (const [table, t] of Object.entries(f.stored.tables)) {
    const bytes = (t.bytes + t.items * ASSUMED.dynamoItemOverheadBytes) * scale;
    dynamoBytes += bytes;
    if (pitrTables.has(table)) pitrBytes += bytes;
  }
  storage.push({
    group: 'DynamoDB',
    what: 'table storage',
    quantity: dynamoBytes / GB,
    unit: 'GB-month',
    usd: (dynamoBytes / GB) * PRICES.dynamoStorage.usd,
  });
  storage.push({
    group: 'DynamoDB',
    what: 'point-in-time recovery',
    quantity: pitrBytes / GB,
    unit: 'GB-month',
    usd: (pitrBytes / GB) * PRICES.dynamoPitr.usd,
  });
  storage.push({
    group: 'S3',
    what: 'archive (gzip NDJSON)',
    quantity: (f.stored.s3Bytes * scale) / GB,
    unit: 'GB-month',
    usd: ((f.stored.s3Bytes * scale) / GB) * PRICES.s3Storage.usd,
  });
  const logsStored = (logBytesOf(f) * scale * f.stored.logGzipRatio) / GB;
  storage.push({
    group: 'CloudWatch Logs',
    what: 'logs kept 30 days (compressed)',
    quantity: logsStored,
    unit: 'GB-month',
    usd: logsStored * PRICES.logsStorage.usd,
  });
  return storage;
}

/** Fixed monthly costs with no traffic at all. */
function idle(p: Printed): Line[] {
  const settings = settingsOf(p);
  const count = (type: string) => Object.values(p.resources.Resources).filter((r) => r.Type === type).length;
  const consumedQueues = Object.values(p.functions).filter((fn) => fn.events.some((e) => e.sqs)).length;
  // Each scheduled invocation taken as ~1 s at its function's memory; the hourly segmentation schedule also
  // starts one nightly run a day (the runner, ~2 s on an empty store).
  let scheduleGbSeconds = 0;
  let scheduled = 0;
  for (const [name, fn] of Object.entries(p.functions)) {
    for (const e of fn.events) {
      const rate = (e.schedule as { rate?: string } | undefined)?.rate;
      if (!rate) continue;
      const perMonth = /^cron\(\S+ \* /.test(rate) ? 30 * 24 : 30;
      scheduled += perMonth;
      scheduleGbSeconds += perMonth * ((settings[name]?.memoryMb ?? 512) / 1024);
    }
  }
  scheduled += 30;
  scheduleGbSeconds += 30 * 2 * ((settings.segmentationRunner?.memoryMb ?? 3008) / 1024);
  // deploy/functionAlarms.mjs adds an Errors alarm per function when the stack is packaged.
  const alarms = count('AWS::CloudWatch::Alarm') + Object.keys(p.functions).length;
  return [
    {
      group: 'KMS',
      what: 'customer-managed keys',
      quantity: count('AWS::KMS::Key'),
      unit: 'keys',
      usd: count('AWS::KMS::Key') * PRICES.kmsKey.usd,
    },
    {
      group: 'Secrets Manager',
      what: 'secrets',
      quantity: count('AWS::SecretsManager::Secret'),
      unit: 'secrets',
      usd: count('AWS::SecretsManager::Secret') * PRICES.secret.usd,
    },
    {
      group: 'CloudWatch',
      what: `alarms: ${count('AWS::CloudWatch::Alarm')} in the resources, one per function (deploy/functionAlarms.mjs)`,
      quantity: alarms,
      unit: 'alarms',
      usd: alarms * PRICES.alarm.usd,
    },
    {
      group: 'SQS',
      what: `idle long polling by ${consumedQueues} event source mappings`,
      quantity: consumedQueues * ASSUMED.idleReceivesPerQueueMonth,
      unit: 'requests',
      usd: consumedQueues * ASSUMED.idleReceivesPerQueueMonth * PRICES.sqsRequest.usd,
    },
    {
      group: 'Lambda',
      what: 'schedules (hourly, nightly) and the nightly segmentation run on an empty store',
      quantity: scheduled,
      unit: 'invocations',
      usd: scheduled * PRICES.lambdaRequest.usd + scheduleGbSeconds * PRICES.lambdaGbSecondArm.usd,
    },
  ];
}

const usd = (n: number) =>
  n >= 0.01 ? `$${n.toFixed(2)}` : n >= 0.0001 ? `$${n.toFixed(4)}` : n > 0 ? `$${n.toExponential(1)}` : '$0';
const qty = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toPrecision(3));

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(rows[0] ?? []),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

function printCalls(f: Figures) {
  console.log('## AWS calls counted (per 1,000 events)\n');
  const rows = [
    [
      'caller',
      'service',
      'operation',
      'calls',
      'errors',
      'request KB',
      'response KB',
      'billed units',
      'WRU',
      'RRU',
    ],
  ];
  for (const [k, v] of Object.entries(f.ops).sort()) {
    const parts = k.split(' ');
    const opName = parts.pop() ?? '';
    const service = parts.pop() ?? '';
    const per = 1000 / f.events.sent;
    rows.push([
      parts.join(' '),
      service,
      opName,
      qty(v.calls * per),
      qty(v.errors * per),
      qty((v.requestBytes * per) / 1024),
      qty((v.responseBytes * per) / 1024),
      qty(v.billed * per),
      qty(v.wcu * per),
      qty(v.rru * per),
    ]);
  }
  console.log(`${table(rows)}\n`);
}

function printSizes(f: Figures) {
  console.log('## DynamoDB item sizes (bytes, DynamoDB formula)\n');
  const sizeRows = [['table', 'items', 'mean', 'p50', 'p95', 'max']];
  for (const [k, s] of Object.entries(f.items).sort()) {
    sizeRows.push([
      k.replace(/^precis-local-/, ''),
      qty(s.count),
      qty(s.total / s.count),
      qty(percentile(s.sizes, 50)),
      qty(percentile(s.sizes, 95)),
      qty(s.max),
    ]);
  }
  for (const [t, s] of Object.entries(f.stored.tables).sort()) {
    if (s.items > 0)
      sizeRows.push([
        `${t.replace(/^precis-local-/, '')} stored`,
        qty(s.items),
        qty(s.bytes / s.items),
        qty(s.p50),
        qty(s.p95),
        qty(s.max),
      ]);
  }
  console.log(`${table(sizeRows)}\n`);
}

function report(f: Figures, p: Printed, machine: string) {
  const { perMillion, storage, idle, scale } = bill(f, p);
  const settings = settingsOf(p);
  const total = perMillion.reduce((n, l) => n + l.usd, 0);
  console.log(`# Cost benchmark — ${new Date().toISOString()}`);
  console.log(`machine: ${machine}`);
  console.log(
    `sample: ${f.events.sent} events (${f.dataset.retail} Online Retail, ${f.dataset.rees46} REES46) of ${f.dataset.customers} whole customers, ` +
      `${Math.round(f.dataset.bytes / f.events.sent)} bytes each on average; ${f.events.accepted} accepted, ${f.events.rejected} quarantined; ` +
      `${f.events.requests} requests of ${f.batching.request} events; archive invocations of up to ${f.batching.archive} messages, ` +
      `profiles of up to ${f.batching.profiles} objects; ${f.wallSeconds.toFixed(0)} s; scaled ×${scale.toFixed(1)} to 1,000,000 events`,
  );
  console.log(`prices: ${PRICES.region} list prices, no free tier\n`);

  printCalls(f);
  printSizes(f);

  console.log('## Handlers (in-process on this machine, against the emulators)\n');
  const fnRows = [
    [
      'function',
      'memory',
      'invocations',
      'per 1M events',
      'p50 ms',
      'p95 ms',
      'mean ms',
      'CPU ms mean',
      'log bytes / invocation',
    ],
  ];
  for (const [name, fn] of Object.entries(f.functions)) {
    const sorted = [...fn.ms].sort((a, b) => a - b);
    fnRows.push([
      name,
      `${settings[name]?.memoryMb ?? '?'} MB`,
      qty(fn.invocations),
      qty(fn.invocations * scale),
      qty(percentile(sorted, 50)),
      qty(percentile(sorted, 95)),
      qty(sorted.reduce((n, x) => n + x, 0) / sorted.length),
      qty(fn.cpuMs / fn.invocations),
      qty(fn.logBytes / fn.invocations),
    ]);
  }
  console.log(`${table(fnRows)}\n`);

  console.log('## One million events\n');
  const lineRows = [['service', 'what', 'quantity', 'unit', 'cost']];
  for (const l of perMillion) lineRows.push([l.group, l.what, qty(l.quantity), l.unit, usd(l.usd)]);
  lineRows.push(['**total**', '', '', '', `**${usd(total)}**`]);
  console.log(`${table(lineRows)}\n`);
  const byGroup = new Map<string, number>();
  for (const l of perMillion) byGroup.set(l.group, (byGroup.get(l.group) ?? 0) + l.usd);
  console.log(
    [...byGroup]
      .sort((a, b) => b[1] - a[1])
      .map(([g, v]) => `${g} ${usd(v)} (${((v / total) * 100).toFixed(0)} %)`)
      .join(', '),
  );
  const d = f.docWrites;
  if (d.writes > 0) {
    console.log(
      `Partial profile writes: ${(d.wcu / d.writes).toFixed(2)} WRU each; with the JSON document gzipped, ` +
        `${(d.wcuGzipped / d.writes).toFixed(2)} (${usd((d.wcu - d.wcuGzipped) * scale * PRICES.dynamoWrite.usd)} less per million events)`,
    );
  }
  const cpuTotal = bill(f, p, true).perMillion.reduce((n, l) => n + l.usd, 0);
  console.log(
    `With Lambda billed by the handlers' CPU time instead of their wall time (a lower bound: no waiting on the emulators): ${usd(cpuTotal)}`,
  );

  console.log('\n## Storage a million events add, per month kept\n');
  const storageRows = [['service', 'what', 'quantity', 'unit', 'cost / month']];
  for (const l of storage) storageRows.push([l.group, l.what, qty(l.quantity), l.unit, usd(l.usd)]);
  console.log(`${table(storageRows)}\n`);

  console.log('## Idle: fixed monthly costs with no traffic\n');
  const idleRows = [['service', 'what', 'quantity', 'unit', 'cost / month']];
  for (const l of idle) idleRows.push([l.group, l.what, qty(l.quantity), l.unit, usd(l.usd)]);
  idleRows.push(['**total**', '', '', '', `**${usd(idle.reduce((n, l) => n + l.usd, 0))}**`]);
  console.log(`${table(idleRows)}\n`);

  console.log('## Prices used\n');
  const priceRows = [['item', 'USD']];
  for (const [, v] of Object.entries(PRICES))
    if (typeof v === 'object')
      priceRows.push([v.what, String(v.usd < 0.001 ? `${(v.usd * 1e6).toFixed(4)} per million` : v.usd)]);
  console.log(table(priceRows));
  if (values.json)
    console.log(JSON.stringify({ figures: { ...f, items: undefined }, perMillion, storage, idle }, null, 2));
}

async function main() {
  if (!datasetsAvailable()) {
    console.error('The datasets are missing (../shared/data); the benchmark needs real data.');
    process.exit(1);
  }
  const def = await loadServiceDefinition('local');
  const printed = await printedService();
  const region = def.provider.environment.AWS_REGION ?? 'eu-west-1';
  const emulators = await startEmulators({ dynamodb: 0, s3: 0, sqs: 0 }, region);
  try {
    const env: Record<string, string> = {
      ...def.provider.environment,
      AWS_REGION: region,
      // The deployed stages log at INFO (serverless.yml's default logLevel): that is what CloudWatch bills.
      PRECIS_LOG_LEVEL: 'INFO',
      PRECIS_ENDPOINT_DYNAMODB: emulators.endpoints.dynamodb,
      PRECIS_ENDPOINT_S3: emulators.endpoints.s3,
      PRECIS_ENDPOINT_SQS: emulators.endpoints.sqs,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...localSecrets(),
    };
    const local = parseConfig(env);
    await provision(
      def,
      { dynamodb: createDynamoDbClient(local), s3: createS3(local), sqs: createSqs(local) },
      region,
    );
    const settings = settingsOf(printed);
    const archiveBatch = values['archive-batch'];
    if (archiveBatch !== undefined && settings.archive) settings.archive.batchSize = Number(archiveBatch);
    const figures = await runWorker(env, {
      events: Number(values.events),
      batchSize: Number(values['batch-size']),
      reesShare: values['rees46-share'] === undefined ? undefined : Number(values['rees46-share']),
      settings,
    });
    const machine = `${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${(totalmem() / GB).toFixed(0)} GB, Node ${process.version}`;
    report(figures, printed, machine);
  } finally {
    await emulators.stop();
  }
}

if (values.worker) {
  process.once('message', (m) => {
    const args = WorkerArgs.parse(m);
    worker(args).then(
      () => {
        process.send?.(fig, () => process.exit(0));
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
} else {
  await main();
}
