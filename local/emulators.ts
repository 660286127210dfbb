// The three AWS emulators, in this process, on 127.0.0.1: dynalite (DynamoDB, in memory), s3rver (S3,
// in a temporary folder removed on close) and local-aws-sqs (SQS, in memory).
import type { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dynalite from 'dynalite';
import { createSqsServer } from 'local-aws-sqs';
import S3rver from 's3rver';

export const LOCAL_ACCOUNT_ID = '000000000000';
const HOST = '127.0.0.1';

export interface EmulatorPorts {
  /** 0 picks a free port. */
  readonly dynamodb: number;
  readonly s3: number;
  readonly sqs: number;
}

export interface Emulators {
  readonly endpoints: { readonly dynamodb: string; readonly s3: string; readonly sqs: string };
  readonly region: string;
  /** s3rver's events (S3 notification records), for emulating bucket notifications. */
  readonly s3Events: EventEmitter;
  stop(): Promise<void>;
}

const url = (port: number) => `http://${HOST}:${port}`;

export async function startEmulators(ports: EmulatorPorts, region: string): Promise<Emulators> {
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    dynamo.once('error', reject);
    dynamo.listen(ports.dynamodb, HOST, resolve);
  });

  const s3Dir = await mkdtemp(join(tmpdir(), 'precis-s3-'));
  const s3 = new S3rver({
    address: HOST,
    port: ports.s3,
    silent: true,
    directory: s3Dir,
    resetOnClose: true,
  });
  const s3Address = await s3.run();

  const sqs: Server = await createSqsServer({
    port: ports.sqs,
    hostname: HOST,
    region,
    accountId: LOCAL_ACCOUNT_ID,
    emulateQueueCreationLifecycle: false,
  });

  return {
    endpoints: {
      dynamodb: url((dynamo.address() as AddressInfo).port),
      s3: url(s3Address.port),
      sqs: url((sqs.address() as AddressInfo).port),
    },
    region,
    s3Events: s3 as unknown as EventEmitter,
    async stop() {
      await Promise.allSettled([
        new Promise((resolve) => dynamo.close(resolve)),
        s3.close(),
        new Promise((resolve) => {
          sqs.closeAllConnections?.();
          sqs.close(resolve);
        }),
      ]);
      await rm(s3Dir, { recursive: true, force: true });
    },
  };
}
