// The AWS emulators on 127.0.0.1: dynalite (DynamoDB, in memory), s3rver (S3, in a temporary folder
// removed on close; its writes made atomic by local/s3Atomic.ts) and local-aws-sqs (SQS, in memory) in this process, and aws-ses-v2-local (SES v2) in
// a child process (local/ses.ts). A port that is taken is reported with the setting that moves it, and
// what had started is closed again.
import type { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dynalite from 'dynalite';
import { createSqsServer } from 'local-aws-sqs';
import S3rver from 's3rver';
import type { LocalPortName } from './config.js';
import { asPortError, assertPortsFree } from './ports.js';
import { makeS3rverWritesAtomic } from './s3Atomic.js';
import { startSesEmulator } from './ses.js';

export const LOCAL_ACCOUNT_ID = '000000000000';
const HOST = '127.0.0.1';

export interface EmulatorPorts {
  /** 0 picks a free port. */
  readonly dynamodb: number;
  readonly s3: number;
  readonly sqs: number;
  /** Default 0. */
  readonly ses?: number;
}

export interface Emulators {
  readonly endpoints: {
    readonly dynamodb: string;
    readonly s3: string;
    readonly sqs: string;
    readonly ses: string;
  };
  readonly region: string;
  /** s3rver's events (S3 notification records), for emulating bucket notifications. */
  readonly s3Events: EventEmitter;
  stop(): Promise<void>;
}

const url = (port: number) => `http://${HOST}:${port}`;

export async function startEmulators(ports: EmulatorPorts, region: string): Promise<Emulators> {
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const close of closers) await close().catch(() => {});
  };
  try {
    const dynamo = keptAlive(dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }));
    await listening('dynamodb', ports.dynamodb, async () => {
      await new Promise<void>((resolve, reject) => {
        dynamo.once('error', reject);
        dynamo.listen(ports.dynamodb, HOST, resolve);
      });
      closers.push(() => new Promise((resolve) => dynamo.close(resolve)));
    });

    makeS3rverWritesAtomic();
    const s3Dir = await mkdtemp(join(tmpdir(), 'precis-s3-'));
    closers.push(() => rm(s3Dir, { recursive: true, force: true }));
    const s3 = new S3rver({
      address: HOST,
      port: ports.s3,
      silent: true,
      directory: s3Dir,
      resetOnClose: true,
    });
    const s3Address = await listening('s3', ports.s3, async () => {
      const address = await s3.run();
      // Before the folder is removed (closers run in order).
      closers.unshift(() => s3.close());
      return address;
    });

    // local-aws-sqs never settles when its listen fails (the error goes unhandled): check the port first.
    if (ports.sqs !== 0) await assertPortsFree({ sqs: ports.sqs });
    const sqs: Server = await listening('sqs', ports.sqs, async () =>
      keptAlive(
        await createSqsServer({
          port: ports.sqs,
          hostname: HOST,
          region,
          accountId: LOCAL_ACCOUNT_ID,
          emulateQueueCreationLifecycle: false,
        }),
      ),
    );
    closers.unshift(
      () =>
        new Promise((resolve) => {
          sqs.closeAllConnections?.();
          sqs.close(resolve);
        }),
    );

    const ses = await startSesEmulator(ports.ses ?? 0);
    closers.unshift(() => ses.stop());

    return {
      endpoints: {
        dynamodb: url((dynamo.address() as AddressInfo).port),
        s3: url(s3Address.port),
        sqs: url((sqs.address() as AddressInfo).port),
        ses: ses.endpoint,
      },
      region,
      s3Events: s3 as unknown as EventEmitter,
      async stop() {
        await closeAll();
      },
    };
  } catch (error) {
    // Nothing of a failed start keeps listening (the process could not exit).
    await closeAll();
    throw error;
  }
}

/** Starts one emulator; a port that is taken becomes a PortInUseError naming its setting. */
/**
 * Idle keep-alive connections held for a minute, as AWS endpoints do, not Node's 5 s: on a busy machine a
 * client reused a socket the emulator had just closed ("socket hang up"), a failure no AWS service shows.
 */
function keptAlive<S extends Server>(server: S): S {
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 61_000;
  return server;
}

async function listening<T>(name: LocalPortName, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    throw asPortError(error, port, name);
  }
}
