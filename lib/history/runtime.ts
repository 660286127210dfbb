// The runner's composition root for history: a segmentation run reads history through SQL on embedded
// DuckDB over the columnar archive (docs/history.md). Apart from lib/runtime.ts because DuckDB is a native
// module: only the runner's package carries it (serverless.yml, segmentationRunner), so only the runner
// and the CLI import this file; every other function's bundle stays free of it.
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { identityTable } from '../adapters/dynamodb/identityTable.js';
import { dynamodb, s3, sqs } from '../aws/clients.js';
import { type Config, config } from '../config.js';
import { logger } from '../log.js';
import { once, runDepsFor } from '../runtime.js';
import type { HistoryReader } from '../segmentation/reader.js';
import type { RunDeps } from '../segmentation/run.js';
import { duckdbReader } from './duckdbReader.js';

/** How runs of this configuration read history. */
export function historyReaderFor(
  c: Config,
  clients: { readonly dynamodb: DynamoDBDocumentClient; readonly s3: S3Client },
): HistoryReader {
  return duckdbReader({
    s3: clients.s3,
    bucket: c.buckets.archive,
    identity: identityTable(clients.dynamodb, c.tables.identity),
    dir: c.history.dir,
    engine: { threads: c.history.threads, memoryLimit: `${c.history.memoryMb}MB` },
    log: logger(),
  });
}

/** A segmentation run's dependencies as the runner has them: for a configuration (the CLI's) or its own. */
export function runnerDepsFor(
  c: Config,
  clients: {
    readonly dynamodb: DynamoDBDocumentClient;
    readonly s3: S3Client;
    readonly sqs: SQSClient;
  },
): RunDeps {
  return runDepsFor(c, clients, historyReaderFor(c, clients));
}

/** The runner Lambda's: built once per container, so a warm runner keeps its engine and its mirror. */
export const runnerDeps = once(
  (): RunDeps => runnerDepsFor(config(), { dynamodb: dynamodb(), s3: s3(), sqs: sqs() }),
);
