// The whole system on one machine: emulators, resources from serverless.yml, API keys, serverless-offline
// (HTTP routes and schedules) and the SQS event sources. Used by `npm start`, the e2e tests and the
// end-to-end benchmark, so all three run the same thing.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSBatchResponse } from 'aws-lambda';
import { apiKeysTable } from '../lib/adapters/dynamodb/apiKeysTable.js';
import { createApiKey } from '../lib/auth/apiKeys.js';
import { createDynamoDb, createDynamoDbClient, createS3, createSqs } from '../lib/aws/clients.js';
import { type Config, parseConfig } from '../lib/config.js';
import { type Emulators, LOCAL_ACCOUNT_ID, startEmulators } from './emulators.js';
import { type HttpGateway, httpRoutes, startHttpGateway } from './httpGateway.js';
import { freePort } from './ports.js';
import { treeCpuTicks } from './processCpu.js';
import { provision } from './provision.js';
import { forwardS3Notifications, notificationRoutes } from './s3Notifications.js';
import { functionName, loadServiceDefinition, OSLS_BIN, PROJECT_ROOT, queueTriggers } from './service.js';
import { sesFeedbackQueueName, startMailboxSimulator } from './sesMailboxSimulator.js';
import { type SqsEventSource, startSqsEventSource } from './sqsEventSource.js';

export const STAGE = 'local';
export const STACK_FILE = join(PROJECT_ROOT, '.local', 'stack.json');
/** Fixed keys, valid only on the emulators of a local stack, so docs and scripts can name them. */
export const LOCAL_WRITE_KEY = 'wk_local_demo';
export const LOCAL_ADMIN_KEY = 'ak_local_demo';
export const LOCAL_READ_KEY = 'rk_local_demo';

export interface StackOptions {
  /** 0 (the default) picks free ports. */
  readonly httpPort?: number;
  readonly lambdaPort?: number;
  readonly emulatorPorts?: { dynamodb: number; s3: number; sqs: number };
  readonly logLevel?: string;
  /** Where serverless-offline's output goes; default: a log file under .local/. */
  readonly offlineOutput?: 'inherit' | 'file';
  readonly onEvent?: (message: string) => void;
  /**
   * Invocations in flight per HTTP function (default 4); more requests wait in line. serverless-offline
   * would start a worker thread for each, and a burst of SDK connections would time out on a laptop.
   */
  readonly httpConcurrency?: number;
  /** Rebuild and reload the functions when a source file changes (default true; tests run a fixed build). */
  readonly watch?: boolean;
}

export interface LocalStack {
  /** The HTTP API (local/httpGateway.ts in front of serverless-offline's functions). */
  readonly httpUrl: string;
  /** serverless-offline's own HTTP server, only to measure it against httpUrl (bench:load --via offline). */
  readonly offlineHttpUrl: string;
  /** serverless-offline's Lambda API (POST /2015-03-31/functions/<name>/invocations). */
  readonly lambdaUrl: string;
  readonly writeKey: string;
  readonly adminKey: string;
  readonly readKey: string;
  readonly config: Config;
  readonly offlineLog?: string;
  /** serverless-offline's process (function workers are its threads), for memory figures. */
  readonly offlinePid?: number;
  stop(): Promise<void>;
}

export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  const say = options.onEvent ?? (() => {});
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    say('resolving serverless.yml');
    const def = await loadServiceDefinition(STAGE);
    const region = def.provider.environment.AWS_REGION ?? 'eu-west-1';
    const emulators = await startEmulators(options.emulatorPorts ?? { dynamodb: 0, s3: 0, sqs: 0 }, region);
    cleanups.push(() => emulators.stop());
    say(`emulators up: ${Object.values(emulators.endpoints).join(' ')}`);

    const secrets = localSecrets();
    const config = parseConfig({
      ...def.provider.environment,
      ...endpointEnv(emulators),
      ...secrets,
      AWS_REGION: region,
    });
    const provisioned = await provision(
      def,
      { dynamodb: createDynamoDbClient(config), s3: createS3(config), sqs: createSqs(config) },
      region,
    );
    say(
      `provisioned ${provisioned.tables.length} tables, ${Object.keys(provisioned.queues).length} queues, ${provisioned.buckets.length} buckets`,
    );
    await seedKeys(config);

    // serverless-offline's own HTTP server is internal (schedules and CORS preflights); clients get the gateway.
    const offlineHttpPort = await freePort();
    const lambdaPort = options.lambdaPort || (await freePort());
    const buildFolder = join('.esbuild', `stack-${offlineHttpPort}`);
    cleanups.push(() => rm(join(PROJECT_ROOT, buildFolder), { recursive: true, force: true }));
    // The runners' history SQL folders (mirrored Parquet files): this stack's own, gone with it.
    const historyDir = join(PROJECT_ROOT, '.local', `history-${offlineHttpPort}`);
    cleanups.push(() => rm(historyDir, { recursive: true, force: true }));
    const { child, logFile } = await spawnOffline(
      emulators,
      offlineHttpPort,
      lambdaPort,
      { buildFolder, historyDir },
      secrets,
      options,
    );
    cleanups.push(() => stopProcess(child));
    const offlineUrl = `http://127.0.0.1:${offlineHttpPort}`;
    await waitForHttp(`${offlineUrl}/openapi.json`, child, say);
    const lambdaUrl = `http://127.0.0.1:${lambdaPort}`;
    const concurrency = options.httpConcurrency ?? 4;
    const gateway: HttpGateway = await startHttpGateway({
      routes: httpRoutes(def),
      lambdaUrl,
      port: options.httpPort ?? 0,
      concurrency,
      preflightUrl: offlineUrl,
    });
    cleanups.push(() => gateway.stop());
    // The ingestion function takes SDK bursts: its workers start now, not under the first burst.
    await gateway
      .prewarm(functionName(def, 'ingest'), concurrency)
      .catch((error) => say(`pre-warm: ${(error as Error).message}; workers will start on demand`));
    const httpUrl = gateway.url;
    say(`HTTP API up at ${httpUrl}`);

    const sqs = createSqs(config);
    const sources: SqsEventSource[] = queueTriggers(def).map((trigger) => {
      const queueUrl = provisioned.queues[trigger.queueName];
      if (!queueUrl) throw new Error(`queue ${trigger.queueName} was not provisioned`);
      return startSqsEventSource({
        sqs,
        queueUrl,
        queueArn: `arn:aws:sqs:${region}:${LOCAL_ACCOUNT_ID}:${trigger.queueName}`,
        region,
        batchSize: trigger.batchSize,
        maximumBatchingWindowSeconds: trigger.maximumBatchingWindow,
        reportBatchItemFailures: trigger.functionResponseType === 'ReportBatchItemFailures',
        concurrency: 2,
        invoke: (event) => invokeOffline(lambdaPort, functionName(def, trigger.functionKey), event),
        onError: (error) => say(`event source ${trigger.queueName}: ${(error as Error).message}`),
      });
    });
    cleanups.push(() => Promise.all(sources.map((s) => s.stop())));
    const stopNotifications = forwardS3Notifications(
      emulators.s3Events,
      notificationRoutes(def),
      sqs,
      provisioned.queues,
      (error) => say(`s3 notification: ${(error as Error).message}`),
    );
    cleanups.push(async () => stopNotifications());
    const feedbackQueue = sesFeedbackQueueName(def);
    const feedbackQueueUrl = feedbackQueue === undefined ? undefined : provisioned.queues[feedbackQueue];
    if (feedbackQueueUrl !== undefined && config.channels.email.mode === 'ses') {
      cleanups.push(
        startMailboxSimulator({
          sesEndpoint: emulators.endpoints.ses,
          sqs,
          queueUrl: feedbackQueueUrl,
          region,
          accountId: LOCAL_ACCOUNT_ID,
          configurationSet: config.channels.email.configurationSet ?? `${def.service}-${STAGE}`,
          hmacSecret: secrets.PRECIS_HMAC_SECRET,
          onError: (error) => say(`SES mailbox simulator: ${(error as Error).message}`),
        }),
      );
    }

    const stack: LocalStack = {
      httpUrl,
      offlineHttpUrl: offlineUrl,
      lambdaUrl,
      writeKey: LOCAL_WRITE_KEY,
      adminKey: LOCAL_ADMIN_KEY,
      readKey: LOCAL_READ_KEY,
      config,
      offlineLog: logFile,
      offlinePid: child.pid,
      stop,
    };
    await mkdir(join(PROJECT_ROOT, '.local'), { recursive: true });
    await writeFile(
      STACK_FILE,
      JSON.stringify(
        {
          httpUrl,
          writeKey: stack.writeKey,
          adminKey: stack.adminKey,
          readKey: stack.readKey,
          env: { ...endpointEnv(emulators), ...secrets },
        },
        null,
        2,
      ),
    );
    cleanups.push(() => writeFile(STACK_FILE, '{}'));
    return stack;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A PII key and HMAC secret for one run of the stack (its data lives in memory and dies with it). The
 * operator commands read them from .local/stack.json to decrypt what the stack encrypted.
 */
export function localSecrets(): Record<'PRECIS_PII_LOCAL_KEY' | 'PRECIS_HMAC_SECRET', string> {
  return {
    PRECIS_PII_LOCAL_KEY: randomBytes(32).toString('base64'),
    PRECIS_HMAC_SECRET: randomBytes(32).toString('base64url'),
  };
}

function endpointEnv(e: Emulators): Record<string, string> {
  return {
    PRECIS_ENDPOINT_DYNAMODB: e.endpoints.dynamodb,
    PRECIS_ENDPOINT_S3: e.endpoints.s3,
    PRECIS_ENDPOINT_SQS: e.endpoints.sqs,
    PRECIS_ENDPOINT_SES: e.endpoints.ses,
  };
}

async function seedKeys(config: Config): Promise<void> {
  const store = apiKeysTable(createDynamoDb(config), config.tables.apiKeys);
  await createApiKey(
    { role: 'write', sourceId: 'demo', name: 'local demo write key' },
    store,
    Date.now,
    'local_demo',
  );
  await createApiKey(
    { role: 'admin', sourceId: 'admin', name: 'local admin key' },
    store,
    Date.now,
    'local_demo',
  );
  await createApiKey(
    { role: 'read', sourceId: 'crm', name: 'local read key' },
    store,
    Date.now,
    'local_demo',
  );
}

async function spawnOffline(
  e: Emulators,
  httpPort: number,
  lambdaPort: number,
  folders: { readonly buildFolder: string; readonly historyDir: string },
  secrets: Record<string, string>,
  options: StackOptions,
) {
  const env = {
    ...process.env,
    PRECIS_LOCAL_DYNAMODB: e.endpoints.dynamodb,
    PRECIS_LOCAL_S3: e.endpoints.s3,
    PRECIS_LOCAL_SQS: e.endpoints.sqs,
    PRECIS_LOCAL_SES: e.endpoints.ses,
    PRECIS_HTTP_PORT: String(httpPort),
    PRECIS_LAMBDA_PORT: String(lambdaPort),
    PRECIS_ESBUILD_FOLDER: folders.buildFolder,
    PRECIS_HISTORY_DIR: folders.historyDir,
    // serverless.yml's local params take the stack's PII key and HMAC secret from these.
    PRECIS_LOCAL_PII_KEY: secrets.PRECIS_PII_LOCAL_KEY,
    PRECIS_LOCAL_HMAC_SECRET: secrets.PRECIS_HMAC_SECRET,
    // A caller's level (tests, benchmarks) wins; otherwise the shell's PRECIS_LOG_LEVEL (spread above)
    // reaches serverless.yml's local param, whose default is INFO.
    ...(options.logLevel ? { PRECIS_LOG_LEVEL: options.logLevel } : {}),
    ...(options.watch === false ? { PRECIS_ESBUILD_WATCH: '.local/no-watch/**' } : {}),
    SLS_TELEMETRY_DISABLED: '1',
  };
  // Idle workers live an hour (serverless-offline's default is 60 s): a burst after a pause finds the
  // pre-warmed ingestion workers still there.
  const args = [OSLS_BIN, 'offline', 'start', '--stage', STAGE, '--terminateIdleLambdaTime', '3600'];
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let logFile: string | undefined;
  if (options.offlineOutput === 'inherit') {
    child.stdout?.pipe(process.stdout);
    child.stderr?.pipe(process.stderr);
  } else {
    logFile = join(PROJECT_ROOT, '.local', `offline-${httpPort}.log`);
    await mkdir(join(PROJECT_ROOT, '.local'), { recursive: true });
    const out = createWriteStream(logFile);
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
  }
  return { child, logFile };
}

/**
 * serverless-offline's start is CPU-bound (osls loads, esbuild bundles every function): about 20 s on a
 * quiet machine, 130 s beside three test suites, and more than 600 s with five suites and a busy loop on
 * two cores (load 22). So no fixed deadline: it may take as long as its process tree keeps using CPU, and
 * is declared hung when the tree has used none for STALL_MS (or, where /proc cannot be read, after
 * START_CAP_MS). A dead process is noticed at once, by its exit.
 */
const STALL_MS = 120_000;
const START_CAP_MS = 30 * 60_000;
const PROGRESS_EVERY_MS = 10_000;

/** Follows a starting process tree's CPU use: the returned check throws once it is hung or past the cap. */
function startWatch(child: ChildProcess, url: string, say: (message: string) => void) {
  const started = Date.now();
  let lastTicks: number | undefined;
  let progressAt = started;
  let checkedAt = started;
  return async function check(): Promise<void> {
    const now = Date.now();
    if (now - checkedAt < PROGRESS_EVERY_MS) return;
    checkedAt = now;
    const ticks = child.pid === undefined ? undefined : await treeCpuTicks(child.pid);
    if (ticks !== undefined && ticks !== lastTicks) {
      lastTicks = ticks;
      progressAt = now;
    }
    const elapsed = now - started;
    const stalled = ticks !== undefined && now - progressAt > STALL_MS;
    if (stalled || elapsed > START_CAP_MS) {
      const why = stalled ? ` (its processes used no CPU for the last ${STALL_MS / 1000} s)` : '';
      throw new Error(
        `serverless-offline did not answer at ${url} after ${Math.round(elapsed / 1000)} s${why}`,
      );
    }
    if (elapsed > 60_000 && elapsed % 60_000 < PROGRESS_EVERY_MS) {
      say(`serverless-offline still starting after ${Math.round(elapsed / 1000)} s (busy machine)`);
    }
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false; // not listening yet
  }
}

async function waitForHttp(url: string, child: ChildProcess, say: (message: string) => void): Promise<void> {
  const check = startWatch(child, url, say);
  while (!(await answers(url))) {
    if (child.exitCode !== null) throw new Error(`serverless-offline exited with code ${child.exitCode}`);
    await check();
    await sleep(250);
  }
}

/** Invokes a function through serverless-offline's Lambda API; a function error rejects. */
async function invokeOffline(
  lambdaPort: number,
  name: string,
  event: unknown,
): Promise<SQSBatchResponse | undefined> {
  const res = await fetch(`http://127.0.0.1:${lambdaPort}/2015-03-31/functions/${name}/invocations`, {
    method: 'POST',
    body: JSON.stringify(event),
  });
  const text = await res.text();
  if (!res.ok || res.headers.get('x-amz-function-error')) {
    throw new Error(`${name} failed: ${res.status} ${text.slice(0, 500)}`);
  }
  return text ? (JSON.parse(text) as SQSBatchResponse) : undefined;
}

/** serverless-offline runs handlers in workers of its own: stop the whole process group. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || !child.pid) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGTERM');
  const timeout = sleep(5000).then(() => 'timeout');
  if ((await Promise.race([exited, timeout])) === 'timeout' && child.exitCode === null) {
    process.kill(-child.pid, 'SIGKILL');
    await exited;
  }
}
