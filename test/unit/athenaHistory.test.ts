// The Athena history engine's calls, against aws-sdk-client-mock (there is no Athena emulator): start in
// the workgroup, poll until the state ends, read every result page (the header row only on the first),
// fail with the reason, stop the query when the run is cancelled, write the node table as gzip NDJSON.
// The rows it returns are text; the history row schema reads them as the DuckDB engine's.
import { gunzipSync } from 'node:zlib';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AthenaQueryError, athenaCsvPages, athenaHistory } from '../../lib/adapters/athena/historyEngine.js';
import { customerHistoryOf, HistoryRowSchema } from '../../lib/history/features.js';
import { featuresSql } from '../../lib/history/sql.js';

const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
afterEach(() => {
  athena.reset();
  s3.reset();
});

const options = {
  workGroup: 'precis-history',
  database: 'precis_prod',
  factsTable: 'facts',
  nodesTable: 'node_customers',
  nodesBucket: 'precis-archive',
  nodesPrefix: 'history/nodes/',
  pollMs: 1,
  maxPollMs: 4,
};
const engine = (signal?: AbortSignal) =>
  athenaHistory(new AthenaClient({}), new S3Client({}), signal ? { ...options, signal } : options);

const states = (...list: QueryExecutionState[]) => {
  let call = athena.on(GetQueryExecutionCommand, { QueryExecutionId: 'q-1' });
  for (const state of list) call = call.resolvesOnce({ QueryExecution: { Status: { State: state } } });
};
const cell = (v: string | null) => (v === null ? {} : { VarCharValue: v });
const row = (...values: (string | null)[]) => ({ Data: values.map(cell) });

async function all(rows: AsyncIterable<Record<string, unknown>[]>) {
  const out: Record<string, unknown>[] = [];
  for await (const page of rows) out.push(...page);
  return out;
}

describe('athenaHistory', () => {
  it('starts in the workgroup, polls to SUCCEEDED and reads every page, the header only once', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    states('QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED');
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: undefined })
      .resolves({
        ResultSet: {
          ResultSetMetadata: {
            ColumnInfo: [
              { Name: 'node', Type: 'varchar' },
              { Name: 'n', Type: 'bigint' },
            ],
          },
          Rows: [row('node', 'n'), row('user:a', '3')],
        },
        NextToken: 't-2',
      })
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: 't-2' })
      .resolves({ ResultSet: { Rows: [row('user:b', null)] } });

    expect(await all(engine().query('SELECT 1'))).toEqual([
      { node: 'user:a', n: '3' },
      { node: 'user:b', n: null },
    ]);
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input).toEqual({
      QueryString: 'SELECT 1',
      WorkGroup: 'precis-history',
      QueryExecutionContext: { Database: 'precis_prod' },
    });
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(4);
    expect(athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input.MaxResults)).toEqual([
      1000, 1000,
    ]);
  });

  it('throws the reason of a FAILED query, and of one cancelled elsewhere', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolvesOnce({
      QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND: facts' } },
    });
    await expect(all(engine().query('SELECT 1'))).rejects.toThrow(
      new AthenaQueryError('q-1', 'FAILED', 'TABLE_NOT_FOUND: facts'),
    );
    athena.reset();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'CANCELLED' } } });
    await expect(all(engine().query('SELECT 1'))).rejects.toThrow('q-1 CANCELLED');
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('stops the running query when the run is cancelled', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    athena.on(StopQueryExecutionCommand).resolves({});
    const controller = new AbortController();
    const running = all(engine(controller.signal).query('SELECT 1'));
    setTimeout(() => controller.abort(new Error('run cancelled')), 20);
    await expect(running).rejects.toThrow('run cancelled');
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { QueryExecutionId: 'q-1' },
    ]);
  });

  it('writes the node table as one gzip NDJSON object', async () => {
    s3.on(PutObjectCommand).resolves({});
    await engine().putNodeCustomers([
      ['user:a', 'cus_1'],
      ['anon:x, y', 'cus_1'],
    ]);
    const input = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input?.Bucket).toBe('precis-archive');
    expect(input?.Key).toBe('history/nodes/nodes.ndjson.gz');
    const lines = gunzipSync(input?.Body as Buffer)
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { node: 'user:a', customer_id: 'cus_1' },
      { node: 'anon:x, y', customer_id: 'cus_1' },
    ]);
  });

  it('names its tables and returns lists as JSON in the features query', () => {
    const sql = featuresSql(engine().dialect, 1_700_000_000_000, 19_600);
    expect(sql).toContain('FROM "precis_prod"."facts" WHERE node IS NOT NULL AND ts_ms < 1700000000000');
    expect(sql).toContain('count(*) FILTER (WHERE day < 19600) AS cal_days');
    expect(sql).toContain('LEFT JOIN "precis_prod"."node_customers" m ON m.node = s.node');
    // Lists are unnested the Trino way (DuckDB's dialect uses its own, faster unnest()).
    expect(sql).toContain('FROM ev f CROSS JOIN UNNEST(f.categories) AS x(category)');
    expect(sql).not.toMatch(/[^.]unnest\(/);
    expect(sql).toContain('json_format(CAST(array_agg(DISTINCT node) AS JSON)) AS nodes');
    // Session ids and categories are counted as 64-bit keys, a single node's sets by their size.
    expect(sql).toContain('array_agg(DISTINCT from_big_endian_64(xxhash64(to_utf8(session_id))))');
    expect(sql).toContain('sum(cardinality(sids)) AS one_named');
    expect(sql).toContain('json_format(CAST(arbitrary(crm) AS JSON)) AS one_crm');
  });

  it('its text rows read as the DuckDB engine’s', () => {
    const text = {
      cust: 'cus_1',
      nodes: '["user:a","anon:x, y"]',
      first_ms: '1700000000000',
      last_ms: '1700000900000',
      events: '4',
      app_events: '1',
      store_events: '0',
      product_views: '2',
      cart_adds: '1',
      shares: '0',
      orders: '1',
      frequency: '1',
      revenue_milli: '25000',
      cancelled_milli: '0',
      refunds_milli: '5000',
      last_paid_ms: '1700000900000',
      last_order_ms: '1700000900000',
      sessions: '1',
      dwell_milli: '12000.0',
      dwell_samples: '2',
      categories: '1',
      crm: '["001700000000000 crm_id sC-7"]',
      paid_days: '1',
      first_paid_day: '19676',
      last_paid_day: '19676',
      paid_milli: '25000',
      first_day_milli: '25000',
      cal_days: '0',
      cal_last_day: null,
      cal_milli: '0',
    };
    const native = {
      ...text,
      nodes: ['user:a', 'anon:x, y'],
      first_ms: 1_700_000_000_000n,
      last_ms: 1_700_000_900_000n,
      events: 4n,
      app_events: 1n,
      store_events: 0n,
      product_views: 2n,
      cart_adds: 1n,
      shares: 0n,
      orders: 1n,
      frequency: 1n,
      revenue_milli: 25_000n,
      cancelled_milli: 0n,
      refunds_milli: 5_000n,
      last_paid_ms: 1_700_000_900_000n,
      last_order_ms: 1_700_000_900_000n,
      sessions: 1n,
      dwell_milli: 12_000,
      dwell_samples: 2n,
      categories: 1n,
      crm: ['001700000000000 crm_id sC-7'],
      paid_days: 1n,
      first_paid_day: 19_676n,
      last_paid_day: 19_676n,
      paid_milli: 25_000n,
      first_day_milli: 25_000n,
      cal_days: 0n,
      cal_milli: 0n,
    };
    const fromText = customerHistoryOf(HistoryRowSchema.parse(text));
    expect(fromText).toEqual(customerHistoryOf(HistoryRowSchema.parse(native)));
    expect(fromText.inputs).toMatchObject({ monetaryMilli: 20_000, dwellSeconds: 12, sessions: 1 });
    expect(fromText.inputs.purchases).toEqual({
      days: 1,
      firstDay: 19_676,
      lastDay: 19_676,
      valueMilli: 25_000,
      firstDayMilli: 25_000,
      calibrationDays: 0,
      calibrationLastDay: null,
      calibrationMilli: 0,
    });
    expect(fromText.ids).toEqual({ userIds: ['a'], crmIds: ['C-7'] });
  });
});

describe('athenaCsvPages (a result file)', () => {
  const chunked = async function* (text: string, size: number) {
    for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
  };

  it('reads the header once, quoted fields whole, and an unquoted empty field as NULL', async () => {
    const csv =
      '"node","n","cats","note"\n' +
      '"user:a","3","[""a, b"",""c\\""d""]",""\n' +
      '"user:b",,"[]","two\nlines"\n';
    for (const size of [1, 7, csv.length]) {
      expect(await all(athenaCsvPages(chunked(csv, size)))).toEqual([
        { node: 'user:a', n: '3', cats: '["a, b","c\\"d"]', note: '' },
        { node: 'user:b', n: null, cats: '[]', note: 'two\nlines' },
      ]);
    }
  });

  it('throws when the file cannot be read to its end', async () => {
    const failing = async function* () {
      yield '"node"\n"user:a"\n';
      throw new Error('connection reset');
    };
    await expect(all(athenaCsvPages(failing()))).rejects.toThrow('connection reset');
  });
});
