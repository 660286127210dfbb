// npm run bench:load [-- --connections 100] [--events 10000] [--max-seconds 300] [--http-concurrency 4]
//                    [--via gateway|offline]
// A bounded load test of the local stack's HTTP API with what SDKs send: `connections` clients at once,
// half shaped like the RudderStack SDK (gzipped batches of 20) and half like the Segment SDK (plain JSON
// batches of 15), over real Online Retail orders. Every batch is sent twice with the same messageIds (a
// replay), and a 5xx or a broken connection is retried as the SDKs do. Stops by itself: no new request
// after --max-seconds, then the pipeline drains and the archive is read back to check the contract:
// every event of a request answered 200 is archived exactly once (0 lost, 0 doubled, 0 HTTP 200 for an
// event that was not stored).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { archiveReader } from '../lib/adapters/s3/archiveBucket.js';
import { waitUntilDrained } from '../lib/adapters/sqs/drained.js';
import { createS3, createSqs } from '../lib/aws/clients.js';
import { datasetsAvailable } from '../lib/datasets/index.js';
import type { SpecEventInput } from '../lib/ingest/spec.js';
import { retailOrders } from '../local/replay.js';
import { type LocalStack, startLocalStack } from '../local/stack.js';
import { machine, mb, peakRss, percentile, processPeakRss } from './common.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '100' },
    events: { type: 'string', default: '10000' },
    'max-seconds': { type: 'string', default: '300' },
    'http-concurrency': { type: 'string', default: '4' },
    attempts: { type: 'string', default: '6' },
    // offline: straight to serverless-offline's own HTTP server, to measure what the gateway fixes.
    via: { type: 'string', default: 'gateway' },
  },
});
const CONNECTIONS = Number(values.connections);
const EVENTS = Number(values.events);
const MAX_SECONDS = Number(values['max-seconds']);
const ATTEMPTS = Number(values.attempts);
const apiUrl = (stack: LocalStack) => (values.via === 'offline' ? stack.offlineHttpUrl : stack.httpUrl);

interface Shape {
  readonly name: 'rudderstack' | 'segment';
  readonly perRequest: number;
  readonly gzip: boolean;
}
const SHAPES: readonly Shape[] = [
  { name: 'rudderstack', perRequest: 20, gzip: true },
  { name: 'segment', perRequest: 15, gzip: false },
];

interface Figures {
  /** Per HTTP attempt, ms. */
  readonly latencies: number[];
  readonly statuses: Map<string, number>;
  /** messageId -> number of requests carrying it that were answered 200 and accepted it. */
  readonly acknowledged: Map<string, number>;
  /** Requests that never got a 200 within the attempts (their events may or may not be stored). */
  gaveUp: number;
  requests: number;
}

function requestOf(stack: LocalStack, shape: Shape, batch: SpecEventInput[]): RequestInit {
  const sentAt = new Date().toISOString();
  const json = JSON.stringify({
    batch,
    sentAt,
    ...(shape.name === 'rudderstack' ? { timestamp: sentAt } : {}),
  });
  return {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${stack.writeKey}:`).toString('base64')}`,
      'content-type': 'application/json',
      ...(shape.gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body: shape.gzip ? gzipSync(json) : json,
  };
}

/** One batch, retried on 5xx and network errors with exponential backoff, as both SDKs do. */
async function deliver(stack: LocalStack, shape: Shape, batch: SpecEventInput[], f: Figures) {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(Math.min(8_000, 200 * 2 ** attempt));
    const started = performance.now();
    let status: string;
    try {
      const res = await fetch(`${apiUrl(stack)}/v1/batch`, requestOf(stack, shape, batch));
      const body = await res.text();
      status = String(res.status);
      // An SDK takes any 200 as delivered, whatever the body (serverless-offline's own server answers a
      // failed function 200 with the error as body): so does the count.
      if (res.status === 200) {
        const rejected = new Set(
          ((JSON.parse(body) as { rejected?: { index: number }[] }).rejected ?? []).map((r) => r.index),
        );
        batch.forEach((e, i) => {
          if (!rejected.has(i))
            f.acknowledged.set(String(e.messageId), (f.acknowledged.get(String(e.messageId)) ?? 0) + 1);
        });
      }
    } catch (error) {
      status = `network: ${(error as Error).cause ?? (error as Error).message}`;
    }
    f.latencies.push(performance.now() - started);
    f.statuses.set(status, (f.statuses.get(status) ?? 0) + 1);
    f.requests++;
    // 4xx other than 429 is final for an SDK (a bad batch is not retried); here every batch is valid.
    if (status === '200' || (/^4/.test(status) && status !== '429')) return;
  }
  f.gaveUp++;
}

function batches(events: SpecEventInput[], size: number): SpecEventInput[][] {
  return Array.from({ length: Math.ceil(events.length / size) }, (_, i) =>
    events.slice(i * size, (i + 1) * size),
  );
}

async function run(stack: LocalStack, events: SpecEventInput[]) {
  const f: Figures = { latencies: [], statuses: new Map(), acknowledged: new Map(), gaveUp: 0, requests: 0 };
  const stopAt = Date.now() + MAX_SECONDS * 1000;
  let cutShort = 0;
  const connection = async (c: number) => {
    const shape = SHAPES[c % SHAPES.length] as Shape;
    const mine = batches(
      events.filter((_, i) => i % CONNECTIONS === c),
      shape.perRequest,
    );
    // The same batches again, in reverse order: an app replaying what it is unsure was delivered.
    for (const batch of [...mine, ...[...mine].reverse()]) {
      if (Date.now() > stopAt) {
        cutShort++;
        continue;
      }
      await deliver(stack, shape, batch, f);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, c) => connection(c)));
  return { f, seconds: (Date.now() - started) / 1000, cutShort };
}

if (!datasetsAvailable()) {
  console.error('The datasets are missing (../shared/data); the benchmark needs real data.');
  process.exit(1);
}
const stack = await startLocalStack({
  logLevel: 'WARN',
  watch: false,
  httpConcurrency: Number(values['http-concurrency']),
});
try {
  const prefix = `load-${randomUUID()}`;
  const events = await retailOrders(prefix, EVENTS);
  console.log(`# Load test of the local stack — ${new Date().toISOString()}`);
  console.log(`machine: ${machine()}`);
  console.log(
    `load: ${CONNECTIONS} connections (half RudderStack-shaped: gzip, 20 a batch; half Segment-shaped: 15 a batch), ` +
      `${events.length} real orders each sent twice, ` +
      (values.via === 'offline'
        ? "straight to serverless-offline's own HTTP server"
        : `through the gateway, ${values['http-concurrency']} invocations in flight per function`),
  );
  const { f, seconds, cutShort } = await run(stack, events);
  const drainStarted = Date.now();
  const { queues } = stack.config;
  // The archive is complete once the ingest queue is empty (profiles come after, and are not counted).
  // Bounded: a report that says the queue had not drained beats no report.
  const drained = await waitUntilDrained(createSqs(stack.config), [queues.ingest], {
    timeoutMs: 900_000,
  }).then(
    () => true,
    () => false,
  );
  const drainSeconds = (Date.now() - drainStarted) / 1000;

  const copies = new Map<string, number>();
  const reader = archiveReader(createS3(stack.config), stack.config.buckets.archive);
  for await (const r of reader.allRecords()) {
    if (r.message_id.startsWith(prefix)) copies.set(r.message_id, (copies.get(r.message_id) ?? 0) + 1);
  }
  const ackedUnstored = [...f.acknowledged.keys()].filter((id) => !copies.has(id));
  const doubled = [...copies.values()].filter((n) => n > 1).length;
  const storedUnacked = [...copies.keys()].filter((id) => !f.acknowledged.has(id)).length;
  const latencies = f.latencies.sort((a, b) => a - b);
  const ms = (p: number) => `${percentile(latencies, p).toFixed(0)} ms`;
  const statuses = [...f.statuses].map(([s, n]) => `${s}: ${n}`).join(', ');

  console.log(`requests             ${f.requests} in ${seconds.toFixed(1)} s (${statuses})`);
  console.log(
    `cut short            ${cutShort} batches not sent (the --max-seconds bound), ${f.gaveUp} given up after ${ATTEMPTS} attempts`,
  );
  console.log(
    `acknowledged         ${f.acknowledged.size} distinct events answered 200 (${[...f.acknowledged.values()].reduce((a, b) => a + b, 0)} acknowledgements)`,
  );
  console.log(
    `archived             ${copies.size} distinct events (${storedUnacked} stored without a 200: answered 5xx, then stored, as a retry would find)`,
  );
  console.log(`lost / doubled       ${ackedUnstored.length} / ${doubled}`);
  console.log(`200 for unstored     ${ackedUnstored.length}`);
  console.log(
    `throughput           ${Math.round((2 * f.acknowledged.size) / seconds)} events/s sent and acknowledged, ${Math.round(f.requests / seconds)} requests/s`,
  );
  console.log(`latency per request  p50 ${ms(50)}, p95 ${ms(95)}, p99 ${ms(99)}, max ${ms(100)}`);
  console.log(
    drained
      ? `drain                ${drainSeconds.toFixed(1)} s until the ingest queue was empty (all archived)`
      : `drain                NOT drained after ${drainSeconds.toFixed(0)} s: the archive was read as it stood`,
  );
  console.log(
    `peak RSS             ${mb(peakRss())} load generator and emulators, ${mb(await processPeakRss(stack.offlinePid))} serverless-offline and its function workers`,
  );
  if (ackedUnstored.length > 0 || doubled > 0) process.exitCode = 1;
} finally {
  await stack.stop();
}
