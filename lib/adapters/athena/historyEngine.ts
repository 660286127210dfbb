// History SQL on Amazon Athena: the deployed engine for archives past what one function reads. The facts
// table is the columnar archive (Glue table over facts/, partitioned by dt); the node -> customer table is
// one gzip NDJSON object the run writes before its queries. A query is started in the run's workgroup,
// polled with backoff until it ends, and read back from its result file in the workgroup's output location
// (one streamed GET for a million rows, where GetQueryResults would take a thousand calls; paging through
// GetQueryResults only when Athena names no file). Cancelling the run's signal stops the query (Athena bills
// scanned bytes until then), and a failed or cancelled query throws with its reason.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse';
import type { HistoryEngine, HistoryRow } from '../../history/ports.js';
import type { HistoryDialect } from '../../history/sql.js';

export interface AthenaHistoryOptions {
  readonly workGroup: string;
  readonly database: string;
  readonly factsTable: string;
  readonly nodesTable: string;
  /** Where the nodes table's data lives: the object written is `<prefix>nodes.ndjson.gz`. */
  readonly nodesBucket: string;
  readonly nodesPrefix: string;
  /** First poll delay; doubled up to maxPollMs. */
  readonly pollMs?: number;
  readonly maxPollMs?: number;
  /** Aborting stops the running query. */
  readonly signal?: AbortSignal;
}

/** A query that ended FAILED or CANCELLED. */
export class AthenaQueryError extends Error {
  constructor(
    readonly queryExecutionId: string,
    readonly state: QueryExecutionState | string,
    reason: string | undefined,
  ) {
    super(`Athena query ${queryExecutionId} ${state}: ${reason ?? 'no reason given'}`);
    this.name = 'AthenaQueryError';
  }
}

const RESULTS_PAGE = 1_000;
const NO_KEYS = 'CAST(ARRAY[] AS array(bigint))';
const quoted = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export function athenaHistory(athena: AthenaClient, s3: S3Client, o: AthenaHistoryOptions): HistoryEngine {
  const key = (text: string) => `from_big_endian_64(xxhash64(to_utf8(${text})))`;
  const dialect: HistoryDialect = {
    facts: `${quoted(o.database)}.${quoted(o.factsTable)}`,
    nodes: `${quoted(o.database)}.${quoted(o.nodesTable)}`,
    list: (aggregate) => `json_format(CAST(${aggregate} AS JSON))`,
    key,
    // Trino's mod takes the dividend's sign; its absolute value is still under `parts`.
    part: (text, parts) => `abs(mod(${key(text)}, ${parts}))`,
    size: (list) => `cardinality(${list})`,
    union: (a, b) => `array_distinct(concat(coalesce(${a}, ${NO_KEYS}), coalesce(${b}, ${NO_KEYS})))`,
    unnest: (from, list, as, keep) =>
      `(SELECT ${keep.map((k) => `f.${k}`).join(', ')}, x.${as} FROM ${from} f CROSS JOIN UNNEST(f.${list}) AS x(${as}))`,
  };

  async function start(sql: string): Promise<string> {
    const out = await athena.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: o.workGroup,
        QueryExecutionContext: { Database: o.database },
      }),
    );
    if (!out.QueryExecutionId) throw new Error('Athena returned no query execution id');
    return out.QueryExecutionId;
  }

  /** Stops the query (it is billed until then) and throws the abort's reason. */
  async function stop(id: string): Promise<never> {
    await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    throw o.signal?.reason ?? new Error('aborted');
  }

  /**
   * Once the query succeeded: where its result file is ('' when Athena names none); undefined while it
   * runs. Throws if it failed or was cancelled elsewhere.
   */
  async function succeeded(id: string): Promise<string | undefined> {
    const out = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const status = out.QueryExecution?.Status;
    const state = status?.State;
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new AthenaQueryError(id, state, status?.StateChangeReason ?? status?.AthenaError?.ErrorMessage);
    }
    return state === 'SUCCEEDED'
      ? (out.QueryExecution?.ResultConfiguration?.OutputLocation ?? '')
      : undefined;
  }

  /** Waits `ms`; false when the run's signal aborted meanwhile. */
  async function paused(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, o.signal === undefined ? undefined : { signal: o.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** The result file's location once the query succeeded (see `succeeded`). */
  async function finished(id: string): Promise<string> {
    let delay = o.pollMs ?? 500;
    while (!o.signal?.aborted) {
      const location = await succeeded(id);
      if (location !== undefined) return location;
      if (!(await paused(delay))) break;
      delay = Math.min(delay * 2, o.maxPollMs ?? 5_000);
    }
    return stop(id);
  }

  /** The result file's rows, a page at a time. */
  async function* resultFile(bucket: string, key: string): AsyncGenerator<HistoryRow[]> {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) throw new Error(`Athena result s3://${bucket}/${key} has no body`);
    yield* athenaCsvPages(out.Body as Readable);
  }

  /** GetQueryResults page by page (1,000 rows a call), for a query whose result has no file. */
  async function* resultPages(id: string): AsyncGenerator<HistoryRow[]> {
    let token: string | undefined;
    let columns: string[] | undefined;
    do {
      const out = await athena.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: RESULTS_PAGE }),
      );
      const rows = out.ResultSet?.Rows ?? [];
      let first = 0;
      if (columns === undefined) {
        columns = (out.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '');
        // The first row of the first page repeats the column names.
        first = 1;
      }
      const page: HistoryRow[] = [];
      for (const row of rows.slice(first)) {
        const values = row.Data ?? [];
        const record: HistoryRow = {};
        columns.forEach((name, i) => {
          record[name] = values[i]?.VarCharValue ?? null;
        });
        page.push(record);
      }
      if (page.length > 0) yield page;
      token = out.NextToken;
    } while (token);
  }

  return {
    dialect,

    async *query(sql) {
      const id = await start(sql);
      const location = /^s3:\/\/([^/]+)\/(.+)$/.exec(await finished(id));
      yield* location?.[1] && location[2] ? resultFile(location[1], location[2]) : resultPages(id);
    },

    async putNodeCustomers(pairs) {
      const lines: string[] = [];
      for (const [node, customerId] of pairs) lines.push(JSON.stringify({ node, customer_id: customerId }));
      await s3.send(
        new PutObjectCommand({
          Bucket: o.nodesBucket,
          Key: `${o.nodesPrefix}nodes.ndjson.gz`,
          Body: gzipSync(lines.length > 0 ? `${lines.join('\n')}\n` : ''),
          ContentType: 'application/gzip',
        }),
      );
    },
  };
}

/** Rows per page read from a result file (the DuckDB engine's page size). */
const FILE_PAGE = 10_000;

/**
 * The rows of an Athena result file, a page at a time: a header row of column names, every field quoted,
 * and a NULL as an empty field without quotes (an empty string is `""`), so NULL stays null as in
 * GetQueryResults.
 */
export async function* athenaCsvPages(csv: AsyncIterable<Buffer | string>): AsyncGenerator<HistoryRow[]> {
  const parser = parse({
    columns: true,
    cast: (value, context) => (value === '' && !context.quoting ? null : value),
  });
  // A failed read destroys the parser, so the loop below throws it; the rejection is awaited after.
  const piping = pipeline(Readable.from(csv), parser);
  piping.catch(() => {});
  let page: HistoryRow[] = [];
  for await (const row of parser) {
    page.push(row as HistoryRow);
    if (page.length >= FILE_PAGE) {
      yield page;
      page = [];
    }
  }
  await piping;
  if (page.length > 0) yield page;
}
