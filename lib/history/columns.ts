// The columnar archive's schema: one list for the Parquet files the compaction writes, the DuckDB view
// over them and the Athena table (docs/history.md has the DDL). The raw archive's columns come first, as
// stored (so the columnar archive is complete and the NDJSON landing files can expire), then the facts.
import { ARCHIVE_COLUMNS } from '../archive/record.js';
import type { FactRow } from './facts.js';

export interface Column {
  readonly name: Exclude<keyof FactRow, 'dt'>;
  readonly duckdb: string;
  readonly athena: string;
}

const raw = (name: (typeof ARCHIVE_COLUMNS)[number]): Column =>
  name === 'schema_version'
    ? { name, duckdb: 'INTEGER', athena: 'int' }
    : { name, duckdb: 'VARCHAR', athena: 'string' };

export const FACT_COLUMNS: readonly Column[] = [
  ...ARCHIVE_COLUMNS.map(raw),
  { name: 'node', duckdb: 'VARCHAR', athena: 'string' },
  { name: 'ts_ms', duckdb: 'BIGINT', athena: 'bigint' },
  { name: 'kind', duckdb: 'VARCHAR', athena: 'string' },
  { name: 'session_id', duckdb: 'VARCHAR', athena: 'string' },
  { name: 'channel', duckdb: 'VARCHAR', athena: 'string' },
  { name: 'dwell', duckdb: 'DOUBLE', athena: 'double' },
  { name: 'order_id', duckdb: 'VARCHAR', athena: 'string' },
  { name: 'amount_milli', duckdb: 'BIGINT', athena: 'bigint' },
  { name: 'categories', duckdb: 'VARCHAR[]', athena: 'array<string>' },
  { name: 'products', duckdb: 'VARCHAR[]', athena: 'array<string>' },
  { name: 'crm_traits', duckdb: 'VARCHAR[]', athena: 'array<string>' },
];

/** The partition column: the UTC day the events were received (raw/dt=… of the landing files). */
export const PARTITION_COLUMN = 'dt';

/** Where a day's Parquet file goes, under the columnar archive's root (a bucket prefix or a folder). */
export const FACTS_PREFIX = 'facts/';
export const factsDayKey = (day: string): string =>
  `${FACTS_PREFIX}${PARTITION_COLUMN}=${day}/part-0.parquet`;
