// A run's members as it stores them, and as it shows them.
//
// Stored: one Parquet file per segment (`members/<segment>.parquet`), rows in customer id order, row groups
// of ROW_GROUP_ROWS, reasons as figures (feature, value, median, percentile) in flat columns. Parquet,
// because a million members written as JSON twice and gzipped took most of a run's time (docs/benchmarks.md);
// flat reason columns, because nested lists of structs cost the writer three times as much. DuckDB and
// Athena read these files as they are; the API reads one page's row group through range requests.
//
// Shown: `renderAssignment` turns a stored row into the API's, the CSV's and the profile's assignment,
// with the reasons' words and codes (naming.ts) rendered on read.
import {
  type AsyncBuffer,
  type FileMetaData,
  parquetMetadataAsync,
  parquetReadObjects,
  type SchemaElement,
} from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { type Assignment, AssignmentRecord } from './model.js';
import { modelReasons, REASONS_MAX, type ReasonFigures, reasonCode, reasonText } from './naming.js';

export function renderAssignment(record: AssignmentRecord): Assignment {
  const { reasons, ...rest } = record;
  const first = modelReasons(record);
  return {
    ...rest,
    reasons: [...first.map((r) => r.text), ...reasons.map(reasonText)],
    reasonCodes: [...first.map((r) => r.code), ...reasons.map(reasonCode)],
  };
}

/** Rows per row group: a page of the API reads one or two (a few hundred KB), the footer stays small. */
export const ROW_GROUP_ROWS = 10_000;

type Row = Record<string, unknown>;
type Scalar = 'STRING' | 'DOUBLE' | 'INT32';

interface Column {
  readonly name: string;
  readonly schema: SchemaElement[];
  readonly value: (r: AssignmentRecord) => unknown;
}

const PHYSICAL = { STRING: 'BYTE_ARRAY', DOUBLE: 'DOUBLE', INT32: 'INT32' } as const;

const scalar = (
  name: string,
  type: Scalar,
  value: (r: AssignmentRecord) => unknown,
  required = false,
): Column => ({
  name,
  value,
  schema: [
    {
      name,
      type: PHYSICAL[type],
      repetition_type: required ? 'REQUIRED' : 'OPTIONAL',
      ...(type === 'STRING' ? { converted_type: 'UTF8' as const } : {}),
    },
  ],
});

/** A list of strings, null when the record has none (the field is then absent, as in the API). */
const stringList = (name: string, value: (r: AssignmentRecord) => readonly string[] | undefined): Column => ({
  name,
  value: (r) => value(r) ?? null,
  schema: [
    { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  ],
});

const REASON_FIELDS = ['feature', 'value', 'median', 'percentile'] as const;
const reasonColumn = (k: number, field: (typeof REASON_FIELDS)[number]) => `reason_${k + 1}_${field}`;

/** The columns in file order: one list the writer, the reader and the docs (docs/segmentation.md) follow. */
const COLUMNS: readonly Column[] = [
  scalar('customer_id', 'STRING', (r) => r.customerId, true),
  stringList('user_ids', (r) => r.userIds),
  stringList('crm_ids', (r) => r.crmIds),
  scalar('segment', 'STRING', (r) => r.segment, true),
  scalar('population', 'STRING', (r) => r.population, true),
  scalar('cluster', 'INT32', (r) => r.cluster, true),
  scalar('distance', 'DOUBLE', (r) => r.distance, true),
  scalar('recency_days', 'DOUBLE', (r) => r.rfm?.recencyDays ?? null),
  scalar('frequency', 'DOUBLE', (r) => r.rfm?.frequency ?? null),
  scalar('monetary', 'DOUBLE', (r) => r.rfm?.monetary ?? null),
  scalar('r', 'INT32', (r) => r.rfm?.r ?? null),
  scalar('f', 'INT32', (r) => r.rfm?.f ?? null),
  scalar('m', 'INT32', (r) => r.rfm?.m ?? null),
  scalar('rfm_segment', 'STRING', (r) => r.rfm?.segment ?? null),
  scalar('p_alive', 'DOUBLE', (r) => r.predictions?.pAlive ?? null),
  scalar('expected_purchases', 'DOUBLE', (r) => r.predictions?.expectedPurchases ?? null),
  scalar('expected_order_value', 'DOUBLE', (r) => r.predictions?.expectedOrderValue ?? null),
  scalar('clv', 'DOUBLE', (r) => r.predictions?.clv ?? null),
  scalar('interval_days', 'DOUBLE', (r) => r.predictions?.intervalDays ?? null),
  scalar('next_purchase_due', 'STRING', (r) => r.predictions?.nextPurchaseDue ?? null),
  scalar('overdue', 'DOUBLE', (r) => r.predictions?.overdue ?? null),
  scalar('lifecycle', 'STRING', (r) => r.predictions?.lifecycle ?? null),
  scalar('churn_risk', 'DOUBLE', (r) => r.predictions?.churnRisk ?? null),
  // Rare and nested: JSON text, not columns of their own.
  scalar('declines', 'STRING', (r) =>
    r.predictions?.declines.length ? JSON.stringify(r.predictions.declines) : null,
  ),
  scalar('recommendations', 'STRING', (r) => (r.recommendations ? JSON.stringify(r.recommendations) : null)),
  ...Array.from({ length: REASONS_MAX }, (_, k) =>
    REASON_FIELDS.map((field) =>
      scalar(
        reasonColumn(k, field),
        field === 'feature' ? 'STRING' : 'DOUBLE',
        (r) => r.reasons[k]?.[field] ?? null,
      ),
    ),
  ).flat(),
];

const SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: COLUMNS.length },
  ...COLUMNS.flatMap((c) => c.schema),
];

/** One segment's members file, written a row group at a time as the run's chunks come. */
export class MembersParquetWriter {
  private readonly bytes = new ByteWriter();
  private readonly parquet = new ParquetWriter({
    writer: this.bytes,
    schema: SCHEMA,
    createdBy: 'precis',
    // Min/max of customer_id only (set per column below): engines skip row groups when looking up an id;
    // the other columns' statistics cost time and skip nothing.
    statistics: false,
  });
  private pending: AssignmentRecord[] = [];

  add(records: readonly AssignmentRecord[]): void {
    for (const r of records) this.pending.push(r);
    while (this.pending.length >= ROW_GROUP_ROWS) this.flush(ROW_GROUP_ROWS);
  }

  /** The whole file (a valid Parquet file with no row group when the segment has no member). */
  finish(): Buffer {
    this.flush(this.pending.length);
    this.parquet.finish();
    return Buffer.from(this.bytes.getBuffer());
  }

  /** Writes the first `count` pending rows as one row group. */
  private flush(count: number): void {
    if (count === 0) return;
    const rows = this.pending.slice(0, count);
    this.pending = this.pending.slice(count);
    // ByteWriter has no asynchronous flush, so write() returns nothing to wait for.
    void this.parquet.write({
      columnData: COLUMNS.map((c) => ({
        name: c.name,
        data: rows.map(c.value),
        statistics: c.name === 'customer_id',
      })),
      rowGroupSize: rows.length,
    });
  }
}

function recordOf(row: Row): AssignmentRecord {
  const reasons: ReasonFigures[] = [];
  for (let k = 0; k < REASONS_MAX; k++) {
    const feature = row[reasonColumn(k, 'feature')];
    if (feature === null || feature === undefined) break;
    reasons.push({
      feature: feature as ReasonFigures['feature'],
      value: row[reasonColumn(k, 'value')] as number,
      median: row[reasonColumn(k, 'median')] as number,
      percentile: row[reasonColumn(k, 'percentile')] as number,
    });
  }
  const present = (value: unknown) => value !== null && value !== undefined;
  return AssignmentRecord.parse({
    customerId: row.customer_id,
    ...(present(row.user_ids) ? { userIds: row.user_ids } : {}),
    ...(present(row.crm_ids) ? { crmIds: row.crm_ids } : {}),
    segment: row.segment,
    population: row.population,
    cluster: row.cluster,
    distance: row.distance,
    ...(present(row.rfm_segment)
      ? {
          rfm: {
            recencyDays: row.recency_days,
            frequency: row.frequency,
            monetary: row.monetary,
            r: row.r,
            f: row.f,
            m: row.m,
            segment: row.rfm_segment,
          },
        }
      : {}),
    ...(present(row.lifecycle)
      ? {
          predictions: {
            pAlive: row.p_alive ?? null,
            expectedPurchases: row.expected_purchases ?? null,
            expectedOrderValue: row.expected_order_value ?? null,
            clv: row.clv ?? null,
            intervalDays: row.interval_days ?? null,
            nextPurchaseDue: row.next_purchase_due ?? null,
            overdue: row.overdue,
            lifecycle: row.lifecycle,
            churnRisk: row.churn_risk ?? null,
            declines: typeof row.declines === 'string' ? JSON.parse(row.declines) : [],
          },
        }
      : {}),
    ...(typeof row.recommendations === 'string' ? { recommendations: JSON.parse(row.recommendations) } : {}),
    reasons,
  });
}

/** A members file's footer: its row count and where each row group is. */
export async function membersMetadata(file: AsyncBuffer): Promise<FileMetaData> {
  return parquetMetadataAsync(file);
}

/** Rows [start, end) of a members file, validated. */
export async function readMembers(
  file: AsyncBuffer,
  metadata: FileMetaData,
  start: number,
  end: number,
): Promise<AssignmentRecord[]> {
  if (end <= start) return [];
  // hyparquet coalesces a row group's column chunks into one read: a page costs the footer's read and one
  // range request per row group it spans.
  const rows = await parquetReadObjects({ file, metadata, rowStart: start, rowEnd: end });
  return rows.map(recordOf);
}

/** Every customer id of a members file (the next run's transitions read only this column). */
export async function readCustomerIds(file: AsyncBuffer): Promise<string[]> {
  const rows = await parquetReadObjects({ file, columns: ['customer_id'] });
  return rows.map((row) => {
    const id = row.customer_id;
    if (typeof id !== 'string') throw new Error(`customer_id is ${typeof id}, not a string`);
    return id;
  });
}

/**
 * Bytes [start, end) of a view as an ArrayBuffer of their own. Not `view.slice().buffer`: a Node Buffer's
 * `slice` is a view into a shared pool, whose `.buffer` holds other data at other offsets.
 */
export const ownBytes = (view: Uint8Array, start = 0, end = view.byteLength): ArrayBuffer =>
  view.buffer.slice(view.byteOffset + start, view.byteOffset + Math.min(end, view.byteLength)) as ArrayBuffer;

/** A file held in memory, as hyparquet reads it. */
export const bufferFile = (bytes: Uint8Array): AsyncBuffer => ({
  byteLength: bytes.byteLength,
  slice: (start, end) => ownBytes(bytes, start, end),
});
