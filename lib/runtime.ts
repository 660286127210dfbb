// The composition root: builds each adapter once from config, on first use, so a function only creates
// the clients it touches. Lambda handlers and CLIs take their dependencies from here; tests build
// their own from the same factories.
import { apiKeysTable } from './adapters/dynamodb/apiKeysTable.js';
import { dedupTable } from './adapters/dynamodb/dedupTable.js';
import { quarantineTable } from './adapters/dynamodb/quarantineTable.js';
import { archiveBucket } from './adapters/s3/archiveBucket.js';
import { type ReportStore, reportsBucket } from './adapters/s3/reportsBucket.js';
import { eventQueue } from './adapters/sqs/eventQueue.js';
import type { ArchiveDeps } from './archive/archiveBatch.js';
import type { ApiKeyStore } from './auth/apiKeys.js';
import { type Authenticator, authenticator } from './auth/authenticate.js';
import { dynamodb, s3, sqs } from './aws/clients.js';
import { config } from './config.js';
import type { EventSink, IngestDeps } from './ingest/ingest.js';
import { logger } from './log.js';
import type { QuarantineStore } from './quarantine/model.js';

const once = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
};

export const apiKeys = once((): ApiKeyStore => apiKeysTable(dynamodb(), config().tables.apiKeys));
export const auth = once((): Authenticator => authenticator(apiKeys(), config().apiKeyCacheSeconds * 1000));
export const quarantine = once(
  (): QuarantineStore =>
    quarantineTable(dynamodb(), config().tables.quarantine, config().quarantineRetentionDays),
);
export const reports = once((): ReportStore => reportsBucket(s3(), config().buckets.archive));
export const ingestQueue = once((): EventSink => eventQueue(sqs(), config().queues.ingest));

export const ingestDeps = once(
  (): IngestDeps => ({
    sink: ingestQueue(),
    quarantine: quarantine(),
    quality: config().quality,
    log: logger(),
    now: Date.now,
  }),
);

export const archiveDeps = once(
  (): ArchiveDeps => ({
    dedup: dedupTable(dynamodb(), config().tables.dedup),
    archive: archiveBucket(s3(), config().buckets.archive),
    log: logger(),
    now: Date.now,
    leaseMs: config().archiveLeaseSeconds * 1000,
    windowMs: config().dedupWindowDays * 86_400_000,
  }),
);
