// POST /v1/imports: a CSV or NDJSON file as the request body (at most 5 MB; larger files go to the S3
// drop or through `npm run import`, which sends them in chunks). 200 with the report when rows were
// imported; 400 with the report as details when none was, or when the file could not be read to its end.
// Those refusals are outcomes (lib/outcome.ts); the HTTP edge gives them their statuses.
import { isoDateTimeMs } from '../ingest/spec.js';
import { invalid, invalidWith, type Outcome, ok, unsupportedMediaType } from '../outcome.js';
import { type ImportDeps, importFile } from './importFile.js';
import { formatOfContentType, type ImportQuery, type ImportReport, MAX_UPLOAD_BYTES } from './model.js';

export interface UploadRequest {
  readonly query: ImportQuery;
  readonly contentType: string | undefined;
  readonly text: string;
  /** The write key's source. */
  readonly sourceId: string;
}

export const UPLOAD_TOO_LARGE_HINT =
  `Files over ${MAX_UPLOAD_BYTES / (1024 * 1024)} MB: put them in the archive bucket under ` +
  'imports/<source>/<customers|orders>/<name>.csv[.gz] (or .ndjson), or send them with ' +
  '`npm run import`, which uploads them in chunks.';

export async function importUpload(req: UploadRequest, deps: ImportDeps): Promise<Outcome<ImportReport>> {
  const format = req.query.format ?? formatOfContentType(req.contentType);
  if (format === undefined) {
    return unsupportedMediaType(
      'Send CSV (Content-Type: text/csv) or NDJSON (Content-Type: application/x-ndjson), ' +
        'or name the format with ?format=csv|ndjson.',
    );
  }
  if (req.text.trim() === '') return invalid("The request body is empty: send the file's content.");
  const report = await importFile(
    {
      type: req.query.type,
      sourceId: req.sourceId,
      format,
      body: [req.text],
      asOf: req.query.asOf === undefined ? undefined : isoDateTimeMs(req.query.asOf),
    },
    deps,
  );
  if (report.status === 'failed') {
    return invalidWith('import_failed', `The file could not be read to its end: ${report.failure}`, report);
  }
  if (report.accepted === 0) return invalidWith('nothing_imported', nothingImported(report), report);
  return ok(report);
}

/** "No row was imported (3 rows, 4 errors): row 1 email: ...; row 2 ..." */
function nothingImported(report: ImportReport): string {
  if (report.rows === 0) return 'No row was imported: the file holds no data rows.';
  const first = report.errors
    .slice(0, 3)
    .map((e) => `row ${e.row} ${e.field}: ${e.reason}`)
    .join('; ');
  const more = report.errorCount > 3 ? `; and ${report.errorCount - 3} more` : '';
  return `No row was imported (${report.rows} rows, ${report.errorCount} errors): ${first}${more}`;
}
