// npm run bench:cost [-- --events N] [--batch-size N] [--archive-batch N] [--rees46-share F] [--json]
// What a million events cost on AWS, from what the real code does: a sample of the real datasets goes
// through the deployed handlers in-process (ingest HTTP handler with API Gateway v2 events, the archive
// consumer on what landed on the ingest queue, the profiles consumer on S3 notifications of the archived
// objects) against the emulators, and a middleware on the functions' shared AWS clients
// (hookSharedClients) counts every call: per service and operation, payload bytes, DynamoDB items with
// their sizes by DynamoDB's formula and the write/read units they cost, handler durations and log bytes.
// The counts are scaled to 1,000,000 events and priced with the list prices in
// bench/cost/prices.ts (docs/cost.md). The counting middleware is bench/cost/counting.ts, the worker
// bench/cost/worker.ts, the bill bench/cost/report.ts.
//
// Two processes: this one starts the emulators and provisions them from serverless.yml; a child started
// with the stack's environment (the functions read their configuration from it, as in Lambda) runs the
// handlers and sends its counts back. The child's stdout is the functions' log output, counted by bytes.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { datasetsAvailable } from '../lib/datasets/index.js';
import { startProvisionedEmulators } from '../local/provision.js';
import { localSecrets } from '../local/stack.js';
import { machine } from './common.js';
import type { Figures } from './cost/counting.js';
import { fig } from './cost/counting.js';
import { printedService, report, settingsOf } from './cost/report.js';
import { WorkerArgs, worker } from './cost/worker.js';

const { values } = parseArgs({
  options: {
    worker: { type: 'boolean', default: false },
    events: { type: 'string', default: '10000' },
    /** Events per request: analytics-node flushes 15 by default; analytics.js in a browser sends 1. */
    'batch-size': { type: 'string', default: '15' },
    /** Share of REES46 (web browsing) events; default: the demo's mix of the two datasets. */
    'rees46-share': { type: 'string' },
    /** Messages per archive invocation (serverless.yml: 10); more needs a batching window, as on AWS. */
    'archive-batch': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

async function runWorker(env: Record<string, string>, args: WorkerArgs): Promise<Figures> {
  const child = spawn(process.execPath, [String(process.argv[1]), '--worker'], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: Figures | undefined;
    child.on('message', (m) => {
      result = m as Figures;
    });
    child.once('spawn', () => child.send(args));
    child.once('error', reject);
    child.once('exit', (code) =>
      result ? resolve(result) : reject(new Error(`the worker exited with ${code} before reporting`)),
    );
  });
}

async function main() {
  if (!datasetsAvailable()) {
    console.error('The datasets are missing (../shared/data); the benchmark needs real data.');
    process.exit(1);
  }
  const printed = await printedService();
  const { emulators, env } = await startProvisionedEmulators({
    // The deployed stages log at INFO (serverless.yml's default logLevel): that is what CloudWatch bills.
    PRECIS_LOG_LEVEL: 'INFO',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...localSecrets(),
  });
  try {
    const settings = settingsOf(printed);
    const archiveBatch = values['archive-batch'];
    if (archiveBatch !== undefined && settings.archive) settings.archive.batchSize = Number(archiveBatch);
    const figures = await runWorker(env, {
      events: Number(values.events),
      batchSize: Number(values['batch-size']),
      reesShare: values['rees46-share'] === undefined ? undefined : Number(values['rees46-share']),
      settings,
    });
    report(figures, printed, machine(), values.json);
  } finally {
    await emulators.stop();
  }
}

if (values.worker) {
  process.once('message', (m) => {
    const args = WorkerArgs.parse(m);
    worker(args).then(
      () => {
        process.send?.(fig, () => process.exit(0));
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
} else {
  await main();
}
