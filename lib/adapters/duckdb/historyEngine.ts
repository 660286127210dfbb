// History SQL on embedded DuckDB (@duckdb/node-api): the local default, and the engine of small
// deployments. It reads the columnar archive from a folder laid out as the bucket is (facts/dt=…/*.parquet;
// DuckDB cannot read S3 here — no httpfs — so the S3 adapter mirrors the objects into the folder first),
// writes a compacted day as one Parquet file sorted by node and time, and holds the node -> customer table
// in memory for the run.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type DuckDBAppender, DuckDBInstance, LIST, VARCHAR, version } from '@duckdb/node-api';
import { z } from 'zod';
import {
  type Column,
  FACT_COLUMNS,
  FACTS_PREFIX,
  factsDayKey,
  PARTITION_COLUMN,
} from '../../history/columns.js';
import type { FactRow } from '../../history/facts.js';
import type { HistoryRow } from '../../history/ports.js';
import type { SnapshotEngine } from '../../history/snapshot.js';
import type { HistoryDialect } from '../../history/sql.js';
import { jsonOrUndefined } from '../../json.js';

export interface DuckdbOptions {
  /** DuckDB's own limits: its worker threads and the memory it may hold before spilling to disk. */
  readonly threads?: number;
  readonly memoryMb?: number;
  /**
   * Events one node-state query may cover before the snapshot splits it into passes over parts of the
   * nodes (snapshot.ts); by default what the memory limit holds (STATE_EVENTS_PER_MB). Tests set it low.
   */
  readonly stateEventsPerPass?: number;
  /** Where DuckDB spills (defaults to `<root>/.tmp`). */
  readonly tempDirectory?: string;
}

export interface DuckdbHistory extends SnapshotEngine {
  /** The folder it reads the columnar archive from and keeps its snapshot in. */
  readonly root: string;
  /** Writes one day's rows as `facts/dt=<day>/part-0.parquet` under the root (replacing it whole). */
  writeDay(
    day: string,
    rows: Iterable<FactRow> | AsyncIterable<FactRow>,
  ): Promise<{ readonly path: string; readonly rows: number }>;
  close(): void;
}

const NO_KEYS = 'CAST([] AS UBIGINT[])';
const DIALECT: HistoryDialect = {
  facts: 'facts',
  nodes: 'node_customers',
  list: (aggregate) => aggregate,
  key: (text) => `hash(${text})`,
  part: (text, parts) => `hash(${text}) % ${parts}`,
  size: (list) => `len(${list})`,
  union: (a, b) => `list_distinct(list_concat(coalesce(${a}, ${NO_KEYS}), coalesce(${b}, ${NO_KEYS})))`,
  unnest: (from, list, as, keep) => `(SELECT ${keep.join(', ')}, unnest(${list}) AS ${as} FROM ${from})`,
};
const PAGE_ROWS = 10_000;
/**
 * Events a node-state query covers per MB of DuckDB's memory limit. Not all of it can spill to disk: on
 * the 100M-event bench archive one query over everything ran out of a 2 GB limit, while 8M events per
 * pass fit in it (docs/history.md).
 */
export const STATE_EVENTS_PER_MB = 4_000;
/**
 * The node-state snapshot (snapshot.ts) under the root: `snapshot/<id>/<table>.parquet`, and the
 * manifest naming them, `snapshot.json` (the S3 copy keeps the same layout under SNAPSHOT_PREFIX).
 */
const SNAPSHOT_DIR = 'snapshot';
export const SNAPSHOT_MANIFEST = 'snapshot.json';
/** The stored manifest: the snapshot's own (snapshot.ts) and its files, relative to the root. */
export const StoredSnapshot = z.object({
  manifest: z.unknown(),
  files: z.array(z.string().regex(/^snapshot\/[\w-]+\/\w+\.parquet$/)),
});
export type StoredSnapshot = z.infer<typeof StoredSnapshot>;

const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const columnsDdl = (columns: readonly Column[]): string =>
  columns.map((c) => `${c.name} ${c.duckdb}`).join(', ');

/** The engine over the columnar archive under `root` (a folder; created if missing). */
export async function duckdbHistory(root: string, options: DuckdbOptions = {}): Promise<DuckdbHistory> {
  const memoryMb = options.memoryMb ?? 2048;
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(options.threads ?? 2),
    memory_limit: `${memoryMb}MB`,
    temp_directory: options.tempDirectory ?? join(root, '.tmp'),
    preserve_insertion_order: 'false',
  });
  const db = await instance.connect();
  await db.run(`CREATE TABLE ${DIALECT.nodes} (node VARCHAR PRIMARY KEY, customer_id VARCHAR NOT NULL)`);

  /** The facts view over the files there are now (an empty table when there are none: a new deployment). */
  async function refreshFacts(): Promise<void> {
    const files = await factFiles(root);
    await db.run(
      files.length === 0
        ? `CREATE OR REPLACE VIEW ${DIALECT.facts} AS SELECT * FROM (SELECT ${FACT_COLUMNS.map((c) => `CAST(NULL AS ${c.duckdb}) AS ${c.name}`).join(', ')}, CAST(NULL AS DATE) AS ${PARTITION_COLUMN}) WHERE false`
        : `CREATE OR REPLACE VIEW ${DIALECT.facts} AS SELECT * FROM read_parquet(${quote(join(root, FACTS_PREFIX, `${PARTITION_COLUMN}=*`, '*.parquet'))}, hive_partitioning = true)`,
    );
  }

  return {
    root,
    dialect: DIALECT,
    version: `duckdb ${version()}`,
    stateEventsPerPass: options.stateEventsPerPass ?? memoryMb * STATE_EVENTS_PER_MB,

    async *query(sql: string): AsyncGenerator<HistoryRow[]> {
      await refreshFacts();
      const result = await db.stream(sql);
      let page: HistoryRow[] = [];
      for await (const rows of result.yieldRowObjectJs()) {
        for (const row of rows) page.push(row as HistoryRow);
        if (page.length >= PAGE_ROWS) {
          yield page;
          page = [];
        }
      }
      if (page.length > 0) yield page;
    },

    async exec(sql) {
      await refreshFacts();
      await db.run(sql);
    },

    async dayVersions() {
      const versions = new Map<string, string>();
      for (const file of await factFiles(root)) {
        const day = /dt=(\d{4}-\d{2}-\d{2})/.exec(file)?.[1];
        if (day === undefined) continue;
        // The bucket's ETag the mirror or the compaction recorded beside the file; else size and time.
        const etag = await readFile(`${file}.etag`, 'utf8').catch(() => undefined);
        const info = etag === undefined ? await stat(file) : undefined;
        versions.set(day, etag ?? `${info?.size}:${info?.mtimeMs}`);
      }
      return versions;
    },

    async saveSnapshot(tables, manifest) {
      // Each snapshot in a folder of its own, named by the manifest written last: a reader (or the S3
      // copy, columnarArchive.ts) never pairs one snapshot's manifest with another's tables.
      const id = `${Date.now()}-${randomUUID().slice(0, 8)}`;
      const dir = join(root, SNAPSHOT_DIR, id);
      await mkdir(dir, { recursive: true });
      const files: string[] = [];
      for (const table of tables) {
        const file = join(SNAPSHOT_DIR, id, `${table}.parquet`);
        await db.run(`COPY ${table} TO ${quote(join(root, file))} (FORMAT parquet, COMPRESSION zstd)`);
        files.push(file);
      }
      const stored: StoredSnapshot = { manifest, files };
      await writeFile(join(root, SNAPSHOT_MANIFEST), JSON.stringify(stored));
      for (const entry of await readdir(join(root, SNAPSHOT_DIR)))
        if (entry !== id) await rm(join(root, SNAPSHOT_DIR, entry), { recursive: true, force: true });
    },

    async loadSnapshot(tables) {
      const stored = StoredSnapshot.safeParse(
        jsonOrUndefined(await readFile(join(root, SNAPSHOT_MANIFEST), 'utf8').catch(() => '')),
      );
      if (!stored.success) return undefined;
      for (const table of tables) {
        const file = stored.data.files.find((f) => f.endsWith(`/${table}.parquet`));
        if (file === undefined) throw new Error(`snapshot has no table ${table}`);
        await db.run(
          `CREATE OR REPLACE TABLE ${table} AS SELECT * FROM read_parquet(${quote(join(root, file))})`,
        );
      }
      return stored.data.manifest;
    },

    async putNodeCustomers(pairs) {
      await db.run(`DELETE FROM ${DIALECT.nodes}`);
      const appender = await db.createAppender(DIALECT.nodes);
      try {
        for (const [node, customerId] of pairs) {
          appender.appendVarchar(node);
          appender.appendVarchar(customerId);
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
    },

    async writeDay(day, rows) {
      const path = join(root, factsDayKey(day));
      const staging = `${path}.${process.pid}.tmp`;
      await mkdir(dirname(path), { recursive: true });
      const table = `day_${day.replaceAll('-', '_')}`;
      await db.run(`CREATE OR REPLACE TEMP TABLE ${table} (${columnsDdl(FACT_COLUMNS)})`);
      let count = 0;
      try {
        const appender = await db.createAppender(table);
        try {
          for await (const row of rows) {
            appendRow(appender, row);
            count++;
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
        // One customer's events together (by node, then time): a customer's rows are a few pages of one
        // row group, and the windows of the history SQL read them in order.
        await db.run(
          `COPY (SELECT * FROM ${table} ORDER BY node, ts_ms, message_id) TO ${quote(staging)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        await rename(staging, path);
      } finally {
        await db.run(`DROP TABLE IF EXISTS ${table}`);
        await rm(staging, { force: true });
      }
      return { path, rows: count };
    },

    close() {
      db.closeSync();
      instance.closeSync();
    },
  };
}

/** The Parquet files of the columnar archive under the folder `root` (none when it does not exist). */
export async function factFiles(root: string): Promise<string[]> {
  const entries = await readdir(join(root, FACTS_PREFIX), { recursive: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    },
  );
  return entries.filter((e) => e.endsWith('.parquet')).map((e) => join(root, FACTS_PREFIX, e));
}

const TEXT_LIST = LIST(VARCHAR);

function appendRow(appender: DuckDBAppender, row: FactRow): void {
  for (const column of FACT_COLUMNS) {
    const value = row[column.name];
    if (value === null || value === undefined) appender.appendNull();
    else if (column.duckdb === 'VARCHAR') appender.appendVarchar(String(value));
    else if (column.duckdb === 'BIGINT') appender.appendBigInt(BigInt(value as number));
    else if (column.duckdb === 'INTEGER') appender.appendInteger(value as number);
    else if (column.duckdb === 'DOUBLE') appender.appendDouble(value as number);
    else appender.appendList(value as readonly string[], TEXT_LIST);
  }
  appender.endRow();
}
