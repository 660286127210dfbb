// History SQL on DuckDB for a deployment's archive bucket: compaction writes each changed day into the
// bucket, the mirror brings the Parquet files into `dir`, the engine queries them. Not imported by
// lib/runtime.ts: DuckDB is a native module that the Lambda bundles do not carry yet (docs/history.md);
// the CLI and the tests build this reader explicitly.
import type { S3Client } from '@aws-sdk/client-s3';
import { duckdbHistory, factFiles } from '../adapters/duckdb/historyEngine.js';
import { archiveReader } from '../adapters/s3/archiveBucket.js';
import { mirrorFacts, s3ColumnarArchive } from '../adapters/s3/columnarArchive.js';
import type { Logger } from '../log.js';
import type { CustomerIndex } from '../segmentation/history.js';
import type { HistoryReader } from '../segmentation/reader.js';
import { sqlReader } from './reader.js';

export interface DuckdbReaderOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly identity: CustomerIndex;
  /** The engine's folder: the mirrored columnar archive and DuckDB's spill files. */
  readonly dir: string;
  readonly log: Logger;
  readonly now?: () => number;
}

export function duckdbReader(o: DuckdbReaderOptions): HistoryReader {
  return sqlReader({
    identity: o.identity,
    async open() {
      const engine = await duckdbHistory(o.dir);
      const now = o.now ?? Date.now;
      return {
        engine,
        compact: {
          raw: archiveReader(o.s3, o.bucket),
          columnar: s3ColumnarArchive(o.s3, o.bucket, engine, o.log, now),
          log: o.log,
          now,
        },
        sync: async () => {
          await mirrorFacts(o.s3, o.bucket, o.dir);
          return (await factFiles(o.dir)).length;
        },
      };
    },
  });
}
