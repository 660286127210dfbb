// The cost benchmark's worker: a sample of the real datasets through the deployed handlers, invoked as
// Lambda invokes them, against the emulators; what they cost is counted by ./counting.ts.
import { createHash, randomUUID } from 'node:crypto';
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
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { apiKeysTable } from '../../lib/adapters/dynamodb/apiKeysTable.js';
import { createApiKey } from '../../lib/auth/apiKeys.js';
import {
  createDynamoDb,
  createDynamoDbClient,
  createS3,
  createSqs,
  hookSharedClients,
} from '../../lib/aws/clients.js';
import { type Config, config } from '../../lib/config.js';
import {
  datasetPath,
  onlineRetailEvents,
  onlineRetailIdentifies,
  rees46Events,
} from '../../lib/datasets/index.js';
import type { SpecEventInput } from '../../lib/ingest/spec.js';
import {
  type HttpHandler,
  receivedMessages,
  type SqsHandler,
  sqsEvent,
} from '../../test/support/sqsEvents.js';
import { percentile, segmentBodies } from '../common.js';
import { current, fig, instrument, itemSize, stackOf, utf8 } from './counting.js';

// ---------------------------------------------------------------------------------------------------
// The sample: whole customers (every event of each), so that profiles, timelines and ledgers reach the
// sizes real histories give them.

export const customerOf = (e: SpecEventInput) => {
  const x = e as { userId?: unknown; anonymousId?: unknown; messageId?: unknown };
  return String(x.userId ?? x.anonymousId ?? x.messageId ?? '');
};

export function pickCustomers(
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

export async function sample(total: number, reesShare: number | undefined) {
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
export const batches = (events: SpecEventInput[], size: number): string[] =>
  segmentBodies(events, new Date().toISOString(), size).map((b) => b.body);

// ---------------------------------------------------------------------------------------------------
// The worker: the handlers, invoked as Lambda invokes them.

/**
 * The functions' own timeouts are not enforced: against the emulators, many times slower than DynamoDB
 * and S3, a consumer that takes seconds on AWS can take minutes, and middy would cut it short.
 */
export const BENCH_TIMEOUT_MS = 30 * 60_000;

export function lambdaContext(c: Config, functionName: string, memoryMb: number): Context {
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

export const logText: string[] = [];

/** Runs one invocation as `fn`, timing it and counting what it logs. */
export async function invoke<T>(fn: string, call: () => Promise<T>): Promise<T> {
  fig.functions[fn] ??= { invocations: 0, ms: [], cpuMs: 0, logBytes: 0, logLines: 0 };
  const f = fig.functions[fn];
  current.caller = fn;
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    return await call();
  } finally {
    f.ms.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    f.cpuMs += (used.user + used.system) / 1000;
    f.invocations++;
    current.caller = 'bench';
  }
}

/** The functions log JSON lines to stdout: count them per function instead of printing them. */
export function captureLogs() {
  process.stdout.write = ((chunk: string | Uint8Array) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const f = fig.functions[current.caller];
    if (f) {
      f.logBytes += utf8(text);
      f.logLines += text.split('\n').length - 1;
      logText.push(text);
    }
    return true;
  }) as typeof process.stdout.write;
}

/** An S3 ObjectCreated notification as S3 sends it to SQS (key URL-encoded, spaces as '+'). */
export function s3Notification(c: Config, key: string, size: number): string {
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

export interface Queue {
  readonly url: string;
  readonly arn: string;
}

export async function queue(sqs: SQSClient, name: string): Promise<Queue> {
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
export async function drain(
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
    const result = await invoke(fn, () =>
      handler(
        sqsEvent(receivedMessages(messages), { arn: q.arn, region: c.region, senderId: 'bench' }),
        context,
      ),
    );
    const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    const done = messages.filter((m) => !failed.has(String(m.MessageId)));
    if (failed.size > 0) console.error(`${fn}: ${failed.size} records failed (they will be retried)`);
    current.caller = 'event source';
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
    current.caller = 'bench';
    handled += done.length;
  }
}

export async function receiveBatch(esm: SQSClient, q: Queue, batchSize: number) {
  const messages: NonNullable<ReceiveMessageCommandOutput['Messages']> = [];
  current.caller = 'event source';
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
    current.caller = 'bench';
  }
}

export const WorkerArgs = z.object({
  events: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  reesShare: z.number().min(0).max(1).optional(),
  settings: z.record(z.string(), z.object({ batchSize: z.number(), memoryMb: z.number() })),
});
export type WorkerArgs = z.infer<typeof WorkerArgs>;

/** A function's settings from serverless.yml (the SQS trigger's batch size, memory). */
export function settingOf(args: WorkerArgs, fn: string) {
  const s = args.settings[fn];
  if (!s) throw new Error(`serverless.yml has no function ${fn}`);
  return s;
}

export async function worker(args: WorkerArgs) {
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
  const { handler: ingest } = (await import('../../functions/http/ingest.js')) as { handler: HttpHandler };
  const { handler: archive } = (await import('../../functions/queue/archive.js')) as { handler: SqsHandler };
  const { handler: profiles } = (await import('../../functions/queue/profiles.js')) as {
    handler: SqsHandler;
  };
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
  current.caller = 's3 notifications';
  for (const o of objects) {
    await esm.send(
      new SendMessageCommand({ QueueUrl: profilesQueue.url, MessageBody: s3Notification(c, o.key, o.size) }),
    );
  }
  current.caller = 'bench';
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
      p50: percentile(sizes, 50, 0),
      p95: percentile(sizes, 95, 0),
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

export async function queueLength(sqs: SQSClient, q: Queue): Promise<number> {
  const a = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
}

export async function listObjects(s3: ReturnType<typeof createS3>, bucket: string, prefix: string) {
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
