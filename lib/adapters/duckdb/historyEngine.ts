// History SQL on embedded DuckDB (@duckdb/node-api): the local default, and the engine of small
// deployments. It reads the columnar archive from a folder laid out as the bucket is (facts/dt=…/*.parquet;
// DuckDB cannot read S3 here — no httpfs — so the S3 adapter mirrors the objects into the folder first),
// writes a compacted day as one Parquet file sorted by node and time, and holds the node -> customer table
// in memory for the run.
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type DuckDBAppender, DuckDBInstance, LIST, VARCHAR } from '@duckdb/node-api';
import {
  type Column,
  FACT_COLUMNS,
  FACTS_PREFIX,
  factsDayKey,
  PARTITION_COLUMN,
} from '../../history/columns.js';
import type { FactRow } from '../../history/facts.js';
import type { HistoryEngine, HistoryRow } from '../../history/ports.js';
import type { HistoryDialect } from '../../history/sql.js';

export interface DuckdbOptions {
  /** DuckDB's own limits: its worker threads and the memory it may hold before spilling to disk. */
  readonly threads?: number;
  readonly memoryLimit?: string;
  /** Where DuckDB spills (defaults to `<root>/.tmp`). */
  readonly tempDirectory?: string;
}

export interface DuckdbHistory extends HistoryEngine {
  /** Writes one day's rows as `facts/dt=<day>/part-0.parquet` under the root (replacing it whole). */
  writeDay(
    day: string,
    rows: Iterable<FactRow> | AsyncIterable<FactRow>,
  ): Promise<{ readonly path: string; readonly rows: number }>;
  close(): void;
}

const DIALECT: HistoryDialect = { facts: 'facts', nodes: 'node_customers', list: (aggregate) => aggregate };
const PAGE_ROWS = 10_000;

const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const columnsDdl = (columns: readonly Column[]): string =>
  columns.map((c) => `${c.name} ${c.duckdb}`).join(', ');

/** The engine over the columnar archive under `root` (a folder; created if missing). */
export async function duckdbHistory(root: string, options: DuckdbOptions = {}): Promise<DuckdbHistory> {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(options.threads ?? 2),
    memory_limit: options.memoryLimit ?? '2GB',
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
    dialect: DIALECT,

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
