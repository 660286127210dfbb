// History SQL on DuckDB for a deployment's archive bucket: compaction writes each changed day into the
// bucket, the mirror brings the Parquet files into a folder of the engine's own, the engine queries them.
// Not imported by lib/runtime.ts: DuckDB is a native module only the runner's package carries
// (serverless.yml); lib/history/runtime.ts builds this reader for the runner and the CLI.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { type DuckdbOptions, duckdbHistory, factFiles } from '../adapters/duckdb/historyEngine.js';
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
  /**
   * Where the engine makes its folder (the mirrored columnar archive, DuckDB's spill files). Each engine
   * gets a folder of its own: two runs at once (two local workers, a CLI beside the stack) must not
   * mirror into, or stage files in, the same place. A warm Lambda keeps its engine and its folder.
   */
  readonly dir: string;
  readonly engine?: Omit<DuckdbOptions, 'tempDirectory'>;
  readonly log: Logger;
  readonly now?: () => number;
}

export function duckdbReader(o: DuckdbReaderOptions): HistoryReader {
  return sqlReader({
    identity: o.identity,
    async open() {
      await mkdir(o.dir, { recursive: true });
      const dir = await mkdtemp(join(o.dir, 'engine-'));
      const engine = await duckdbHistory(dir, o.engine);
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
          await mirrorFacts(o.s3, o.bucket, dir);
          return (await factFiles(dir)).length;
        },
      };
    },
  });
}
