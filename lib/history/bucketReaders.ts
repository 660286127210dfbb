// History SQL for a deployment's archive bucket. Both readers compact each changed day into the bucket's
// facts/ (the Parquet file written by DuckDB in a folder of the reader's own, then uploaded); then
// - duckdbReader mirrors the bucket's Parquet files into that folder and queries them on DuckDB (the
//   local default and small deployments);
// - athenaReader queries the bucket's facts table on Athena, in the stack's workgroup (the archive past
//   what one function reads).
// Not imported by lib/runtime.ts: DuckDB is a native module only the runner's package carries
// (serverless.yml); lib/history/runtime.ts builds these readers for the runner and the CLI.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { S3Client } from '@aws-sdk/client-s3';
import { athenaHistory } from '../adapters/athena/historyEngine.js';
import {
  type DuckdbHistory,
  type DuckdbOptions,
  duckdbHistory,
  factFiles,
} from '../adapters/duckdb/historyEngine.js';
import { archiveReader } from '../adapters/s3/archiveBucket.js';
import {
  downloadSnapshot,
  factObjects,
  mirrorFacts,
  s3ColumnarArchive,
  uploadSnapshot,
} from '../adapters/s3/columnarArchive.js';
import type { Logger } from '../log.js';
import type { CustomerIndex } from '../segmentation/history.js';
import type { HistoryReader } from '../segmentation/reader.js';
import type { CompactDeps } from './compact.js';
import { sqlReader } from './reader.js';

export interface BucketReaderOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly identity: CustomerIndex;
  /**
   * Where the reader makes its folder (the compaction's staging files; for DuckDB also the mirrored
   * columnar archive and spill files). Each reader gets a folder of its own: two runs at once (two local
   * workers, a CLI beside the stack) must not mirror into, or stage files in, the same place. A warm
   * Lambda keeps its reader and its folder.
   */
  readonly dir: string;
  readonly engine?: Omit<DuckdbOptions, 'tempDirectory'>;
  readonly log: Logger;
  readonly now?: () => number;
}

/** The reader's own folder, a DuckDB engine in it, and the compaction that writes through that engine. */
async function openCompaction(o: BucketReaderOptions): Promise<{
  readonly dir: string;
  readonly duckdb: DuckdbHistory;
  readonly compact: CompactDeps;
  readonly close: () => Promise<void>;
}> {
  await mkdir(o.dir, { recursive: true });
  const dir = await mkdtemp(join(o.dir, 'engine-'));
  const duckdb = await duckdbHistory(dir, o.engine);
  const now = o.now ?? Date.now;
  return {
    dir,
    duckdb,
    compact: {
      raw: archiveReader(o.s3, o.bucket),
      columnar: s3ColumnarArchive(o.s3, o.bucket, duckdb, o.log, now),
      log: o.log,
      now,
    },
    close: async () => {
      duckdb.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function duckdbReader(o: BucketReaderOptions): HistoryReader {
  return sqlReader({
    identity: o.identity,
    log: o.log,
    async open() {
      const { dir, duckdb, compact, close } = await openCompaction(o);
      // The last night's snapshot, kept in the bucket: a cold runner merges the days since into it
      // instead of rebuilding it from the whole archive (snapshot.ts); each one it stores goes back there.
      await downloadSnapshot(o.s3, o.bucket, dir);
      const engine: DuckdbHistory = {
        ...duckdb,
        async saveSnapshot(tables, manifest) {
          await duckdb.saveSnapshot(tables, manifest);
          await uploadSnapshot(o.s3, o.bucket, dir);
        },
      };
      return {
        engine,
        compact,
        close,
        sync: async () => {
          await mirrorFacts(o.s3, o.bucket, dir);
          return (await factFiles(dir)).length;
        },
      };
    },
  });
}

export interface AthenaReaderOptions extends BucketReaderOptions {
  readonly athena: AthenaClient;
  readonly workGroup: string;
  readonly database: string;
}

/** The Glue tables serverless.yml declares over the archive bucket (FactsTable, NodeCustomersTable). */
export const ATHENA_TABLES = {
  facts: 'facts',
  nodes: 'node_customers',
  nodesPrefix: 'history/node-customers/',
} as const;

export function athenaReader(o: AthenaReaderOptions): HistoryReader {
  return sqlReader({
    identity: o.identity,
    log: o.log,
    async open() {
      const { compact, close } = await openCompaction(o);
      return {
        close,
        engine: athenaHistory(o.athena, o.s3, {
          workGroup: o.workGroup,
          database: o.database,
          factsTable: ATHENA_TABLES.facts,
          nodesTable: ATHENA_TABLES.nodes,
          nodesBucket: o.bucket,
          nodesPrefix: ATHENA_TABLES.nodesPrefix,
        }),
        compact,
        // Athena reads the bucket itself (partition projection): nothing to bring over, only to count.
        sync: async () => {
          let files = 0;
          for await (const _ of factObjects(o.s3, o.bucket)) files++;
          return files;
        },
      };
    },
  });
}
