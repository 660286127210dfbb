// The runner's composition root for history: a segmentation run reads history through SQL over the
// columnar archive, on embedded DuckDB or on Athena (docs/history.md); DuckDB compacts in both cases. Apart from lib/runtime.ts because DuckDB is a native
// module: only the runner's package carries it (serverless.yml, segmentationRunner), so only the runner
// and the CLI import this file; every other function's bundle stays free of it.

import type { AthenaClient } from '@aws-sdk/client-athena';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { identityTable } from '../adapters/dynamodb/identityTable.js';
import { athena, createAthena, dynamodb, s3, sqs } from '../aws/clients.js';
import { type Config, config } from '../config.js';
import { logger } from '../log.js';
import { once, runDepsFor } from '../runtime.js';
import type { HistoryReader } from '../segmentation/reader.js';
import type { RunDeps } from '../segmentation/run.js';
import { athenaReader, type BucketReaderOptions, duckdbReader } from './bucketReaders.js';

export interface HistoryClients {
  readonly dynamodb: DynamoDBDocumentClient;
  readonly s3: S3Client;
  /** Made only when the configuration runs history on Athena (default: a client for `c`). */
  readonly athena?: () => AthenaClient;
}

/** How runs of this configuration read history: DuckDB in the runner, or Athena (PRECIS_HISTORY_ENGINE). */
export function historyReaderFor(c: Config, clients: HistoryClients): HistoryReader {
  const options: BucketReaderOptions = {
    s3: clients.s3,
    bucket: c.buckets.archive,
    identity: identityTable(clients.dynamodb, c.tables.identity),
    dir: c.history.dir,
    engine: { threads: c.history.threads, memoryMb: c.history.memoryMb },
    log: logger(),
  };
  const engine = c.history.engine;
  return engine.kind === 'athena'
    ? athenaReader({
        ...options,
        athena: (clients.athena ?? (() => createAthena(c)))(),
        workGroup: engine.workGroup,
        database: engine.database,
      })
    : duckdbReader(options);
}

/** A segmentation run's dependencies as the runner has them: for a configuration (the CLI's) or its own. */
export function runnerDepsFor(c: Config, clients: HistoryClients & { readonly sqs: SQSClient }): RunDeps {
  return runDepsFor(c, clients, historyReaderFor(c, clients));
}

/** The runner Lambda's: built once per container, so a warm runner keeps its engine and its mirror. */
export const runnerDeps = once(
  (): RunDeps => runnerDepsFor(config(), { dynamodb: dynamodb(), s3: s3(), sqs: sqs(), athena }),
);
