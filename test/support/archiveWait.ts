// Waiting for events to reach the archive of a running stack (bounded), and reading them back.
import { setTimeout as sleep } from 'node:timers/promises';
import { archiveReader } from '../../lib/adapters/s3/archiveBucket.js';
import type { ArchiveRecord } from '../../lib/archive/record.js';
import { createS3 } from '../../lib/aws/clients.js';
import type { Config } from '../../lib/config.js';

/** Archived rows whose message_id starts with `prefix` (all copies: duplicates would show). */
export async function archivedWithPrefix(config: Config, prefix: string): Promise<ArchiveRecord[]> {
  const reader = archiveReader(createS3(config), config.buckets.archive);
  const rows: ArchiveRecord[] = [];
  for await (const r of reader.allRecords()) if (r.message_id.startsWith(prefix)) rows.push(r);
  return rows;
}

/** Polls until `expected` rows with the prefix are archived; fails after `timeoutMs`. */
export async function waitForArchived(
  config: Config,
  prefix: string,
  expected: number,
  timeoutMs = 60_000,
): Promise<ArchiveRecord[]> {
  const deadline = Date.now() + timeoutMs;
  let rows: ArchiveRecord[] = [];
  while (Date.now() < deadline) {
    rows = await archivedWithPrefix(config, prefix);
    if (rows.length >= expected) return rows;
    await sleep(500);
  }
  throw new Error(
    `only ${rows.length} of ${expected} events with prefix ${prefix} archived within ${timeoutMs} ms`,
  );
}
