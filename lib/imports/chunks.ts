// The client side of uploads (npm run import): a file cut into request bodies of whole rows, each under
// the upload limit, and the chunks' reports merged back with the file's row numbers.
//
// Orders must not be split: the server groups an order's rows within one request, and an order's
// messageId is fixed, so a second part sent later would be dropped as a duplicate. The rows of each
// order are therefore gathered first (the whole file in memory: this is a laptop or CI tool) and chunks
// are cut between orders only. Customers stream, one row at a time.
import { ORDER_COLUMNS } from './mapping.js';
import type { ImportError, ImportFormat, ImportReport, ImportType } from './model.js';
import { MAX_REPORTED_ERRORS } from './model.js';
import { columnKey, csvRecords, headerKeys, isBlank, MAX_RECORD_CHARS, ndjsonLines } from './read.js';

export interface Chunk {
  /** The request body: CSV (with the header) or NDJSON. */
  readonly body: string;
  /** The file's row number of each row of the body, in order: chunk row i+1 is file row rows[i]. */
  readonly rows: readonly number[];
}

export interface ChunkOptions {
  readonly type: ImportType;
  readonly format: ImportFormat;
  readonly maxRows: number;
  readonly maxBytes: number;
}

/** Rows that go together: one row (customers), or all rows of an order. */
interface Unit {
  readonly texts: string[];
  readonly rows: number[];
  bytes: number;
}

/** A CSV line (with its newline): fields quoted when they hold a delimiter, a quote or a line break. */
export function csvLine(fields: readonly string[]): string {
  return `${fields.map((f) => (/[",;\t|\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(',')}\n`;
}

export class UploadChunker {
  /** Rows that cannot be sent (an NDJSON line too long to keep), reported here instead of by the server. */
  readonly localErrors: ImportError[] = [];
  /** The header line of a CSV file, sent with every chunk. */
  private header = '';

  constructor(private readonly options: ChunkOptions) {}

  /** The chunks of a file's text. */
  async *chunks(text: AsyncIterable<string>): AsyncGenerator<Chunk> {
    const units = this.units(text);
    if (this.options.type === 'customers') {
      yield* this.pack(units);
      return;
    }
    // Orders: every row of an order in one unit, wherever it is in the file.
    const orders = new Map<string, Unit>();
    for await (const { unit, orderId } of units) {
      const key = orderId ?? `\u0000row ${unit.rows[0]}`;
      const order = orders.get(key);
      if (order === undefined) orders.set(key, unit);
      else {
        order.texts.push(...unit.texts);
        order.rows.push(...unit.rows);
        order.bytes += unit.bytes;
      }
    }
    yield* this.pack(
      (async function* () {
        for (const unit of orders.values()) yield { unit };
      })(),
    );
  }

  private async *pack(units: AsyncIterable<{ unit: Unit }>): AsyncGenerator<Chunk> {
    const { maxRows, maxBytes } = this.options;
    let texts: string[] = [];
    let rows: number[] = [];
    let bytes = 0;
    for await (const { unit } of units) {
      const headerBytes = Buffer.byteLength(this.header);
      if (headerBytes + unit.bytes > maxBytes) {
        throw new Error(
          `row ${unit.rows[0]}${unit.rows.length > 1 ? ` and the other rows of its order` : ''} take more than ` +
            `the ${maxBytes} bytes of one request`,
        );
      }
      if (
        rows.length > 0 &&
        (rows.length + unit.rows.length > maxRows || headerBytes + bytes + unit.bytes > maxBytes)
      ) {
        yield { body: this.header + texts.join(''), rows };
        texts = [];
        rows = [];
        bytes = 0;
      }
      texts.push(...unit.texts);
      rows.push(...unit.rows);
      bytes += unit.bytes;
    }
    if (rows.length > 0) yield { body: this.header + texts.join(''), rows };
  }

  /** Each row of the file as a unit, with its order id when importing orders. */
  private async *units(text: AsyncIterable<string>): AsyncGenerator<{ unit: Unit; orderId?: string }> {
    const unit = (line: string, row: number): Unit => ({
      texts: [line],
      rows: [row],
      bytes: Buffer.byteLength(line),
    });
    if (this.options.format === 'csv') {
      let keys: string[] | undefined;
      let row = 0;
      for await (const record of csvRecords(text)) {
        if (keys === undefined) {
          if (isBlank(record)) continue;
          keys = headerKeys(record);
          this.header = csvLine(record);
          continue;
        }
        row++;
        if (isBlank(record)) continue;
        const values = Object.fromEntries(keys.map((k, i) => [k, record[i]]));
        yield { unit: unit(csvLine(record), row), orderId: this.orderIdOf(values) };
      }
      return;
    }
    for await (const line of ndjsonLines(text)) {
      if ('tooLong' in line) {
        const reason = `is longer than ${MAX_RECORD_CHARS} characters`;
        this.localErrors.push({ row: line.line, field: '(line)', code: 'line_too_long', reason });
        continue;
      }
      yield { unit: unit(`${line.text}\n`, line.line), orderId: this.orderIdOf(jsonValues(line.text)) };
    }
  }

  /** The order id of a row as the server will read it (undefined for customers, or when it has none). */
  private orderIdOf(values: Record<string, unknown> | undefined): string | undefined {
    if (this.options.type !== 'orders' || values === undefined) return undefined;
    for (const alias of ORDER_COLUMNS.orderId) {
      const v = values[alias];
      if ((typeof v === 'string' || typeof v === 'number') && String(v).trim() !== '')
        return String(v).trim();
    }
    return undefined;
  }
}

function jsonValues(text: string): Record<string, unknown> | undefined {
  try {
    const json: unknown = JSON.parse(text);
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
    const values: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(json)) {
      const key = columnKey(name);
      if (!Object.hasOwn(values, key)) values[key] = value;
    }
    return values;
  } catch {
    return undefined;
  }
}

/** The reports of a file's chunks as one, in the file's row numbers. */
export interface MergedReport {
  readonly type: ImportType;
  readonly chunks: number;
  readonly importIds: string[];
  readonly failures: string[];
  readonly rows: number;
  readonly skipped: number;
  readonly events: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly errorCount: number;
  /** The first errors by row. */
  readonly errors: ImportError[];
}

export class ReportMerger {
  private chunks = 0;
  private readonly importIds: string[] = [];
  private readonly failures: string[] = [];
  private rows = 0;
  private skipped = 0;
  private events = 0;
  private accepted = 0;
  private rejected = 0;
  private errorCount = 0;
  private errors: ImportError[] = [];

  constructor(private readonly type: ImportType) {}

  /** A chunk's report; `rows` maps the chunk's row numbers to the file's (Chunk.rows). */
  add(report: ImportReport, rows: readonly number[]): void {
    this.chunks++;
    this.importIds.push(report.importId);
    if (report.failure !== undefined) this.failures.push(report.failure);
    this.rows += report.rows;
    this.skipped += report.skipped;
    this.events += report.events;
    this.accepted += report.accepted;
    this.rejected += report.rejected;
    // Errors a chunk's report did not list (past its first 1,000) are counted, not shown.
    this.errorCount += report.errorCount;
    this.keep(report.errors.map((e) => ({ ...e, row: rows[e.row - 1] ?? e.row })));
  }

  /** Rows the client could not send. */
  addLocal(errors: readonly ImportError[]): void {
    const rows = new Set(errors.map((e) => e.row)).size;
    this.rows += rows;
    this.skipped += rows;
    this.errorCount += errors.length;
    this.keep(errors);
  }

  result(): MergedReport {
    return {
      type: this.type,
      chunks: this.chunks,
      importIds: this.importIds,
      failures: this.failures,
      rows: this.rows,
      skipped: this.skipped,
      events: this.events,
      accepted: this.accepted,
      rejected: this.rejected,
      errorCount: this.errorCount,
      errors: this.first(),
    };
  }

  private keep(errors: readonly ImportError[]): void {
    this.errors.push(...errors);
    if (this.errors.length >= 2 * MAX_REPORTED_ERRORS) this.errors = this.first();
  }

  private first(): ImportError[] {
    return [...this.errors].sort((a, b) => a.row - b.row).slice(0, MAX_REPORTED_ERRORS);
  }
}
