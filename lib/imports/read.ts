// Reading an import file as a stream of rows: bytes (gzip or not) to text, text to CSV records or NDJSON
// lines, and those to rows keyed by snake_case column names. Nothing is held beyond the current record.
//
// Row numbers: CSV rows are counted as a spreadsheet shows them, from the first row after the header
// (1; blank rows are skipped but counted); NDJSON rows are line numbers (blank lines likewise).
import { pipeline, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { CsvError, parse } from 'csv-parse';
import type { ImportError, ImportFormat } from './model.js';

/** What an import reads: a Lambda/HTTP body, an S3 object stream, a file stream, test strings. */
export type ImportBody = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

export type ReadRow =
  | { readonly row: number; readonly values: Readonly<Record<string, unknown>> }
  | { readonly row: number; readonly error: ImportError };

/** A CSV record or NDJSON line longer than this is not a row (and would only fill the memory). */
export const MAX_RECORD_CHARS = 1024 * 1024;

/** The file cannot be read on (malformed CSV, bad gzip): a problem of the file, not of the service. */
export class ImportReadError extends Error {
  override readonly name = 'ImportReadError';
}

/**
 * Column names as keys: `First Name`, `firstName`, `FIRST_NAME` and `first-name` are all `first_name`;
 * accents are dropped (`Prénom` -> `prenom`).
 */
export function columnKey(header: string): string {
  return header
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Keys for a header row: empty names become column_<n>, repeated ones get _2, _3... */
export function headerKeys(header: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return header.map((name, i) => {
    const key = columnKey(name) || `column_${i + 1}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n === 1 ? key : `${key}_${n}`;
  });
}

/** UTF-8 text of a body, gunzipped when `gzip`. */
export async function* textOf(body: ImportBody, gzip: boolean): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of gzip ? gunzipped(body) : body) {
      const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      if (text !== '') yield text;
    }
  } catch (error) {
    throw readErrorOf(error);
  }
  const tail = decoder.decode();
  if (tail !== '') yield tail;
}

function gunzipped(body: ImportBody): AsyncIterable<Uint8Array> {
  const gunzip = createGunzip();
  // pipeline: a source error destroys the gunzip stream (and surfaces in the loop reading it); the
  // callback only swallows the error already thrown there.
  pipeline(Readable.from(body), gunzip, () => {});
  return gunzip;
}

/** zlib and csv-parse errors are the file's fault; anything else (a network read) is rethrown as is. */
function readErrorOf(error: unknown): unknown {
  if (error instanceof ImportReadError) return error;
  if (error instanceof CsvError) return new ImportReadError(`The CSV is malformed: ${error.message}`);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new ImportReadError(`The file is not valid gzip data: ${(error as Error).message}`);
  }
  return error;
}

/**
 * The records of a CSV text, the header first, blank records included (as the rows of a spreadsheet:
 * they count, see isBlank). The delimiter (`,` `;` TAB or `|`) is the one the header line uses most;
 * quotes are relaxed and records may have more or fewer fields than the header (the caller reports them).
 */
export async function* csvRecords(text: AsyncIterable<string>): AsyncGenerator<string[]> {
  const chunks = text[Symbol.asyncIterator]();
  let head = '';
  let ended = false;
  // Enough text for the first non-blank line, whose delimiters are counted.
  while (!/\S[^\r\n]*[\r\n]/.test(head) && head.length < MAX_RECORD_CHARS) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    head += next.value;
  }
  // Records are taken as the parser finds them (on_record), not from its readable side: a stream that
  // errors drops what it buffered, and the rows before a fault must still count.
  const records: string[][] = [];
  let failure: { error: unknown } | undefined;
  const parser = parse({
    bom: true,
    delimiter: sniffDelimiter(head.split(/\r?\n|\r/).find((line) => line.trim() !== '') ?? ''),
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: MAX_RECORD_CHARS,
    on_record: (record: string[]) => {
      records.push(record);
      return null;
    },
  });
  parser.on('error', (error) => {
    failure ??= { error };
  });
  parser.resume();
  try {
    let chunk: string | undefined = head;
    while (chunk !== undefined) {
      parser.write(chunk);
      yield* records.splice(0);
      if (failure) throw failure.error;
      const next = ended ? undefined : await chunks.next();
      chunk = next === undefined || next.done ? undefined : next.value;
    }
    parser.end();
    await finished(parser).catch(() => {});
    yield* records.splice(0);
    if (failure) throw failure.error;
  } catch (error) {
    throw readErrorOf(error);
  } finally {
    parser.destroy();
  }
}

/** A record with no value (an empty line, or only delimiters): not a row, but it counts as one. */
export const isBlank = (record: readonly string[]): boolean => record.every((field) => field.trim() === '');

const DELIMITERS = [',', ';', '\t', '|'] as const;

/** The delimiter a header line uses most, outside quotes; ',' when it uses none. */
export function sniffDelimiter(line: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (DELIMITERS as readonly string[]).includes(c))
      counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best = ',';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    const n = counts.get(d) ?? 0;
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}

export type NdjsonLine =
  | { readonly line: number; readonly text: string }
  | { readonly line: number; readonly tooLong: true };

/** The non-blank lines of an NDJSON text with their line numbers; a line over MAX_RECORD_CHARS is not kept. */
export async function* ndjsonLines(text: AsyncIterable<string>): AsyncGenerator<NdjsonLine> {
  let buffer = '';
  let line = 0;
  /** Inside a line that was too long: drop text up to its end. */
  let skipping = false;
  const out = (raw: string): NdjsonLine | undefined => {
    line++;
    if (raw.length > MAX_RECORD_CHARS) return { line, tooLong: true };
    const trimmed = (line === 1 ? raw.replace(/^\ufeff/, '') : raw).trim();
    return trimmed === '' ? undefined : { line, text: trimmed };
  };
  for await (const chunk of text) {
    buffer += chunk;
    let start = 0;
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n', start)) {
      if (skipping) {
        line++;
        skipping = false;
      } else {
        const row = out(buffer.slice(start, nl));
        if (row) yield row;
      }
      start = nl + 1;
    }
    buffer = buffer.slice(start);
    if (buffer.length > MAX_RECORD_CHARS) {
      if (!skipping) yield { line: line + 1, tooLong: true };
      skipping = true;
      buffer = '';
    }
  }
  if (!skipping && buffer !== '') {
    const row = out(buffer);
    if (row) yield row;
  }
}

/** The rows of a file: values keyed by column; rows that cannot be read are errors with their number. */
export async function* readRows(
  body: ImportBody,
  format: ImportFormat,
  gzip = false,
): AsyncGenerator<ReadRow> {
  const text = textOf(body, gzip);
  if (format === 'csv') yield* csvRows(text);
  else yield* ndjsonRows(text);
}

async function* csvRows(text: AsyncIterable<string>): AsyncGenerator<ReadRow> {
  let keys: string[] | undefined;
  let row = 0;
  for await (const record of csvRecords(text)) {
    if (keys === undefined) {
      if (!isBlank(record)) keys = headerKeys(record);
      continue;
    }
    row++;
    if (isBlank(record)) continue;
    if (record.length !== keys.length) {
      yield {
        row,
        error: {
          row,
          field: '(row)',
          code: 'column_count',
          reason: `has ${record.length} fields; the header has ${keys.length}`,
        },
      };
      continue;
    }
    const values: Record<string, unknown> = {};
    keys.forEach((key, i) => {
      values[key] = record[i];
    });
    yield { row, values };
  }
}

async function* ndjsonRows(text: AsyncIterable<string>): AsyncGenerator<ReadRow> {
  for await (const line of ndjsonLines(text)) {
    const row = line.line;
    if ('tooLong' in line) {
      const reason = `is longer than ${MAX_RECORD_CHARS} characters`;
      yield { row, error: { row, field: '(line)', code: 'line_too_long', reason } };
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(line.text);
    } catch (error) {
      const reason = `is not valid JSON: ${(error as Error).message}`;
      yield { row, error: { row, field: '(line)', code: 'invalid_json', reason } };
      continue;
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      yield { row, error: { row, field: '(line)', code: 'invalid_json', reason: 'is not a JSON object' } };
      continue;
    }
    const values: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(json)) {
      const key = columnKey(name);
      if (key !== '' && !Object.hasOwn(values, key)) values[key] = value;
    }
    yield { row, values };
  }
}
