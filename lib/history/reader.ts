// A run's history through SQL: bring the columnar archive up to date (compact the days that changed),
// let the engine see it (the DuckDB runner mirrors the bucket's Parquet files), then count and aggregate.
// The engine is opened on the first run of a container and kept: a warm runner's mirror fetches only the
// days that changed since. An engine that keeps snapshots (DuckDB) first brings its snapshot of the final
// days up to date and reads only the days after it (snapshot.ts); another (Athena) aggregates everything.
import type { Logger } from '../log.js';
import type { HistoryReader, RunHistory } from '../segmentation/reader.js';
import { type CompactDeps, compactChanged, finalThrough } from './compact.js';
import { customerInteractions, type SqlHistoryDeps, type StateTables, sqlFeaturesAsOf } from './features.js';
import type { HistoryEngine } from './ports.js';
import { type SnapshotEngine, type Snapshots, snapshots } from './snapshot.js';
import { countsSql } from './sql.js';

export interface SqlReaderDeps {
  /** Opens the engine (once per container) with what compaction and the mirror need around it. */
  open(): Promise<{
    readonly engine: HistoryEngine | SnapshotEngine;
    readonly compact: CompactDeps;
    /** Makes the engine see the compacted archive; returns how many Parquet files it holds. */
    readonly sync: () => Promise<number>;
    /** Releases the engine and its folder. */
    readonly close: () => Promise<void>;
  }>;
  readonly identity: SqlHistoryDeps['identity'];
  readonly log: Logger;
}

type Opened = Awaited<ReturnType<SqlReaderDeps['open']>> & { readonly snapshots?: Snapshots };

const keepsSnapshots = (engine: HistoryEngine | SnapshotEngine): engine is SnapshotEngine =>
  'saveSnapshot' in engine;

export function sqlReader(deps: SqlReaderDeps): HistoryReader {
  let opened: Promise<Opened> | undefined;
  return {
    async close() {
      const was = opened;
      opened = undefined;
      if (was) await (await was).close();
    },
    async *interactions(asOf, windowMs, holdoutDay) {
      if (!opened) throw new Error('interactions() before read(): the node -> customer table is not filled');
      const { engine } = await opened;
      yield* customerInteractions(engine, asOf, windowMs, holdoutDay);
    },
    async read(asOf, stage, holdoutDay) {
      opened ??= deps
        .open()
        .then((o) => (keepsSnapshots(o.engine) ? { ...o, snapshots: snapshots(o.engine, deps.log) } : o))
        .catch((error: unknown) => {
          opened = undefined; // a failed open is retried by the next run
          throw error;
        });
      const { engine, compact, sync, snapshots: kept } = await opened;
      await stage('compaction', () => compactChanged(compact));
      const objects = await stage('mirror', sync);
      const counts = await stage('history', async () => {
        for await (const page of engine.query(countsSql(engine.dialect, asOf))) {
          const row = page[0];
          if (row) return { events: Number(row.events ?? 0), later: Number(row.later ?? 0) };
        }
        return { events: 0, later: 0 };
      });
      let history: RunHistory['input']['history'] = { mode: 'full', snapshotThrough: null, lateNodes: 0 };
      let tables: StateTables | undefined;
      if (kept) {
        const step = await stage('snapshot', () => kept.advance(finalThrough(compact.now())));
        const run = await stage('states', () => kept.statesAsOf(asOf));
        tables = run;
        history = {
          mode: run.mode,
          snapshotThrough: step.through,
          lateNodes: step.lateNodes + run.lateNodes,
        };
      }
      const { features, ids } = await stage('features', () =>
        sqlFeaturesAsOf(asOf, { engine, identity: deps.identity }, tables, holdoutDay),
      );
      return {
        features,
        ids,
        input: {
          objects,
          events: counts.events,
          eventsAfterAsOf: counts.later,
          customers: features.length,
          history,
        },
      };
    },
  };
}
