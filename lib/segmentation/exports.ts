// A run's files, built in memory chunk by chunk: every assignment as gzip NDJSON (the next run's
// transitions read it), and per segment the members as NDJSON (the paginated API reads it by byte
// ranges) and CSV (for spreadsheets and marketing tools). Kept as Buffers, off the V8 heap; each chunk's
// assignment objects can be dropped once added.
import { gzipSync } from 'node:zlib';
import type { Assignment } from './model.js';
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

export function toCsvRow(a: Assignment): string {
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
    a.reasons.join('; '),
  ];
  return cells.map(csvCell).join(',');
}

/** Newline-terminated lines as one Buffer (one string per chunk, far below V8's ~512 MB string limit). */
export function lines<T>(items: readonly T[], line: (item: T) => string): Buffer {
  return Buffer.from(items.map((item) => `${line(item)}\n`).join(''));
}

const json = (a: Assignment) => JSON.stringify(a);

export class RunFilesBuilder {
  private readonly all: Buffer[] = [];
  private readonly ndjson = new Map<SegmentId, Buffer[]>();
  private readonly csv = new Map<SegmentId, Buffer[]>();

  add(chunk: readonly Assignment[]): void {
    // Concatenated gzip members are one valid gzip file (RFC 1952): zcat, DuckDB and Athena read it.
    this.all.push(gzipSync(lines(chunk, json)));
    for (const segment of SEGMENT_IDS) {
      const members = chunk.filter((a) => a.segment === segment);
      if (members.length === 0) continue;
      push(this.ndjson, segment, lines(members, json));
      push(this.csv, segment, lines(members, toCsvRow));
    }
  }

  files(): RunFile[] {
    const header = Buffer.from(`${CSV_COLUMNS.join(',')}\n`);
    return [
      {
        name: 'assignments.ndjson.gz',
        // No chunk (a run over no customer) is still one gzip member: zero bytes are not a gzip file.
        body: this.all.length === 0 ? gzipSync(Buffer.alloc(0)) : Buffer.concat(this.all),
        contentType: 'application/gzip',
      },
      ...SEGMENT_IDS.flatMap((segment) => [
        {
          name: `members/${segment}.ndjson`,
          body: Buffer.concat(this.ndjson.get(segment) ?? []),
          contentType: 'application/x-ndjson',
        },
        {
          name: `members/${segment}.csv`,
          body: Buffer.concat([header, ...(this.csv.get(segment) ?? [])]),
          contentType: 'text/csv',
        },
      ]),
    ];
  }
}

function push(map: Map<SegmentId, Buffer[]>, segment: SegmentId, buffer: Buffer): void {
  const list = map.get(segment);
  if (list) list.push(buffer);
  else map.set(segment, [buffer]);
}
