// A run's history through SQL: bring the columnar archive up to date (compact the days that changed),
// let the engine see it (the DuckDB runner mirrors the bucket's Parquet files), then count and aggregate.
// The engine is opened on the first run of a container and kept: a warm runner's mirror fetches only the
// days that changed since.
import type { HistoryReader } from '../segmentation/reader.js';
import { type CompactDeps, compactChanged } from './compact.js';
import { type SqlHistoryDeps, sqlFeaturesAsOf } from './features.js';
import type { HistoryEngine } from './ports.js';
import { countsSql } from './sql.js';

export interface SqlReaderDeps {
  /** Opens the engine (once per container) with what compaction and the mirror need around it. */
  open(): Promise<{
    readonly engine: HistoryEngine;
    readonly compact: CompactDeps;
    /** Makes the engine see the compacted archive; returns how many Parquet files it holds. */
    readonly sync: () => Promise<number>;
    /** Releases the engine and its folder. */
    readonly close: () => Promise<void>;
  }>;
  readonly identity: SqlHistoryDeps['identity'];
}

export function sqlReader(deps: SqlReaderDeps): HistoryReader {
  let opened: ReturnType<SqlReaderDeps['open']> | undefined;
  return {
    async close() {
      const was = opened;
      opened = undefined;
      if (was) await (await was).close();
    },
    async read(asOf, stage) {
      opened ??= deps.open().catch((error: unknown) => {
        opened = undefined; // a failed open is retried by the next run
        throw error;
      });
      const { engine, compact, sync } = await opened;
      await stage('compaction', () => compactChanged(compact));
      const objects = await stage('mirror', sync);
      const counts = await stage('history', async () => {
        for await (const page of engine.query(countsSql(engine.dialect, asOf))) {
          const row = page[0];
          if (row) return { events: Number(row.events ?? 0), later: Number(row.later ?? 0) };
        }
        return { events: 0, later: 0 };
      });
      const { features, ids } = await stage('features', () =>
        sqlFeaturesAsOf(asOf, { engine, identity: deps.identity }),
      );
      return {
        features,
        ids,
        input: { objects, events: counts.events, eventsAfterAsOf: counts.later, customers: features.length },
      };
    },
  };
}
