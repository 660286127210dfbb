// npm run import -- <file> --type customers|orders [--chunk-rows 1000] [--url URL --key WRITE_KEY]
// Sends a CSV or NDJSON file (optionally .gz) to POST /v1/imports in chunks of whole rows (orders: whole
// orders) with a progress bar, merges the chunks' reports and prints the totals and the first errors.
// Exits 1 when nothing was imported. Default target: the running local stack (.local/stack.json).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { type Chunk, type MergedReport, ReportMerger, UploadChunker } from '../lib/imports/chunks.js';
import { formatOfName, ImportFormat, ImportReport, ImportType } from '../lib/imports/model.js';
import { textOf } from '../lib/imports/read.js';
import { apiRequest, messageOf, withRetries } from './apiCall.js';
import { runCli, runningStack } from './target.js';

const USAGE =
  'usage: npm run import -- <file.csv|.ndjson[.gz]> --type customers|orders [--chunk-rows 1000] ' +
  '[--format csv|ndjson] [--url https://api... --key wk_...]';
/** Requests stay under the endpoint's 5 MB, with room to spare. */
const MAX_CHUNK_BYTES = 4 * 1024 * 1024;
const MAX_ATTEMPTS = 5;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    type: { type: 'string' },
    format: { type: 'string' },
    'chunk-rows': { type: 'string', default: '1000' },
    url: { type: 'string' },
    key: { type: 'string' },
  },
});

interface Target {
  readonly url: string;
  readonly key: string;
}

/** Posts one chunk; retries what a retry can fix (503, 429, a dropped connection) with backoff. */
async function send(target: Target, query: string, contentType: string, chunk: Chunk): Promise<ImportReport> {
  const answer = await withRetries(
    () =>
      apiRequest(`${target.url}/v1/imports?${query}`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${target.key}:`).toString('base64')}`,
          'content-type': contentType,
        },
        body: chunk.body,
      }),
    {
      attempts: MAX_ATTEMPTS,
      // A 200 without a report is a function that failed behind a proxy (serverless-offline answers a
      // Lambda timeout so): as retryable as a 5xx. Re-sending a chunk imports nothing twice.
      retryable: (a) => a.status === 429 || a.status >= 500 || (a.status === 200 && !reportOf(a)),
    },
  );
  const report = reportOf(answer);
  if (!report) throw new Error(`the API answered ${answer.status}: ${messageOf(answer)}`);
  return report;
}

/** The chunk's report: the body of a 200, or the details of a 400 (nothing of the chunk was imported). */
function reportOf(answer: { status: number; body: unknown }): ImportReport | undefined {
  const body = answer.body as { details?: unknown } | undefined;
  const report = ImportReport.safeParse(answer.status === 400 ? body?.details : answer.body);
  return (answer.status === 200 || answer.status === 400) && report.success ? report.data : undefined;
}

function print(file: string, report: MergedReport, seconds: number): void {
  const n = (x: number) => x.toLocaleString('en-US');
  console.log(
    `Imported ${report.type} from ${file}: ${n(report.rows)} rows in ${report.chunks} ` +
      `${report.chunks === 1 ? 'request' : 'requests'}, ${seconds.toFixed(1)} s`,
  );
  console.log(
    `  events ${n(report.events)}, accepted ${n(report.accepted)}, rejected ${n(report.rejected)} ` +
      `(quarantined), rows skipped ${n(report.skipped)}, errors ${n(report.errorCount)}`,
  );
  for (const failure of report.failures) console.log(`  failed: ${failure}`);
  const shown = report.errors.slice(0, 20);
  if (shown.length > 0)
    console.log(
      `  first errors${report.errorCount > shown.length ? ` (${shown.length} of ${n(report.errorCount)})` : ''}:`,
    );
  for (const e of shown) {
    const quarantined = e.quarantineId ? ` [quarantined ${e.quarantineId}]` : '';
    console.log(`    row ${e.row}  ${e.field}  ${e.code}: ${e.reason}${quarantined}`);
  }
  if (report.accepted === 0) console.log('Nothing was imported.');
}

runCli(async () => {
  const [file] = positionals;
  const type = ImportType.safeParse(values.type);
  if (!file || !type.success) throw new Error(USAGE);
  const named = formatOfName(file);
  const format = values.format === undefined ? named?.format : ImportFormat.parse(values.format);
  if (!format)
    throw new Error(`cannot tell the format of ${file}: name it .csv or .ndjson, or pass --format`);
  const maxRows = Number(values['chunk-rows']);
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new Error('--chunk-rows must be a positive integer');
  const target: Target =
    values.url && values.key
      ? { url: values.url.replace(/\/+$/, ''), key: values.key }
      : await runningStack().then((s) => ({ url: values.url ?? s.httpUrl, key: values.key ?? s.writeKey }));

  const { size, mtime } = await stat(file);
  const query = new URLSearchParams({ type: type.data, asOf: mtime.toISOString() }).toString();
  const contentType = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
  const chunker = new UploadChunker({ type: type.data, format, maxRows, maxBytes: MAX_CHUNK_BYTES });
  const merger = new ReportMerger(type.data);

  // Progress: customers in bytes of the file read (they stream); orders in rows (grouped first).
  let bytesRead = 0;
  const stream = createReadStream(file);
  stream.on('data', (chunk) => {
    bytesRead += chunk.length;
  });
  const bar = new SingleBar({
    format: `import ${type.data} |{bar}| {percentage}% | {sent} rows sent | {accepted} accepted | {errors} errors`,
    hideCursor: true,
  });
  const started = Date.now();
  let sent = 0;
  const chunks: AsyncIterable<Chunk> = chunker.chunks(textOf(stream, named?.gzip ?? false));
  let orderChunks: Chunk[] | undefined;
  if (type.data === 'orders') {
    orderChunks = [];
    for await (const chunk of chunks) orderChunks.push(chunk);
    bar.start(
      orderChunks.reduce((n, c) => n + c.rows.length, 0),
      0,
      { sent, accepted: 0, errors: 0 },
    );
  } else {
    bar.start(size, 0, { sent, accepted: 0, errors: 0 });
  }
  try {
    for await (const chunk of orderChunks ?? chunks) {
      merger.add(await send(target, query, contentType, chunk), chunk.rows);
      sent += chunk.rows.length;
      const totals = merger.result();
      bar.update(type.data === 'orders' ? sent : Math.min(bytesRead, size), {
        sent,
        accepted: totals.accepted,
        errors: totals.errorCount,
      });
    }
  } finally {
    bar.stop();
  }
  merger.addLocal(chunker.localErrors);
  const report = merger.result();
  print(basename(file), report, (Date.now() - started) / 1000);
  if (report.accepted === 0) process.exitCode = 1;
});
