// npm run bench:ingest [-- --hot-only | --e2e-only] [--data all|retail|rees46] [--events N] [--passes N]
//                      [--concurrency N] [--log-level INFO]
// 1. The hot path in-process, on one core: Segment batch bodies built from the real datasets go through
//    parse -> validate -> normalize -> quality rules -> dedup key -> route -> pack for SQS.
// 2. The local stack end to end: the same events POSTed to /v1/batch, timed from POST until archived,
//    and the archive counted to prove nothing was lost or archived twice.
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { archiveReader } from '../lib/adapters/s3/archiveBucket.js';
import { createS3 } from '../lib/aws/clients.js';
import { parseConfig } from '../lib/config.js';
import {
  datasetPath,
  datasetsAvailable,
  demoEvents,
  onlineRetailEvents,
  onlineRetailIdentifies,
  rees46Events,
} from '../lib/datasets/index.js';
import { packEnvelopes } from '../lib/ingest/envelope.js';
import { routeRequest } from '../lib/ingest/route.js';
import type { SpecEventInput } from '../lib/ingest/spec.js';
import { startLocalStack } from '../local/stack.js';

const { values } = parseArgs({
  options: {
    'hot-only': { type: 'boolean', default: false },
    'e2e-only': { type: 'boolean', default: false },
    events: { type: 'string' },
    passes: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '4' },
    'log-level': { type: 'string', default: 'WARN' },
    data: { type: 'string', default: 'all' },
  },
});

/** What analytics-node sends: batches of at most 480 KB (and here at most 500 events). */
function segmentBodies(events: SpecEventInput[], sentAt: string): { body: string; count: number }[] {
  const bodies: { body: string; count: number }[] = [];
  let parts: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (parts.length === 0) return;
    bodies.push({ body: `{"batch":[${parts.join(',')}],"sentAt":"${sentAt}"}`, count: parts.length });
    parts = [];
    bytes = 0;
  };
  for (const e of events) {
    const json = JSON.stringify(e);
    if (parts.length === 500 || bytes + json.length > 480 * 1024) flush();
    parts.push(json);
    bytes += json.length + 1;
  }
  flush();
  return bodies;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;

function hotPath(events: SpecEventInput[], passes: number) {
  const bodies = segmentBodies(events, new Date().toISOString());
  const totalBytes = bodies.reduce((n, b) => n + Buffer.byteLength(b.body), 0);
  const quality = parseConfig({}).quality;
  let accepted = 0;
  let rejected = 0;
  let envelopes = 0;
  const stage = { parse: 0n, route: 0n, pack: 0n };
  const run = () => {
    for (const { body } of bodies) {
      const t0 = process.hrtime.bigint();
      const parsed: unknown = JSON.parse(body);
      const t1 = process.hrtime.bigint();
      const routed = routeRequest(
        'batch',
        parsed,
        { sourceId: 'bench', receivedAt: Date.now() },
        { quality, bodyBytes: body.length },
      );
      const t2 = process.hrtime.bigint();
      // The dedup key is the messageId; pack the accepted events as the edge would send them to SQS.
      envelopes += packEnvelopes(routed.accepted).length;
      const t3 = process.hrtime.bigint();
      stage.parse += t1 - t0;
      stage.route += t2 - t1;
      stage.pack += t3 - t2;
      accepted += routed.accepted.length;
      rejected += routed.rejected.length;
    }
  };
  run(); // warm-up: JIT and zod's compiled paths
  accepted = rejected = envelopes = 0;
  stage.parse = stage.route = stage.pack = 0n;
  const started = process.hrtime.bigint();
  for (let i = 0; i < passes; i++) run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const total = accepted + rejected;
  const perEvent = (ns: bigint) => `${(Number(ns) / total / 1000).toFixed(2)} µs`;
  console.log('\n## Hot path (in-process, one core)');
  console.log(
    `events per pass      ${events.length} in ${bodies.length} Segment batches (${mb(totalBytes)})`,
  );
  console.log(`passes               ${passes} (after one warm-up pass)`);
  console.log(`events processed     ${total} (${accepted} accepted, ${rejected} quarantined by the rules)`);
  console.log(
    `throughput           ${Math.round(total / seconds).toLocaleString('en')} events/s, ${((totalBytes * passes) / seconds / 1024 / 1024).toFixed(1)} MB/s`,
  );
  console.log(
    `per event            parse ${perEvent(stage.parse)}, validate+normalize+rules+route ${perEvent(stage.route)}, pack ${perEvent(stage.pack)}`,
  );
  console.log(`SQS envelopes        ${envelopes / passes} per pass`);
  console.log(`peak RSS             ${mb(peakRss())}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function endToEnd(events: SpecEventInput[], concurrency: number) {
  const stack = await startLocalStack({ logLevel: values['log-level'] });
  try {
    const bodies = segmentBodies(events, new Date().toISOString());
    const sentAtByMessage = new Map<string, number>();
    const acceptedIds = new Set<string>();
    let next = 0;
    const started = Date.now();
    const auth = `Basic ${Buffer.from(`${stack.writeKey}:`).toString('base64')}`;
    const worker = async () => {
      while (next < bodies.length) {
        const batch = bodies[next++];
        if (!batch) break;
        const t = Date.now();
        const res = await fetch(`${stack.httpUrl}/v1/batch`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/json' },
          body: batch.body,
        });
        const result = (await res.json()) as {
          rejected?: { index: number }[];
          details?: { rejected?: { index: number }[] };
        };
        if (res.status !== 200 && res.status !== 400)
          throw new Error(`POST /v1/batch answered ${res.status}`);
        const rejected = new Set((result.rejected ?? result.details?.rejected ?? []).map((r) => r.index));
        const sent = JSON.parse(batch.body).batch as { messageId: string }[];
        sent.forEach((e, i) => {
          if (rejected.has(i)) return;
          acceptedIds.add(e.messageId);
          sentAtByMessage.set(e.messageId, t);
        });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const posted = Date.now();

    // Wait until every accepted event is archived (bounded), then count every copy.
    const reader = archiveReader(createS3(stack.config), stack.config.buckets.archive);
    const seenKeys = new Set<string>();
    const copies = new Map<string, number>();
    const latencies: number[] = [];
    const deadline = Date.now() + 15 * 60_000;
    while (copies.size < acceptedIds.size && Date.now() < deadline) {
      for await (const key of reader.keys()) {
        if (seenKeys.has(key)) continue;
        seenKeys.add(key);
        for (const r of await reader.records(key)) {
          copies.set(r.message_id, (copies.get(r.message_id) ?? 0) + 1);
          const sent = sentAtByMessage.get(r.message_id);
          if (sent !== undefined) latencies.push(Date.parse(r.archived_at) - sent);
        }
      }
      if (copies.size < acceptedIds.size) await new Promise((r) => setTimeout(r, 500));
    }
    const done = Date.now();
    // A duplicate would arrive after the originals: look once more after a pause.
    await new Promise((r) => setTimeout(r, 3_000));
    for await (const key of reader.keys()) {
      if (seenKeys.has(key)) continue;
      for (const r of await reader.records(key))
        copies.set(r.message_id, (copies.get(r.message_id) ?? 0) + 1);
    }
    const lost = [...acceptedIds].filter((id) => !copies.has(id)).length;
    const duplicated = [...copies.values()].filter((n) => n > 1).length;
    latencies.sort((a, b) => a - b);
    console.log('\n## Local stack end to end (serverless-offline, emulators, HTTP on 127.0.0.1)');
    console.log(
      `events sent          ${events.length} in ${bodies.length} POSTs of up to 500 events, ${concurrency} in parallel`,
    );
    console.log(`accepted / archived  ${acceptedIds.size} / ${copies.size} in ${seenKeys.size} objects`);
    console.log(`lost, duplicated     ${lost}, ${duplicated}`);
    console.log(
      `ingest throughput    ${Math.round(acceptedIds.size / ((posted - started) / 1000)).toLocaleString('en')} events/s (POSTs acknowledged)`,
    );
    console.log(
      `end-to-end           ${Math.round(acceptedIds.size / ((done - started) / 1000)).toLocaleString('en')} events/s (first POST to last archived)`,
    );
    console.log(
      `POST -> archived     p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, max ${latencies.at(-1)} ms`,
    );
    console.log(
      `peak RSS             ${mb(peakRss())} (this process: client and emulators; serverless-offline runs apart)`,
    );
    if (lost > 0 || duplicated > 0) process.exitCode = 1;
  } finally {
    await stack.stop();
  }
}

if (!datasetsAvailable()) {
  console.error('The datasets are missing (../shared/data); the benchmark needs real data.');
  process.exit(1);
}
const limit = values.events ? Number(values.events) : Number.POSITIVE_INFINITY;
async function* source(): AsyncGenerator<SpecEventInput> {
  if (values.data === 'rees46') yield* rees46Events();
  else if (values.data === 'retail') {
    yield* onlineRetailIdentifies(datasetPath('online_retail'));
    yield* onlineRetailEvents(datasetPath('online_retail'));
  } else yield* demoEvents();
}
const events: SpecEventInput[] = [];
for await (const e of source()) {
  if (events.length >= limit) break;
  events.push(e);
}
const bytes = events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
console.log(`# Ingestion benchmark — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${mb(totalmem())}, Node ${process.version}`,
);
const names: Record<string, string> = {
  all: 'Online Retail (identifies, orders) and REES46 (browsing)',
  retail: 'Online Retail (identifies, orders)',
  rees46: 'REES46 (product views, cart adds, orders)',
};
console.log(
  `data: ${events.length} events from ${names[values.data] ?? values.data}, ${Math.round(bytes / events.length)} bytes each on average`,
);
if (!values['e2e-only']) hotPath(events, Number(values.passes));
if (!values['hot-only']) await endToEnd(events, Number(values.concurrency));
