// The raw archive as DuckDB reads it: the view definition and the queries the integration test runs, as
// constants that docs can quote verbatim. Column types come from ARCHIVE_COLUMNS (lib/archive/record.ts):
// nested objects are JSON text, so every column is VARCHAR except schema_version.
import { ARCHIVE_COLUMNS } from '../../lib/archive/record.js';

export const ARCHIVE_DUCKDB_TYPES = Object.fromEntries(
  ARCHIVE_COLUMNS.map((c) => [c, c === 'schema_version' ? 'INTEGER' : 'VARCHAR']),
) as Record<(typeof ARCHIVE_COLUMNS)[number], 'INTEGER' | 'VARCHAR'>;

const columnsStruct = `{${ARCHIVE_COLUMNS.map((c) => `'${c}': '${ARCHIVE_DUCKDB_TYPES[c]}'`).join(', ')}}`;

/**
 * The archive as a DuckDB view. `{archive}` is the bucket root: `s3://<bucket>` (with the httpfs
 * extension and credentials) or a local copy that keeps the raw/dt=YYYY-MM-DD/ layout. The dt
 * partition column comes from the path (hive_partitioning) and is read as a DATE.
 */
export const DUCKDB_ARCHIVE_VIEW = `CREATE OR REPLACE VIEW raw_events AS
SELECT * FROM read_json(
  '{archive}/raw/dt=*/*.ndjson.gz',
  format = 'newline_delimited',
  compression = 'gzip',
  hive_partitioning = true,
  columns = ${columnsStruct}
);`;

/** The view for one archive root (quotes in the path are escaped). */
export const duckdbArchiveView = (root: string): string =>
  DUCKDB_ARCHIVE_VIEW.replace('{archive}', root.replaceAll("'", "''"));

/** Example queries over the view; $1 is a source id. */
export const DUCKDB_ARCHIVE_QUERIES = {
  rowsOfSource: 'SELECT count(*) AS rows FROM raw_events WHERE source_id = $1',
  eventsByName: `SELECT coalesce(event, type) AS name, count(*) AS n
FROM raw_events WHERE source_id = $1
GROUP BY ALL ORDER BY n DESC, name`,
  revenueByDay: `SELECT dt, sum(json_extract(properties, '$.revenue')::DOUBLE) AS revenue
FROM raw_events WHERE source_id = $1 AND event = 'Order Completed'
GROUP BY dt ORDER BY dt`,
} as const;
