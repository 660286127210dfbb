// Reading import files: column names as keys, CSV (delimiters, quotes, blank rows, ragged rows, BOM, gzip,
// text split anywhere, even inside a character) and NDJSON (line numbers, bad lines), and which faults end
// the reading as the file's (ImportReadError) rather than the service's.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  columnKey,
  type ImportBody,
  ImportReadError,
  MAX_RECORD_CHARS,
  type ReadRow,
  readRows,
  sniffDelimiter,
} from '../../lib/imports/read.js';

async function rowsOf(body: ImportBody, format: 'csv' | 'ndjson', gzip = false): Promise<ReadRow[]> {
  const rows: ReadRow[] = [];
  for await (const row of readRows(body, format, gzip)) rows.push(row);
  return rows;
}

/** The bytes of a text in pieces of `size` bytes: characters and lines cut anywhere. */
function pieces(text: string | Buffer, size: number): Uint8Array[] {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe('columnKey', () => {
  it('makes one snake_case key of the ways people name a column', () => {
    const cases: [string, string][] = [
      ['First Name', 'first_name'],
      ['firstName', 'first_name'],
      ['FirstName', 'first_name'],
      ['FIRST_NAME', 'first_name'],
      ['first-name', 'first_name'],
      [' E-mail ', 'e_mail'],
      ['customerID', 'customer_id'],
      ['CRMId', 'crm_id'],
      ['Prénom', 'prenom'],
      ['Date of Birth (UTC)', 'date_of_birth_utc'],
      ['__proto__', 'proto'],
      ['???', ''],
    ];
    for (const [header, key] of cases) expect(columnKey(header), header).toBe(key);
  });
});

describe('CSV', () => {
  it('reads rows keyed by column, numbered as a spreadsheet shows them after the header', async () => {
    const csv =
      '\ufeffUser ID,E-mail,Notes\r\nu1,a@x.io,"said ""hi"", then\r\nleft"\r\n\r\n,,\r\nu2,b@x.io,\r\n';
    expect(await rowsOf([csv], 'csv')).toEqual([
      { row: 1, values: { user_id: 'u1', e_mail: 'a@x.io', notes: 'said "hi", then\r\nleft' } },
      { row: 4, values: { user_id: 'u2', e_mail: 'b@x.io', notes: '' } },
    ]);
  });

  it('finds the delimiter from the header line', async () => {
    expect(sniffDelimiter('a;b;"c,d";e')).toBe(';');
    expect(sniffDelimiter('a\tb\tc')).toBe('\t');
    expect(sniffDelimiter('single')).toBe(',');
    expect(await rowsOf(['order_id;total\nA;12,50\n'], 'csv')).toEqual([
      { row: 1, values: { order_id: 'A', total: '12,50' } },
    ]);
  });

  it('reports rows with more or fewer fields than the header, and names repeated or empty headers', async () => {
    const csv = 'id,Name,name,\n1,a,b,c\n2,a\n3,a,b,c,d\n';
    expect(await rowsOf([csv], 'csv')).toEqual([
      { row: 1, values: { id: '1', name: 'a', name_2: 'b', column_4: 'c' } },
      {
        row: 2,
        error: { row: 2, field: '(row)', code: 'column_count', reason: 'has 2 fields; the header has 4' },
      },
      {
        row: 3,
        error: { row: 3, field: '(row)', code: 'column_count', reason: 'has 5 fields; the header has 4' },
      },
    ]);
  });

  it('reads gzip and text cut anywhere (inside a character, a quote, a line break) alike', async () => {
    const csv = 'id,city\n1,"Zürich, CH"\n2,Kraków\n3,東京\n';
    const expected = await rowsOf([csv], 'csv');
    expect(expected.map((r) => ('values' in r ? r.values.city : r))).toEqual([
      'Zürich, CH',
      'Kraków',
      '東京',
    ]);
    for (const size of [1, 2, 3, 7])
      expect(await rowsOf(pieces(csv, size), 'csv'), `${size}`).toEqual(expected);
    expect(await rowsOf(pieces(gzipSync(csv), 5), 'csv', true)).toEqual(expected);
  });

  it('has no rows for a header only or an empty body', async () => {
    expect(await rowsOf(['id,name\n'], 'csv')).toEqual([]);
    expect(await rowsOf([''], 'csv')).toEqual([]);
    expect(await rowsOf([], 'ndjson')).toEqual([]);
  });

  it('ends with an ImportReadError on a file that cannot be read on: unclosed quote, bad gzip', async () => {
    await expect(rowsOf(['id,name\n1,"open\n2,x\n'], 'csv')).rejects.toThrow(ImportReadError);
    await expect(rowsOf(['id,name\n1,"open\n'], 'csv')).rejects.toThrow(/CSV is malformed: Quote Not Closed/);
    await expect(rowsOf([Buffer.from('id\n1\n')], 'csv', true)).rejects.toThrow(/not valid gzip/);
    const truncated = gzipSync('id\n1\n2\n').subarray(0, 12);
    await expect(rowsOf([truncated], 'csv', true)).rejects.toThrow(ImportReadError);
  });

  it('passes the error of a failing source through as it is (a network fault is not the file)', async () => {
    const failing = async function* () {
      yield Buffer.from('id\n1\n');
      throw new Error('socket hang up');
    };
    const error = await rowsOf(failing(), 'csv').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ImportReadError);
    expect((error as Error).message).toBe('socket hang up');
    const gzipped = async function* () {
      yield gzipSync('id\n1\n').subarray(0, 10);
      throw new Error('socket hang up');
    };
    expect(await rowsOf(gzipped(), 'csv', true).catch((e: unknown) => (e as Error).message)).toBe(
      'socket hang up',
    );
  });
});

describe('NDJSON', () => {
  it('reads objects keyed by column, numbered by line, blank lines skipped but counted', async () => {
    const text =
      '\ufeff{"userId":"u1","Plan":"gold"}\r\n\n  \n{"user_id":2,"nested":{"a":1}}\n{"userId":"u3"}';
    expect(await rowsOf(pieces(text, 4), 'ndjson')).toEqual([
      { row: 1, values: { user_id: 'u1', plan: 'gold' } },
      { row: 4, values: { user_id: 2, nested: { a: 1 } } },
      { row: 5, values: { user_id: 'u3' } },
    ]);
  });

  it('reports lines that are not JSON objects, and lines too long to keep', async () => {
    const long = `{"x":"${'a'.repeat(MAX_RECORD_CHARS)}"}`;
    const text = `{"id":1}\n{oops\n[1,2]\nnull\n${long}\n{"id":6}\n`;
    const rows = await rowsOf(pieces(text, 64 * 1024), 'ndjson');
    expect(rows.map((r) => ('error' in r ? [r.row, r.error.code] : [r.row, r.values.id]))).toEqual([
      [1, 1],
      [2, 'invalid_json'],
      [3, 'invalid_json'],
      [4, 'invalid_json'],
      [5, 'line_too_long'],
      [6, 6],
    ]);
  });
});
