// The S3 drop: a file put in the archive bucket under imports/<source>/<customers|orders>/<name>.csv or
// .ndjson (optionally .gz) is imported for that source, and its report written next to the other reports,
// at reports/<the object's key>.json. The queue delivers the bucket's notifications (at least once): a
// redelivery imports the same events again, which dedup absorbs, and overwrites the report.
//
// An imported file is deleted once its report is written: it holds personal data in clear (the bucket's
// lifecycle expires anything left under imports/ after 14 days, the DLQ's retention, as a safety net).
// An object whose key does not follow the layout is not retried (it never will): the log says why and a
// failed report is written for it. A notification that cannot be read, or an import that fails on the
// way (storage down), fails its record, which returns after the visibility timeout and, after 5 receives,
// ends in the imports DLQ.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { processRecords } from '../queue/eachRecord.js';
import type { QueueRecord } from '../queue/record.js';
import { type CreatedObject, createdObjects } from '../queue/s3Notification.js';
import { type ImportDeps, importFile } from './importFile.js';
import { formatOfName, type ImportFormat, ImportType } from './model.js';

export const IMPORTS_PREFIX = 'imports/';
const SOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export type DropTarget =
  | {
      readonly ok: true;
      readonly sourceId: string;
      readonly type: ImportType;
      readonly format: ImportFormat;
      readonly gzip: boolean;
    }
  | { readonly ok: false; readonly reason: string };

const LAYOUT = 'imports/<source>/<customers|orders>/<name>.(csv|ndjson)[.gz]';

/** What an object key asks for: imports/<source>/<type>/<name>.<csv|ndjson>[.gz]. */
export function dropTargetOf(key: string): DropTarget {
  const parts = key.split('/');
  const [prefix, sourceId = '', type = '', ...name] = parts;
  const file = name.join('/');
  if (`${prefix}/` !== IMPORTS_PREFIX || name.length === 0 || file === '') {
    return { ok: false, reason: `the key does not follow ${LAYOUT}` };
  }
  if (!SOURCE_ID.test(sourceId)) {
    return { ok: false, reason: `"${sourceId}" is not a source id (letters, digits, _ . : -)` };
  }
  const importType = ImportType.safeParse(type);
  if (!importType.success) {
    return { ok: false, reason: `"${type}" is not an import type: put the file under customers/ or orders/` };
  }
  const format = formatOfName(file);
  if (!format) return { ok: false, reason: `"${file}" is not a .csv or .ndjson file (optionally .gz)` };
  return { ok: true, sourceId, type: importType.data, ...format };
}

export const importReportKey = (objectKey: string): string => `reports/${objectKey}.json`;

/** An object's content, read from the start. */
export interface ImportObject {
  readonly body: AsyncIterable<Uint8Array>;
  readonly size: number;
  /** Epoch ms: the "as of" time of the file's rows without a date. */
  readonly lastModified?: number;
}

/** Where import reports are written (JSON documents; S3's reports/ prefix in the stack). */
export interface ReportStore {
  putJson(key: string, value: unknown): Promise<void>;
}

export interface ObjectSource {
  /** The object, or undefined when it does not exist (deleted since the notification). */
  open(object: CreatedObject): Promise<ImportObject | undefined>;
  /** Deletes an imported file: its rows hold personal data in clear, and its report is the record. */
  remove(object: CreatedObject): Promise<void>;
}

export interface DropDeps {
  readonly imports: ImportDeps;
  readonly objects: ObjectSource;
  readonly reports: ReportStore;
  readonly log: Logger;
}

export interface DropResult {
  readonly failedRecordIds: string[];
  /** Report keys written. */
  readonly reports: string[];
}

export async function importDroppedObjects(
  records: readonly QueueRecord[],
  deps: DropDeps,
): Promise<DropResult> {
  const { failedRecordIds, results } = await processRecords(
    records,
    async (record) => {
      const reports: string[] = [];
      for (const object of createdObjects(record.body)) {
        const key = await importObject(object, deps);
        if (key !== undefined) reports.push(key);
      }
      return reports;
    },
    { log: deps.log, failure: 'import failed; the file will be imported again' },
  );
  return { failedRecordIds, reports: results.flat() };
}

/** Imports one object and writes its report; returns the report's key (undefined for folder markers). */
async function importObject(object: CreatedObject, deps: DropDeps): Promise<string | undefined> {
  // The console's "create folder" makes empty objects whose keys end with a slash.
  if (object.key.endsWith('/')) return undefined;
  const reportKey = importReportKey(object.key);
  const target = dropTargetOf(object.key);
  if (!target.ok) {
    deps.log.warn('import skipped', { key: object.key, reason: target.reason });
    await deps.reports.putJson(reportKey, failedReport(object.key, target.reason, deps));
    return reportKey;
  }
  const opened = await deps.objects.open(object);
  if (opened === undefined) {
    // Most often a redelivery after the import deleted the file: its report stands, untouched.
    deps.log.warn('import skipped: the object no longer exists', { key: object.key });
    return undefined;
  }
  const report = await importFile(
    {
      type: target.type,
      sourceId: target.sourceId,
      format: target.format,
      gzip: target.gzip,
      body: opened.body,
      asOf: opened.lastModified,
      file: object.key,
    },
    deps.imports,
  );
  await deps.reports.putJson(reportKey, report);
  // Only once the report is safe: a failure before leaves the file for the retry.
  await deps.objects.remove(object);
  return reportKey;
}

/** The report of an object that was not imported at all. */
function failedReport(key: string, reason: string, deps: DropDeps) {
  const at = new Date(deps.imports.now()).toISOString();
  return {
    importId: `imp_${(deps.imports.newId ?? randomUUID)()}`,
    file: key,
    status: 'failed' as const,
    failure: `not imported: ${reason}`,
    startedAt: at,
    finishedAt: at,
  };
}
