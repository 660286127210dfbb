// History SQL on Amazon Athena: the deployed engine for archives past what one function reads. The facts
// table is the columnar archive (Glue table over facts/, partitioned by dt); the node -> customer table is
// one gzip NDJSON object the run writes before its queries. A query is started in the run's workgroup,
// polled with backoff until it ends, and read back page by page. Cancelling the run's signal stops the
// query (Athena bills scanned bytes until then), and a failed or cancelled query throws with its reason.
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
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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
const EMPTY = 'CAST(ARRAY[] AS array(varchar))';
const quoted = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export function athenaHistory(athena: AthenaClient, s3: S3Client, o: AthenaHistoryOptions): HistoryEngine {
  const dialect: HistoryDialect = {
    facts: `${quoted(o.database)}.${quoted(o.factsTable)}`,
    nodes: `${quoted(o.database)}.${quoted(o.nodesTable)}`,
    list: (aggregate) => `json_format(CAST(${aggregate} AS JSON))`,
    union: (a, b) => `array_distinct(concat(coalesce(${a}, ${EMPTY}), coalesce(${b}, ${EMPTY})))`,
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

  /** True once the query succeeded; throws if it failed or was cancelled elsewhere. */
  async function succeeded(id: string): Promise<boolean> {
    const out = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const status = out.QueryExecution?.Status;
    const state = status?.State;
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new AthenaQueryError(id, state, status?.StateChangeReason ?? status?.AthenaError?.ErrorMessage);
    }
    return state === 'SUCCEEDED';
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

  async function finished(id: string): Promise<void> {
    let delay = o.pollMs ?? 500;
    while (!o.signal?.aborted) {
      if (await succeeded(id)) return;
      if (!(await paused(delay))) break;
      delay = Math.min(delay * 2, o.maxPollMs ?? 5_000);
    }
    await stop(id);
  }

  return {
    dialect,

    async *query(sql) {
      const id = await start(sql);
      await finished(id);
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
