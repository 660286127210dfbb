// Incremental nights: the node states (sql.ts) of every final day of the columnar archive are kept as a
// snapshot, so a run reads the snapshot plus only the days received since, instead of all history.
//
// - The snapshot covers whole received days up to `through`, the newest day compaction treats as final
//   (compact.ts `finalThrough`): those days no longer change, so neither does the snapshot. It records each
//   day's version (the Parquet file's ETag) and is rebuilt from scratch when one of them changed (an
//   erasure's rewrite, a day compacted by name after a late DLQ redrive).
// - Each run first advances the snapshot to the current final day: the states of the days since are
//   merged into it (mergeStatesSql) — the cost of a night is the new days, not the history.
// - A run as of `asOf` uses the snapshot when all of it is before `asOf` (its newest event, `maxTs`), and
//   merges in the events of the later days before `asOf`; otherwise (a back-test into the snapshot's
//   past) it recomputes from the whole archive. Both give the same answer (a property test).
// - A late event — behavior of a node at or before the last behavior its snapshot state holds — cannot be
//   merged after it (sessions and dwell depend on order): that node's state is recomputed from all of its
//   facts. Backfills make such nodes; a normal night has few.
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { StateTables } from './features.js';
import type { HistoryEngine } from './ports.js';
import {
  factsBefore,
  lateNodesSql,
  mergeStatesSql,
  ms,
  NODE_STATE_COLUMNS,
  nodeStatesSql,
  orderRowsSql,
} from './sql.js';

/** What an engine needs to keep a snapshot (DuckDB: tables in its database, files in its folder). */
export interface SnapshotEngine extends HistoryEngine {
  /** Runs a statement (CREATE TABLE … AS …) over the current facts. */
  exec(sql: string): Promise<void>;
  /** Each received day of the facts the engine reads, and its version (ETag, else size and time). */
  dayVersions(): Promise<Map<string, string>>;
  /** Stores these tables and the manifest (the manifest last), replacing the stored snapshot. */
  saveSnapshot(tables: readonly string[], manifest: SnapshotManifest): Promise<void>;
  /** Loads the stored snapshot's tables and returns its manifest; undefined when there is none. */
  loadSnapshot(tables: readonly string[]): Promise<unknown>;
  /** The engine and its version (`duckdb 1.5.…`). */
  readonly version: string;
  /** Events one node-state query may cover; more are split into passes over parts of the nodes. */
  readonly stateEventsPerPass: number;
}

/**
 * What the stored node states mean: bumped when nodeStatesSql's columns or their encoding change, and
 * joined with the engine's version (a key is the engine's hash of a text), so that a snapshot made by an
 * earlier deployment is rebuilt rather than merged with states it cannot be merged with.
 */
const STATES_FORMAT = 2;

export const SnapshotManifest = z.object({
  /** STATES_FORMAT and the engine's version when it was made (snapshots before the field: '1'). */
  format: z.string().default('1'),
  /** The last received day the snapshot holds (all of it, every event time). */
  through: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** The newest event time in it (epoch ms); null when it holds no event. */
  maxTs: z.number().int().nullable(),
  /** Every day it holds, with that day's version when it was read. */
  days: z.record(z.string(), z.string()),
});
export type SnapshotManifest = z.infer<typeof SnapshotManifest>;

/** The snapshot's tables; the run's tables (the states and order rows a run's customers are made of). */
export const SNAPSHOT = { state: 'snap_state', orders: 'snap_orders' } as const;
/** Views: a run reads the snapshot's states through them, with the nodes the run changed replaced. */
export const RUN = { state: 'run_state', orders: 'run_orders' } as const;
/** What the run's views read besides the snapshot: its changed nodes and its new order rows. */
const RUN_CHANGED = { state: 'run_changed_state', orders: 'run_new_orders' } as const;
const NEXT = 'next_state';
const LATE = 'late_nodes';
const RECOMPUTED = 'late_state';
const MERGED = 'merged_state';
const STATE_COLUMNS = NODE_STATE_COLUMNS.join(', ');

export interface SnapshotStep {
  /** kept: already current; advanced: days merged in; rebuilt: made from the whole archive (or first). */
  readonly action: 'kept' | 'advanced' | 'rebuilt';
  readonly through: string;
  /** Days merged in (advanced) or read (rebuilt). */
  readonly days: number;
  /** Nodes whose state was recomputed because of late events. */
  readonly lateNodes: number;
  /** Why it was rebuilt, when it was. */
  readonly reason?: string;
  /** The passes its node states were built in, when it was rebuilt (createStates). */
  readonly passes?: number;
}

/** The run's tables (features.ts reads customers from them) and how they were made. */
export interface RunStates extends StateTables {
  /** incremental: the snapshot plus the days after it; full: the whole archive (a back-test). */
  readonly mode: 'incremental' | 'full';
  readonly lateNodes: number;
}

/** A run's snapshot, loaded once per engine and kept in its tables. */
export interface Snapshots {
  advance(through: string): Promise<SnapshotStep>;
  /** Builds the run's tables (RUN) for `asOf`. */
  statesAsOf(asOf: number): Promise<RunStates>;
}

const dayIn = (from: string | undefined, through: string) =>
  `${from === undefined ? '' : `CAST(dt AS VARCHAR) > '${day(from)}' AND `}CAST(dt AS VARCHAR) <= '${day(through)}'`;

export function snapshots(engine: SnapshotEngine, log: Logger): Snapshots {
  const t = engine.dialect;
  const format = `${STATES_FORMAT}/${engine.version}`;
  let current: SnapshotManifest | undefined;
  let loaded = false;

  async function load(): Promise<void> {
    if (loaded) return;
    loaded = true;
    try {
      const stored = await engine.loadSnapshot([SNAPSHOT.state, SNAPSHOT.orders]);
      const parsed = SnapshotManifest.safeParse(stored);
      current = parsed.success ? parsed.data : undefined;
      if (stored !== undefined && !parsed.success)
        log.warn('history snapshot manifest unreadable: rebuilding', { error: parsed.error.message });
    } catch (error) {
      log.warn('history snapshot unreadable: rebuilding', { error: String(error) });
      current = undefined;
    }
  }

  /**
   * The snapshot's states merged with the states of the facts `next`, into the snapshot itself or the
   * run's views; late nodes recomputed from `all`. Only the nodes `next` touches are merged: the others
   * keep their snapshot state as it is, so a night costs the nodes its new data touches, not every node.
   */
  async function merge(next: string, all: string, into: typeof SNAPSHOT | typeof RUN): Promise<number> {
    await createStates(NEXT, next);
    await engine.exec(`CREATE OR REPLACE TEMP TABLE ${LATE} AS ${lateNodesSql(SNAPSHOT.state, NEXT)}`);
    const onTime = `node NOT IN (SELECT node FROM ${LATE})`;
    const touched = `(SELECT * FROM ${SNAPSHOT.state} WHERE node IN (SELECT node FROM ${NEXT}) AND ${onTime})`;
    // Late nodes are recomputed from all their facts: a scan of the whole archive, skipped on a night
    // without any; a backfill can make many, so in passes too.
    const lateNodes = await count(`SELECT count(*) AS n FROM ${LATE}`);
    if (lateNodes > 0)
      await createStates(RECOMPUTED, `(SELECT * FROM ${all} late WHERE node IN (SELECT node FROM ${LATE}))`);
    await engine.exec(`CREATE OR REPLACE TEMP TABLE ${MERGED} AS
SELECT ${STATE_COLUMNS} FROM (${mergeStatesSql(t, touched, `(SELECT * FROM ${NEXT} WHERE ${onTime})`)}) merged
${lateNodes > 0 ? `UNION ALL SELECT ${STATE_COLUMNS} FROM ${RECOMPUTED}` : ''}`);
    if (into === SNAPSHOT) {
      // In one transaction: a failure half-way (memory, a damaged file) must not leave a warm runner's
      // snapshot with the old states deleted and its manifest still saying they are there.
      await engine.exec('BEGIN TRANSACTION');
      try {
        await engine.exec(`DELETE FROM ${SNAPSHOT.state} WHERE node IN (SELECT node FROM ${MERGED})`);
        await engine.exec(`INSERT INTO ${SNAPSHOT.state} SELECT ${STATE_COLUMNS} FROM ${MERGED}`);
        await engine.exec(`INSERT INTO ${SNAPSHOT.orders} ${orderRowsSql(next)}`);
        await engine.exec('COMMIT');
      } catch (error) {
        await engine.exec('ROLLBACK');
        throw error;
      }
    } else {
      await engine.exec(`CREATE TABLE ${RUN_CHANGED.state} AS SELECT ${STATE_COLUMNS} FROM ${MERGED}`);
      await engine.exec(`CREATE TABLE ${RUN_CHANGED.orders} AS ${orderRowsSql(next)}`);
      await runViews(
        `SELECT ${STATE_COLUMNS} FROM ${SNAPSHOT.state} WHERE node NOT IN (SELECT node FROM ${RUN_CHANGED.state})
UNION ALL SELECT ${STATE_COLUMNS} FROM ${RUN_CHANGED.state}`,
        `SELECT * FROM ${SNAPSHOT.orders} UNION ALL SELECT * FROM ${RUN_CHANGED.orders}`,
      );
    }
    // A warm runner keeps the engine: what only this merge needed does not stay in its memory.
    for (const table of [NEXT, LATE, RECOMPUTED, MERGED]) await engine.exec(`DROP TABLE IF EXISTS ${table}`);
    return lateNodes;
  }

  /** The run's views over these queries (the previous run's tables dropped first: a warm runner). */
  async function runViews(states: string, orders: string): Promise<void> {
    await engine.exec(`CREATE OR REPLACE VIEW ${RUN.state} AS ${states}`);
    await engine.exec(`CREATE OR REPLACE VIEW ${RUN.orders} AS ${orders}`);
  }

  /** Drops the tables a previous run's views read (the views are replaced before they are read again). */
  async function dropRunTables(): Promise<void> {
    for (const table of Object.values(RUN_CHANGED)) await engine.exec(`DROP TABLE IF EXISTS ${table}`);
  }

  /**
   * Creates `table` with the node states of the facts `src`. A node's state needs only its own events, so
   * past `stateEventsPerPass` events the nodes are split by a hash of their name and each part is one
   * pass: memory is bounded by a pass, and the scan is repeated per pass (the first night of a large
   * archive, a back-test, the days since a long pause, a backfill's late nodes).
   */
  async function createStates(table: string, src: string): Promise<number> {
    const events = await count(`SELECT count(*) AS n FROM ${src} counted`);
    const passes = Math.max(1, Math.ceil(events / engine.stateEventsPerPass));
    for (let part = 0; part < passes; part++) {
      const nodes =
        passes === 1 ? src : `(SELECT * FROM ${src} whole WHERE ${t.part('node', passes)} = ${part})`;
      await engine.exec(
        `${part === 0 ? `CREATE OR REPLACE TABLE ${table} AS` : `INSERT INTO ${table}`} ${nodeStatesSql(t, nodes)}`,
      );
    }
    return passes;
  }

  async function count(sql: string): Promise<number> {
    for await (const page of engine.query(sql)) return Number(page[0]?.n ?? 0);
    return 0;
  }

  async function maxTs(): Promise<number | null> {
    for await (const page of engine.query(`SELECT max(last_ms) AS m FROM ${SNAPSHOT.state}`)) {
      const m = page[0]?.m;
      return m === null || m === undefined ? null : Number(m);
    }
    return null;
  }

  async function save(through: string, versions: Map<string, string>): Promise<void> {
    const days = Object.fromEntries([...versions].filter(([d]) => d <= through));
    current = { format, through, maxTs: await maxTs(), days };
    await engine.saveSnapshot([SNAPSHOT.state, SNAPSHOT.orders], current);
  }

  return {
    async advance(through) {
      await load();
      const versions = await engine.dayVersions();
      const stale =
        current === undefined
          ? 'no snapshot yet'
          : current.format !== format
            ? `made as format ${current.format}, not ${format}`
            : changedDay(current, versions);
      if (current !== undefined && stale === undefined) {
        if (current.through >= through)
          return { action: 'kept', through: current.through, days: 0, lateNodes: 0 };
        const from = current.through;
        const next = `(SELECT * FROM ${t.facts} WHERE node IS NOT NULL AND ${dayIn(from, through)})`;
        const all = `(SELECT * FROM ${t.facts} WHERE node IS NOT NULL AND ${dayIn(undefined, through)})`;
        const lateNodes = await merge(next, all, SNAPSHOT);
        await save(through, versions);
        const days = [...versions.keys()].filter((d) => d > from && d <= through).length;
        log.info('history snapshot advanced', { from, through, days, lateNodes });
        return { action: 'advanced', through, days, lateNodes };
      }
      const src = `(SELECT * FROM ${t.facts} WHERE node IS NOT NULL AND ${dayIn(undefined, through)})`;
      const passes = await createStates(SNAPSHOT.state, src);
      await engine.exec(`CREATE OR REPLACE TABLE ${SNAPSHOT.orders} AS ${orderRowsSql(src)}`);
      await save(through, versions);
      const days = [...versions.keys()].filter((d) => d <= through).length;
      log.info('history snapshot rebuilt', { through, days, passes, reason: stale });
      return { action: 'rebuilt', through, days, lateNodes: 0, passes, ...(stale ? { reason: stale } : {}) };
    },

    async statesAsOf(asOf) {
      await load();
      const snapshot = current?.format === format ? current : undefined;
      await dropRunTables();
      if (snapshot !== undefined && (snapshot.maxTs === null || snapshot.maxTs < asOf)) {
        const next = `(SELECT * FROM ${t.facts} WHERE node IS NOT NULL AND CAST(dt AS VARCHAR) > '${day(snapshot.through)}' AND ts_ms < ${ms(asOf)})`;
        const lateNodes = await merge(next, factsBefore(t, asOf), RUN);
        return { mode: 'incremental', states: RUN.state, orders: RUN.orders, lateNodes };
      }
      // A back-test into the snapshot's past: the run's own states, all of them changed.
      const src = factsBefore(t, asOf);
      await createStates(RUN_CHANGED.state, src);
      await engine.exec(`CREATE TABLE ${RUN_CHANGED.orders} AS ${orderRowsSql(src)}`);
      await runViews(`SELECT * FROM ${RUN_CHANGED.state}`, `SELECT * FROM ${RUN_CHANGED.orders}`);
      return { mode: 'full', states: RUN.state, orders: RUN.orders, lateNodes: 0 };
    },
  };
}

/** Why the snapshot no longer matches the days it holds (a day changed, appeared or went), if it does not. */
function changedDay(snapshot: SnapshotManifest, versions: Map<string, string>): string | undefined {
  for (const [d, version] of Object.entries(snapshot.days))
    if (versions.get(d) !== version) return `day ${d} changed`;
  for (const d of versions.keys())
    if (d <= snapshot.through && snapshot.days[d] === undefined) return `day ${d} appeared`;
  return undefined;
}

/** A day inlined as a literal: checked, never client text. */
function day(text: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) throw new Error(`not a day: ${text}`);
  return text;
}
