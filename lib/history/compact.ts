// Compaction: each received day's raw NDJSON objects become that day's Parquet file of the columnar
// archive (columns.ts), with a manifest naming the raw objects it was made from. A day is rewritten whole,
// from its raw objects in key order, so compacting again gives the same file: at-least-once safe. A day is
// compacted when it has no manifest, or when it is recent enough to still gain objects and its objects
// differ from its manifest's (late retries of the archive queue land in the day they were received).
import { z } from 'zod';
import { type ArchiveRecord, archiveDayPrefix, archiveObjectTime } from '../archive/record.js';
import type { Logger } from '../log.js';
import { ObjectError } from '../segmentation/ports.js';
import { type FactRow, factRowOf } from './facts.js';

/**
 * Days this recent (the current UTC day and the ones before it) are checked for new objects on every
 * compaction. The archive queue keeps a failing message 4 days before its DLQ, so a day can gain an
 * object up to 4 days after it ended; a DLQ redrive later than that is compacted by naming the day.
 */
export const OPEN_DAYS = 5;
const DAY_MS = 86_400_000;
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The newest received day compaction no longer reopens at `now` (the day before the open days). */
export const finalThrough = (now: number): string => dayOf(now - OPEN_DAYS * DAY_MS);

/**
 * The facts' format: raised when a column is added or a fact is derived differently, so that every day
 * compacted before is compacted again (on the next run: the columns of all days must agree). 2 added
 * `products`.
 */
export const FACTS_FORMAT = 2;

export const DayManifest = z.object({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** FACTS_FORMAT when the day was compacted (manifests before the field: 1). */
  format: z.number().int().positive().default(1),
  /** The raw objects compacted, in key order. */
  objects: z.array(z.string()),
  rows: z.number().int().nonnegative(),
  compactedAt: z.iso.datetime(),
});
export type DayManifest = z.infer<typeof DayManifest>;

/** The raw archive, by received day. */
export interface RawArchive {
  /** The days with raw objects, ascending (`YYYY-MM-DD`). */
  days(): AsyncIterable<string>;
  /** Object keys under a day's prefix, ascending. */
  keys(prefix: string): AsyncIterable<string>;
  records(key: string): Promise<ArchiveRecord[]>;
}

/** The columnar archive. */
export interface ColumnarArchive {
  manifest(day: string): Promise<DayManifest | undefined>;
  /**
   * Replaces the day's Parquet file with these rows (streamed: a busy day does not fit in memory), then
   * writes its manifest — in that order, so a manifest always describes a complete file.
   */
  putDay(day: string, objects: readonly string[], rows: AsyncIterable<FactRow>): Promise<DayManifest>;
}

export interface CompactDeps {
  readonly raw: RawArchive;
  readonly columnar: ColumnarArchive;
  readonly log: Pick<Logger, 'info' | 'warn'>;
  readonly now: () => number;
}

export interface CompactResult {
  /** Days written, with their row counts. */
  readonly compacted: { readonly day: string; readonly objects: number; readonly rows: number }[];
  /** Days checked and found up to date. */
  readonly current: number;
}

/** An object's records; a failure names the key, for the run's error and the log. */
async function recordsOf(key: string, deps: CompactDeps): Promise<ArchiveRecord[]> {
  try {
    return await deps.raw.records(key);
  } catch (error) {
    throw error instanceof ObjectError ? error : new ObjectError(key, error);
  }
}

/** Rewrites one day from its raw objects (the `force` path: a named day, an erasure's rewrite). */
export async function compactDay(day: string, deps: CompactDeps, objects?: string[]) {
  const keys = objects ?? (await rawKeys(day, deps));
  async function* rows(): AsyncGenerator<FactRow> {
    for (const key of keys) for (const record of await recordsOf(key, deps)) yield factRowOf(record, day);
  }
  const manifest = await deps.columnar.putDay(day, keys, rows());
  deps.log.info('day compacted', { day, objects: keys.length, rows: manifest.rows });
  return { day, objects: keys.length, rows: manifest.rows };
}

/**
 * Compacts every day that has no columnar file yet or one of an older format, and every open day whose
 * objects changed.
 */
export async function compactChanged(deps: CompactDeps): Promise<CompactResult> {
  const openFrom = dayOf(deps.now() - (OPEN_DAYS - 1) * DAY_MS);
  const compacted: CompactResult['compacted'] = [];
  let current = 0;
  for await (const day of deps.raw.days()) {
    const manifest = await deps.columnar.manifest(day);
    if (manifest !== undefined && manifest.format !== FACTS_FORMAT) {
      compacted.push(await compactDay(day, deps));
      continue;
    }
    if (manifest !== undefined && day < openFrom) {
      current++;
      continue;
    }
    const keys = await rawKeys(day, deps);
    if (manifest !== undefined && sameKeys(manifest.objects, keys)) {
      current++;
      continue;
    }
    compacted.push(await compactDay(day, deps, keys));
  }
  return { compacted, current };
}

/** The day's archive objects; a key the archive writer did not make is left out, with a warning. */
async function rawKeys(day: string, deps: CompactDeps): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of deps.raw.keys(archiveDayPrefix(day))) {
    // A stray upload: the live consumer refused it too (it waits in the DLQ); a rebuild skips it.
    if (archiveObjectTime(key) === undefined) deps.log.warn('not an archive object key: skipped', { key });
    else keys.push(key);
  }
  return keys;
}

const sameKeys = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((key, i) => key === b[i]);
