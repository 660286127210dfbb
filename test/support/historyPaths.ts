// The two ways a run reads history, side by side over one archive, for the equal-results tests: the
// reducer's fold of every archive object (segmentation/history.ts) and history SQL over the columnar
// archive the compaction writes (lib/history, DuckDB). The archive is built in memory as the archiver
// lays it out (raw/dt=<received day>/ objects of up to 500 events, in arrival order) and the identity
// graph is resolved from the same events by the real resolver over the memory store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DuckdbHistory,
  type DuckdbOptions,
  duckdbHistory,
} from '../../lib/adapters/duckdb/historyEngine.js';
import { memoryIdentityStore } from '../../lib/adapters/memory/identityStore.js';
import {
  type ArchiveRecord,
  archiveObjectKey,
  partitionOf,
  toArchiveRecord,
} from '../../lib/archive/record.js';
import { parseConfig } from '../../lib/config.js';
import { factRowOf } from '../../lib/history/facts.js';
import { sqlFeaturesAsOf } from '../../lib/history/features.js';
import { identityRules } from '../../lib/identity/graph.js';
import { linksOf } from '../../lib/identity/links.js';
import { recordLinks } from '../../lib/identity/resolve.js';
import type { IdentityStore } from '../../lib/identity/store.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { type CustomerFeatures, featuresOf, holdoutDayOf } from '../../lib/segmentation/features.js';
import { type ArchiveSource, historyAsOf } from '../../lib/segmentation/history.js';
import { type ExternalIds, externalIdsOf } from '../../lib/segmentation/identifiers.js';

const OBJECT_EVENTS = 500;
const LINK_BATCH = 200;
const silent = { warn() {}, info() {}, error() {}, debug() {} };

export interface Archive {
  /** Object key -> rows, keys in arrival order. */
  readonly objects: Map<string, ArchiveRecord[]>;
  readonly identity: IdentityStore;
}

/** Archives `events` (already in arrival order) and resolves their identities. */
export async function archiveOf(events: readonly NormalizedEvent[]): Promise<Archive> {
  const objects = new Map<string, ArchiveRecord[]>();
  let open: { key: string; day: string; rows: ArchiveRecord[] } | undefined;
  let serial = 0;
  for (const e of events) {
    const day = partitionOf(e);
    if (open === undefined || open.day !== day || open.rows.length >= OBJECT_EVENTS) {
      const at = Math.max(Date.parse(e.receivedAt), Date.parse(`${day}T00:00:00Z`)) + serial * 1000;
      open = { key: archiveObjectKey(day, at, `w${String(serial++).padStart(6, '0')}`), day, rows: [] };
      objects.set(open.key, open.rows);
    }
    open.rows.push(toArchiveRecord(e, e.receivedAt));
  }
  const identity = memoryIdentityStore();
  const deps = {
    store: identity,
    rules: identityRules(parseConfig({}).identifiers),
    now: Date.now,
    log: silent,
  };
  for (let i = 0; i < events.length; i += LINK_BATCH) {
    await recordLinks(events.slice(i, i + LINK_BATCH).map(linksOf), deps);
  }
  return { objects, identity };
}

export interface PathResult {
  readonly features: Map<string, CustomerFeatures>;
  readonly ids: Map<string, ExternalIds>;
}

/** The reducer's path, as the run takes it today. */
export async function reducerPath(
  archive: Archive,
  asOf: number,
  holdoutDay = holdoutDayOf(asOf),
): Promise<PathResult> {
  const keys = [...archive.objects.keys()].sort();
  const source: ArchiveSource = {
    async *keys() {
      yield* keys;
    },
    records: async (key) => archive.objects.get(key) ?? [],
  };
  const history = await historyAsOf(asOf, { archive: source, identity: archive.identity, log: silent });
  const features = new Map<string, CustomerFeatures>();
  const ids = new Map<string, ExternalIds>();
  for (const [customerId, agg] of history.customers) {
    features.set(customerId, featuresOf(customerId, agg, asOf, holdoutDay));
    ids.set(customerId, externalIdsOf(agg));
  }
  return { features, ids };
}

/** The columnar archive of `archive`, one Parquet file per received day, in a temporary folder. */
export async function columnarOf(
  archive: Archive,
  options: DuckdbOptions = {},
): Promise<{ engine: DuckdbHistory; dispose(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'precis-history-'));
  const engine = await duckdbHistory(root, { threads: 1, memoryMb: 512, ...options });
  const days = new Map<string, ArchiveRecord[]>();
  for (const key of [...archive.objects.keys()].sort()) {
    const day = key.slice('raw/dt='.length, 'raw/dt='.length + 10);
    const rows = days.get(day) ?? [];
    rows.push(...(archive.objects.get(key) ?? []));
    days.set(day, rows);
  }
  for (const [day, rows] of days)
    await engine.writeDay(
      day,
      rows.map((r) => factRowOf(r, day)),
    );
  return {
    engine,
    async dispose() {
      engine.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** History SQL's path over the columnar archive. */
export async function sqlPath(
  engine: DuckdbHistory,
  archive: Archive,
  asOf: number,
  holdoutDay = holdoutDayOf(asOf),
): Promise<PathResult> {
  const { features, ids } = await sqlFeaturesAsOf(
    asOf,
    { engine, identity: archive.identity },
    undefined,
    holdoutDay,
  );
  return { features: new Map(features.map((f) => [f.customerId, f])), ids };
}
