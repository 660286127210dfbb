// npm run bench:profiles [-- --events N] [--concurrency N] [--in-process-only]
// Profile updates through the consumer (identity resolution + partial profiles, with their timelines, per archive
// object), on the real datasets cut into archive objects as the archive consumer writes them, with REES46
// visitors anonymous until they add to cart (so that identity resolution does real work):
//   1. in-process, with the storage ports replaced by in-memory adapters (the code's own cost);
//   2. against the local emulators (dynalite, s3rver), as the local stack runs it.
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import pMap from 'p-map';
import { identityTable } from '../lib/adapters/dynamodb/identityTable.js';
import { profilesTable } from '../lib/adapters/dynamodb/profilesTable.js';
import { memoryIdentityStore } from '../lib/adapters/memory/identityStore.js';
import { memoryArchive, memoryPartialStore } from '../lib/adapters/memory/profileStores.js';
import { archiveBucket, archiveReader } from '../lib/adapters/s3/archiveBucket.js';
import {
  type ArchiveRecord,
  archiveObjectKey,
  encodeArchiveObject,
  toArchiveRecord,
} from '../lib/archive/record.js';
import { createDynamoDb, createDynamoDbClient, createS3, createSqs } from '../lib/aws/clients.js';
import { parseConfig } from '../lib/config.js';
import { datasetsAvailable, demoEvents } from '../lib/datasets/index.js';
import { identityRules } from '../lib/identity/graph.js';
import { packEnvelopes } from '../lib/ingest/envelope.js';
import type { NormalizedEvent } from '../lib/ingest/normalized.js';
import { routeRequest } from '../lib/ingest/route.js';
import type { Logger } from '../lib/log.js';
import { applyArchiveObject, type ProfileDeps } from '../lib/profiles/consume.js';
import { startEmulators } from '../local/emulators.js';
import { provision } from '../local/provision.js';
import { loadServiceDefinition } from '../local/service.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    'in-process-only': { type: 'boolean', default: false },
  },
});

const quiet: Logger = {
  debug() {},
  info() {},
  warn() {},
  error: (m: string) => console.error(m),
} as unknown as Logger;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const peakRss = () => process.resourceUsage().maxRSS * 1024;

type RawEvent = { userId?: string; anonymousId?: string; event?: string; context?: { sessionId?: string } };

/**
 * The datasets know every visitor by userId; real web traffic does not. So that the benchmark pays for
 * identity resolution as a shop would, a REES46 session browses anonymously (anonymousId = its session)
 * until its first cart add, where the visitor logs in: from then on its events carry both ids, which
 * links the session to the user. Online Retail (orders and CRM identifies) stays known by userId.
 */
function browseAnonymouslyUntilCart(events: RawEvent[]): RawEvent[] {
  const loggedIn = new Set<string>();
  return events.map((e) => {
    const session = e.context?.sessionId;
    if (session === undefined || e.userId === undefined) return e;
    const anonymousId = `anon-${session}`;
    if (e.event === 'Product Added' || e.event === 'Order Completed') loggedIn.add(session);
    if (loggedIn.has(session)) return { ...e, anonymousId };
    const { userId: _known, ...anonymous } = e;
    return { ...anonymous, anonymousId };
  });
}

/** The datasets as the edge normalizes them, cut into objects as the archive consumer writes them. */
async function archiveObjects(limit: number): Promise<{ key: string; rows: ArchiveRecord[] }[]> {
  const quality = parseConfig({}).quality;
  const events: RawEvent[] = [];
  for await (const e of demoEvents()) {
    if (events.length >= limit) break;
    events.push(e as RawEvent);
  }
  const raw = browseAnonymouslyUntilCart(events);
  const receivedAt = Date.now();
  const accepted: NormalizedEvent[] = [];
  for (let i = 0; i < raw.length; i += 500) {
    const routed = routeRequest(
      'batch',
      { batch: raw.slice(i, i + 500) },
      { sourceId: 'bench', receivedAt },
      { quality, bodyBytes: 1e6 },
    );
    accepted.push(...routed.accepted);
  }
  // A consumer invocation takes up to 10 envelopes of <= 64 KB: that is one archive object.
  const envelopes = packEnvelopes(accepted).map(
    (body) => (JSON.parse(body) as { events: NormalizedEvent[] }).events,
  );
  const objects: { key: string; rows: ArchiveRecord[] }[] = [];
  const day = new Date(receivedAt).toISOString().slice(0, 10);
  for (let i = 0; i < envelopes.length; i += 10) {
    const at = receivedAt + objects.length * 1000;
    const events = envelopes.slice(i, i + 10).flat();
    objects.push({
      key: archiveObjectKey(day, at, `bench-${objects.length}`),
      rows: events.map((e) => toArchiveRecord(e, new Date(at).toISOString())),
    });
  }
  return objects;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function run(label: string, keys: string[], deps: ProfileDeps, concurrency: number) {
  const durations: number[] = [];
  let events = 0;
  let updates = 0;
  let edges = 0;
  const started = performance.now();
  await pMap(
    keys,
    async (key) => {
      const t = performance.now();
      const r = await applyArchiveObject(key, deps);
      durations.push(performance.now() - t);
      events += r.events;
      updates += r.updated;
      edges += r.newEdges;
    },
    { concurrency },
  );
  const seconds = (performance.now() - started) / 1000;
  durations.sort((a, b) => a - b);
  console.log(`\n## ${label}`);
  console.log(
    `objects              ${keys.length} (${concurrency} consumer${concurrency > 1 ? 's' : ''} at a time)`,
  );
  console.log(
    `events               ${events} in ${seconds.toFixed(1)} s: ${Math.round(events / seconds).toLocaleString('en')} events/s`,
  );
  console.log(
    `profile updates      ${updates}: ${Math.round(updates / seconds).toLocaleString('en')} partial profiles written/s`,
  );
  console.log(`identity links       ${edges} new edges resolved`);
  console.log(
    `per object           p50 ${percentile(durations, 50).toFixed(0)} ms, p95 ${percentile(durations, 95).toFixed(0)} ms`,
  );
  console.log(`peak RSS so far      ${mb(peakRss())}`);
}

if (!datasetsAvailable()) {
  console.error('The datasets are missing (../shared/data); the benchmark needs real data.');
  process.exit(1);
}
const objects = await archiveObjects(values.events ? Number(values.events) : Number.POSITIVE_INFINITY);
const concurrency = Number(values.concurrency);
console.log(`# Profiles benchmark — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${mb(totalmem())}, Node ${process.version}`,
);
console.log(
  `data: ${objects.reduce((n, o) => n + o.rows.length, 0)} archived events of Online Retail and REES46 in ${objects.length} objects ` +
    '(REES46 sessions anonymous until their first cart add)',
);

const config = parseConfig({});
const rules = identityRules(config.identifiers);
{
  const archive = memoryArchive();
  for (const o of objects) archive.put(o.key, o.rows);
  const deps: ProfileDeps = {
    archive,
    partials: memoryPartialStore(),
    identity: { store: memoryIdentityStore(), rules, now: Date.now, log: quiet },
    log: quiet,
  };
  await run(
    'In-process (in-memory storage), one consumer',
    objects.map((o) => o.key),
    deps,
    1,
  );
}

if (!values['in-process-only']) {
  const def = await loadServiceDefinition('local');
  const emulators = await startEmulators({ dynamodb: 0, s3: 0, sqs: 0 }, 'eu-west-1');
  try {
    const local = parseConfig({
      ...def.provider.environment,
      PRECIS_ENDPOINT_DYNAMODB: emulators.endpoints.dynamodb,
      PRECIS_ENDPOINT_S3: emulators.endpoints.s3,
      PRECIS_ENDPOINT_SQS: emulators.endpoints.sqs,
    });
    await provision(
      def,
      { dynamodb: createDynamoDbClient(local), s3: createS3(local), sqs: createSqs(local) },
      'eu-west-1',
    );
    const s3 = createS3(local);
    const bucket = archiveBucket(s3, local.buckets.archive);
    for (const o of objects) await bucket.put(o.key, encodeArchiveObject(o.rows));
    const db = createDynamoDb(local);
    const deps: ProfileDeps = {
      archive: archiveReader(s3, local.buckets.archive),
      partials: profilesTable(db, local.tables.profiles),
      identity: { store: identityTable(db, local.tables.identity), rules, now: Date.now, log: quiet },
      log: quiet,
    };
    await run(
      `Local emulators (dynalite, s3rver), ${concurrency} consumers`,
      objects.map((o) => o.key),
      deps,
      concurrency,
    );
  } finally {
    await emulators.stop();
  }
}
