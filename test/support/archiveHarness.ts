// The archive consumer wired to the real emulators (dedup table, archive bucket), plus the read-back and
// fault-injecting wrappers the integration tests share. Faults wrap a real adapter; storage is never faked.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import { DedupItem, dedupKey, dedupTable } from '../../lib/adapters/dynamodb/dedupTable.js';
import { archiveBucket, archiveReader } from '../../lib/adapters/s3/archiveBucket.js';
import type { ArchiveDeps } from '../../lib/archive/archiveBatch.js';
import type { ArchiveStore, DedupStore } from '../../lib/archive/ports.js';
import { ARCHIVE_PREFIX, type ArchiveRecord } from '../../lib/archive/record.js';
import { createDynamoDb, createS3 } from '../../lib/aws/clients.js';
import type { Config } from '../../lib/config.js';
import { countsOf, DAY_MS, recordingLogger } from './archiveFixtures.js';
import { testConfig } from './provided.js';

export const StoredDedupItem = DedupItem;
export type StoredDedupItem = z.infer<typeof DedupItem>;

export type ArchivedRow = ArchiveRecord & { key: string };

export function archiveHarness(config: Config = testConfig()) {
  const dynamo = createDynamoDb(config);
  const s3 = createS3(config);
  const dedup = dedupTable(dynamo, config.tables.dedup);
  const archive = archiveBucket(s3, config.buckets.archive);
  const reader = archiveReader(s3, config.buckets.archive);
  const logger = recordingLogger();

  return {
    config,
    dynamo,
    s3,
    dedup,
    archive,
    reader,
    logger,
    /** Deps as lib/runtime.ts builds them, with the real adapters; override what a test controls. */
    deps(overrides: Partial<ArchiveDeps> = {}): ArchiveDeps {
      return {
        dedup,
        archive,
        log: logger.log,
        now: Date.now,
        leaseMs: config.archiveLeaseSeconds * 1000,
        windowMs: config.dedupWindowDays * DAY_MS,
        ...overrides,
      };
    },
    /** The dedup item of a source's messageId, read consistently; undefined when there is none. */
    async dedupItem(messageId: string, sourceId: string): Promise<StoredDedupItem | undefined> {
      const out = await dynamo.send(
        new GetCommand({
          TableName: config.tables.dedup,
          Key: { messageId: dedupKey(sourceId, messageId) },
          ConsistentRead: true,
        }),
      );
      return out.Item ? StoredDedupItem.parse(out.Item) : undefined;
    },
    /** Every archived row of one source in the given day partitions (read back from the bucket). */
    async archivedRows(sourceId: string, days: Iterable<string>): Promise<ArchivedRow[]> {
      const rows: ArchivedRow[] = [];
      for (const day of new Set(days)) {
        for await (const row of reader.allRecords(`${ARCHIVE_PREFIX}dt=${day}/`)) {
          if (row.source_id === sourceId) rows.push(row);
        }
      }
      return rows;
    },
    close() {
      dynamo.destroy();
      s3.destroy();
    },
  };
}
export type ArchiveHarness = ReturnType<typeof archiveHarness>;

/** How many times each messageId was archived. */
export const archivedCounts = (rows: readonly ArchivedRow[]) => countsOf(rows.map((r) => r.message_id));

/** The real dedup store with some methods replaced; the rest delegate to it. */
export function dedupWith(real: DedupStore, overrides: Partial<DedupStore>): DedupStore {
  return {
    tryClaim: overrides.tryClaim ?? ((claim, now) => real.tryClaim(claim, now)),
    takeOver: overrides.takeOver ?? ((claim, previous) => real.takeOver(claim, previous)),
    markDone: overrides.markDone ?? ((claims) => real.markDone(claims)),
    release: overrides.release ?? ((claims) => real.release(claims)),
  };
}

/** The real archive store with some methods replaced; the rest delegate to it. */
export function archiveWith(real: ArchiveStore, overrides: Partial<ArchiveStore>): ArchiveStore {
  return {
    put: overrides.put ?? ((key, body) => real.put(key, body)),
    exists: overrides.exists ?? ((key) => real.exists(key)),
  };
}

/** Fails the first `times` calls with `error`, then delegates. */
export function failingTimes<A extends unknown[], R>(
  times: number,
  error: () => Error,
  real: (...args: A) => Promise<R>,
): ((...args: A) => Promise<R>) & { calls: () => number } {
  let calls = 0;
  const fn = async (...args: A) => {
    calls++;
    if (calls <= times) throw error();
    return real(...args);
  };
  return Object.assign(fn, { calls: () => calls });
}
