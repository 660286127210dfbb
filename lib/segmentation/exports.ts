// A run's files, built in memory chunk by chunk: per segment, the members as Parquet (members.ts: the
// paginated API and the next run's transitions read it) and as CSV (for spreadsheets and marketing tools,
// the reasons in words). Kept as Buffers, off the V8 heap; each chunk's records can be dropped once added.
import { MembersParquetWriter, renderAssignment } from './members.js';
import type { AssignmentRecord } from './model.js';
import { SEGMENT_IDS, type SegmentId } from './segments.js';

export const CSV_COLUMNS = [
  'customerId',
  'userIds',
  'crmIds',
  'segment',
  'population',
  'cluster',
  'distance',
  'recencyDays',
  'frequency',
  'monetary',
  'r',
  'f',
  'm',
  'rfmSegment',
  'lifecycle',
  'churnRisk',
  'pAlive',
  'expectedPurchases',
  'expectedOrderValue',
  'clv',
  'nextPurchaseDue',
  'reasons',
] as const;

export interface RunFile {
  /** Relative to the run's prefix. */
  readonly name: string;
  readonly body: Buffer;
  readonly contentType: string;
}

/** Cells a spreadsheet would run as a formula (=, +, @, or - not starting a number): ids come from clients. */
const FORMULA = /^(?:[=+@\t\r]|-(?!\d))/;

const csvCell = (value: unknown): string => {
  const raw = value === undefined ? '' : String(value);
  const text = FORMULA.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** Several ids in one cell. */
const ids = (list: readonly string[] | undefined) => list?.join(';');

/** A member's CSV row, its reasons rendered in words (straight from the record: no assignment object). */
export function toCsvRow(a: AssignmentRecord): string {
  const cells = [
    a.customerId,
    ids(a.userIds),
    ids(a.crmIds),
    a.segment,
    a.population,
    a.cluster,
    a.distance,
    a.rfm?.recencyDays,
    a.rfm?.frequency,
    a.rfm?.monetary,
    a.rfm?.r,
    a.rfm?.f,
    a.rfm?.m,
    a.rfm?.segment,
    a.predictions?.lifecycle,
    a.predictions?.churnRisk ?? undefined,
    a.predictions?.pAlive ?? undefined,
    a.predictions?.expectedPurchases ?? undefined,
    a.predictions?.expectedOrderValue ?? undefined,
    a.predictions?.clv ?? undefined,
    a.predictions?.nextPurchaseDue ?? undefined,
    renderAssignment(a).reasons.join('; '),
  ];
  return cells.map(csvCell).join(',');
}

/** Newline-terminated lines as one Buffer (one string per chunk, far below V8's ~512 MB string limit). */
export function lines<T>(items: readonly T[], line: (item: T) => string): Buffer {
  return Buffer.from(items.map((item) => `${line(item)}\n`).join(''));
}

export class RunFilesBuilder {
  private readonly parquet = new Map<SegmentId, MembersParquetWriter>();
  private readonly csv = new Map<SegmentId, Buffer[]>();

  add(chunk: readonly AssignmentRecord[]): void {
    for (const segment of SEGMENT_IDS) {
      const members = chunk.filter((a) => a.segment === segment);
      if (members.length === 0) continue;
      this.writerOf(segment).add(members);
      push(this.csv, segment, lines(members, toCsvRow));
    }
  }

  /** Every segment's files, empty ones included: readers tell a run of this format by them. */
  files(): RunFile[] {
    const header = Buffer.from(`${CSV_COLUMNS.join(',')}\n`);
    return SEGMENT_IDS.flatMap((segment) => [
      {
        name: `members/${segment}.parquet`,
        body: this.writerOf(segment).finish(),
        contentType: 'application/vnd.apache.parquet',
      },
      {
        name: `members/${segment}.csv`,
        body: Buffer.concat([header, ...(this.csv.get(segment) ?? [])]),
        contentType: 'text/csv',
      },
    ]);
  }

  private writerOf(segment: SegmentId): MembersParquetWriter {
    let writer = this.parquet.get(segment);
    if (!writer) {
      writer = new MembersParquetWriter();
      this.parquet.set(segment, writer);
    }
    return writer;
  }
}

function push(map: Map<SegmentId, Buffer[]>, segment: SegmentId, buffer: Buffer): void {
  const list = map.get(segment);
  if (list) list.push(buffer);
  else map.set(segment, [buffer]);
}
