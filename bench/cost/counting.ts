// The cost benchmark's counting (in the worker): a middleware on the functions' shared AWS clients counts
// every call, DynamoDB items with their sizes and the units they cost, and SQS payloads, into `fig`.
import { gzipSync } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { MetadataBearer, MiddlewareStack } from '@smithy/types';

// ---------------------------------------------------------------------------------------------------
// DynamoDB's item size: attribute names plus values (UTF-8 strings, ~1 byte per 2 significant digits + 1
// for numbers, 1 byte for booleans and nulls, 3 bytes plus 1 per element for lists and maps).

export const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

export function numberSize(n: string): number {
  const digits = n.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '');
  const significant = digits.replace(/0+$/, '').length || 1;
  return Math.ceil(significant / 2) + 1 + (n.startsWith('-') ? 1 : 0);
}

export const binarySize = (b: unknown) =>
  b instanceof Uint8Array ? b.byteLength : typeof b === 'string' ? Buffer.from(b, 'base64').length : 0;

export function valueSize(v: AttributeValue | Record<string, unknown>): number {
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
export function plainSize(v: unknown): number {
  if (typeof v === 'string') return utf8(v);
  if (typeof v === 'number' || typeof v === 'bigint') return numberSize(String(v));
  if (typeof v === 'boolean' || v === null) return 1;
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof Set) return [...v].reduce<number>((n, x) => n + plainSize(x), 0);
  if (Array.isArray(v)) return 3 + v.reduce<number>((n, x) => n + 1 + plainSize(x), 0);
  if (v && typeof v === 'object') return 3 + plainItemSize(v as Record<string, unknown>, 1);
  return 0;
}

export function plainItemSize(item: Record<string, unknown>, perAttribute = 0): number {
  let n = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value !== undefined) n += utf8(name) + plainSize(value) + perAttribute;
  }
  return n;
}

export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
export const readUnits = (bytes: number, consistent: boolean) =>
  Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);

// ---------------------------------------------------------------------------------------------------
// Counting (in the worker)

export interface OpFigures {
  calls: number;
  errors: number;
  requestBytes: number;
  responseBytes: number;
  /** SQS: 64 KB chunks billed; S3: objects; DynamoDB: items written or read. */
  billed: number;
  wcu: number;
  rru: number;
}

export interface SizeFigures {
  count: number;
  total: number;
  max: number;
  sizes: number[];
}

export interface FunctionFigures {
  invocations: number;
  ms: number[];
  cpuMs: number;
  logBytes: number;
  logLines: number;
}

export interface Figures {
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

export type Caller = string;
/** Whose calls are being counted: the function invoked, the event source mapping or the bench itself. */
export const current: { caller: Caller } = { caller: 'bench' };

export function emptyFigures(): Figures {
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

export const fig = emptyFigures();

export function op(service: string, name: string): OpFigures {
  const key = `${current.caller} ${service} ${name}`;
  fig.ops[key] ??= { calls: 0, errors: 0, requestBytes: 0, responseBytes: 0, billed: 0, wcu: 0, rru: 0 };
  return fig.ops[key];
}

export function sized(table: string, kind: 'written' | 'read', bytes: number) {
  const key = `${table} ${kind}`;
  fig.items[key] ??= { count: 0, total: 0, max: 0, sizes: [] };
  const s = fig.items[key];
  s.count++;
  s.total += bytes;
  s.max = Math.max(s.max, bytes);
  s.sizes.push(bytes);
}

export type Item = Record<string, AttributeValue>;
export type Json = Record<string, unknown>;

/** The units DynamoDB charged as the emulator reports them (it applies the size rule to old and new item). */
export function consumed(output: Json | undefined): number | undefined {
  const c = output?.ConsumedCapacity;
  if (Array.isArray(c)) return c.reduce((n: number, x: Json) => n + Number(x.CapacityUnits ?? 0), 0);
  if (c && typeof c === 'object') return Number((c as Json).CapacityUnits ?? 0);
  return undefined;
}

/** What a document item would cost with its JSON gzipped into a binary attribute (a measured what-if). */
export function gzipWhatIf(item: Item, size: number) {
  const doc = item.doc?.S;
  if (doc === undefined) return;
  fig.docWrites.writes++;
  fig.docWrites.wcu += writeUnits(size);
  fig.docWrites.wcuGzipped += writeUnits(size - utf8(doc) + gzipSync(doc).length);
}

export type Units = (input: Json, output: Json | undefined, f: OpFigures) => void;

export const tableOf = (input: Json) => String(input.TableName ?? '');

/** Single-item writes: the emulator's figure (old and new item) when it succeeded, else the item's own. */
export const putUnits: Units = (input, output, f) => {
  const size = itemSize(input.Item as Item);
  sized(tableOf(input), 'written', size);
  f.billed++;
  f.wcu += (output && consumed(output)) ?? writeUnits(size);
  gzipWhatIf(input.Item as Item, size);
};

export const updateUnits: Units = (_input, output, f) => {
  f.billed++;
  f.wcu += consumed(output) ?? 1;
};

export const getUnits: Units = (input, output, f) => {
  const item = output?.Item as Json | undefined;
  const size = item ? plainItemSize(item) : 0;
  if (item) sized(tableOf(input), 'read', size);
  f.billed++;
  f.rru += readUnits(size, input.ConsistentRead === true);
};

/** Query and Scan: the items' sizes summed, then rounded once. */
export const queryUnits: Units = (input, output, f) => {
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
export const batchGetUnits: Units = (input, output, f) => {
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

export const batchWriteUnits: Units = (input, output, f) => {
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
export const DYNAMO_UNITS: Record<string, Units> = {
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
export function sqsPayload(name: string, input: Json, output: Json | undefined): number {
  if (name === 'SendMessage') return utf8(String(input.MessageBody ?? ''));
  if (name === 'SendMessageBatch') {
    return ((input.Entries ?? []) as Json[]).reduce((n, e) => n + utf8(String(e.MessageBody ?? '')), 0);
  }
  if (name === 'ReceiveMessage') {
    return ((output?.Messages ?? []) as Json[]).reduce((n, m) => n + utf8(String(m.Body ?? '')), 0);
  }
  return 0;
}

export function bodyBytes(message: { body?: unknown; headers?: Record<string, string> } | undefined): number {
  const body = message?.body;
  if (typeof body === 'string') return utf8(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return Number(message?.headers?.['content-length'] ?? 0);
}

export function record(
  service: string,
  command: string,
  input: Json,
  output: Json | undefined,
  bytes: number[],
) {
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
export function instrument(service: string, stack: MiddlewareStack<Json, MetadataBearer>) {
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

export const stackOf = (client: { middlewareStack: unknown }) =>
  client.middlewareStack as MiddlewareStack<Json, MetadataBearer>;
