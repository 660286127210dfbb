// How a run reads history: the port, and the reducer's fold of the raw archive (history.ts) behind it.
// The other implementation is history SQL over the columnar archive (lib/history/reader.ts); config's
// PRECIS_HISTORY_ENGINE picks one (lib/runtime.ts).
import type { ProductInteraction } from '../models/recommend.js';
import { type CustomerFeatures, featuresOf } from './features.js';
import { type HistoryDeps, historyAsOf } from './history.js';
import { type ExternalIds, externalIdsOf } from './identifiers.js';

/** Times a named step of the run into its report (`stagesMs`). */
export type StageTimer = <T>(name: string, work: () => Promise<T> | T) => Promise<T>;

export interface RunHistory {
  readonly features: CustomerFeatures[];
  /** The ids the exports carry, per customer: kept apart, clustering never sees them. */
  readonly ids: Map<string, ExternalIds>;
  readonly input: {
    /** Archive objects read: raw objects for the fold, one Parquet file per received day for SQL. */
    readonly objects: number;
    /** Events before the as-of time that count for someone. */
    readonly events: number;
    readonly eventsAfterAsOf: number;
    readonly customers: number;
    /**
     * How history SQL read it (absent for the fold): `incremental`, the snapshot of the final days
     * (`snapshotThrough`) plus the days received since; `full`, the whole archive (a back-test before the
     * snapshot's newest event, or an engine without snapshots). `lateNodes`: nodes recomputed in full
     * because late events fell before behavior the snapshot held.
     */
    readonly history?: {
      readonly mode: 'incremental' | 'full';
      readonly snapshotThrough: string | null;
      readonly lateNodes: number;
    };
  };
}

export interface HistoryReader {
  /** Customers as of `asOf`, their purchase days split at `holdoutDay` (features.ts holdoutDayOf). */
  read(asOf: number, stage: StageTimer, holdoutDay: number): Promise<RunHistory>;
  /**
   * What each customer did with each product in the `windowMs` up to the last product event before
   * `asOf`, split at `holdoutDay` (recommendations); absent when the reader has no product facts (the
   * fold). Call after `read` of the same run.
   */
  interactions?(asOf: number, windowMs: number, holdoutDay: number): AsyncIterable<ProductInteraction>;
  /** Releases what the reader keeps between runs (an engine, its folder): for one-shot processes (the CLI). */
  close?(): Promise<void>;
}

export function foldReader(deps: HistoryDeps): HistoryReader {
  return {
    async read(asOf, stage, holdoutDay) {
      const history = await stage('history', () => historyAsOf(asOf, deps));
      const features = await stage('features', () =>
        [...history.customers].map(([customerId, agg]) => featuresOf(customerId, agg, asOf, holdoutDay)),
      );
      const ids = new Map(
        [...history.customers].map(([customerId, agg]) => [customerId, externalIdsOf(agg)]),
      );
      const customers = history.customers.size;
      // The aggregates are the largest thing in memory; from here on the features are enough.
      history.customers.clear();
      return {
        features,
        ids,
        input: {
          objects: history.objects,
          events: history.events,
          eventsAfterAsOf: history.later,
          customers,
        },
      };
    },
  };
}
