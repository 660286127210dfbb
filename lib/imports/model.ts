// Bulk imports of CRM/ERP files (customers, historical orders): the import types and formats, the
// per-row error, and the report every way of importing returns (HTTP upload, S3 drop, CLI).
import { z } from 'zod';
import { IsoDateTime } from '../ingest/spec.js';

export const IMPORT_TYPES = ['customers', 'orders'] as const;
export const ImportType = z.enum(IMPORT_TYPES);
export type ImportType = z.infer<typeof ImportType>;

export const ImportFormat = z.enum(['csv', 'ndjson']);
export type ImportFormat = z.infer<typeof ImportFormat>;

/** An upload through POST /v1/imports: Lambda takes 6 MB per invocation, and the body must fit in it. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
/** Events per call of the ingest pipeline (a Segment batch of 500 events stays well under 500 KB). */
export const EVENTS_PER_BATCH = 500;
/** A report lists this many errors (the first ones by row); `errorCount` has them all. */
export const MAX_REPORTED_ERRORS = 1000;

/** Why a row was not imported: it could not become an event, or the pipeline rejected its event. */
export const ImportError = z
  .object({
    row: z.number().int().meta({
      description: 'CSV: the data row (1 = the first row after the header); NDJSON: the line number',
    }),
    field: z.string().meta({ description: 'The column (snake_case), or the event field the pipeline named' }),
    code: z.string().meta({ example: 'invalid_number' }),
    reason: z.string(),
    quarantineId: z
      .string()
      .optional()
      .meta({ description: 'Rejected by the pipeline and quarantined: GET /v1/quarantine/{id}' }),
  })
  .meta({ id: 'ImportError' });
export type ImportError = z.infer<typeof ImportError>;

export const ImportReport = z
  .object({
    importId: z.string(),
    type: ImportType,
    source: z.string().meta({ description: 'The source the events are attributed to' }),
    format: ImportFormat,
    file: z.string().optional().meta({ description: 'The file (S3 key or name) when known' }),
    status: z.enum(['completed', 'failed']).meta({
      description: 'failed: the file could not be read to its end (see `failure`)',
    }),
    failure: z.string().optional(),
    rows: z.number().int().meta({ description: 'Data rows read' }),
    skipped: z.number().int().meta({ description: 'Rows that could not become an event' }),
    events: z.number().int().meta({ description: 'Events sent through the ingest pipeline' }),
    accepted: z.number().int().meta({ description: 'Events accepted (deduplicated downstream)' }),
    rejected: z.number().int().meta({ description: 'Events the pipeline rejected and quarantined' }),
    errorCount: z.number().int().meta({ description: 'All errors; `errors` lists the first ones' }),
    errors: z.array(ImportError),
    startedAt: IsoDateTime,
    finishedAt: IsoDateTime,
  })
  .meta({ id: 'ImportReport' });
export type ImportReport = z.infer<typeof ImportReport>;

/** POST /v1/imports?type=customers|orders[&format=csv|ndjson][&asOf=ISO] */
export const ImportQuery = z.object({
  type: ImportType,
  format: ImportFormat.optional().meta({ description: 'Overrides the Content-Type' }),
  asOf: IsoDateTime.optional().meta({
    description: 'When the file was exported: the time of customer rows without a date (default: now)',
  }),
});
export type ImportQuery = z.infer<typeof ImportQuery>;

/** A file's format and compression from its name (`x.csv`, `x.ndjson.gz`, `x.jsonl`). */
export function formatOfName(name: string): { format: ImportFormat; gzip: boolean } | undefined {
  const lower = name.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const base = gzip ? lower.slice(0, -3) : lower;
  if (base.endsWith('.csv')) return { format: 'csv', gzip };
  if (base.endsWith('.ndjson') || base.endsWith('.jsonl')) return { format: 'ndjson', gzip };
  return undefined;
}

const CSV_TYPES = new Set(['text/csv', 'application/csv', 'text/plain']);
const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/jsonlines',
]);

/** A format from a Content-Type header (`text/csv; charset=utf-8`), if it names one. */
export function formatOfContentType(contentType: string | undefined): ImportFormat | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === undefined) return undefined;
  if (CSV_TYPES.has(type)) return 'csv';
  if (NDJSON_TYPES.has(type)) return 'ndjson';
  return undefined;
}
