// npm run segment -- [--as-of YYYY-MM-DD|ISO] [--publish] [--k-min 3] [--k-max 8] [--seed 42] [--min-share 0.03]
// Runs a segmentation in this process, against the running local stack (default) or the stage PRECIS_STAGE
// names, exactly as the runner Lambda does, and prints the segments, validation and where the report is.
// Without --as-of the run is as of the latest midnight in the business time zone. --publish writes the
// assignments to profiles and sends segment changes (a back-test does neither).
import { parseArgs } from 'node:util';
import { createDynamoDb, createS3, createSqs } from '../lib/aws/clients.js';
import { badRequest } from '../lib/errors.js';
import { runnerDepsFor } from '../lib/history/runtime.js';
import { buildRequest, RunRequestBody } from '../lib/segmentation/requests.js';
import { executeRun } from '../lib/segmentation/run.js';
import { runCli, targetConfig } from './target.js';

const { values } = parseArgs({
  options: {
    'as-of': { type: 'string' },
    publish: { type: 'boolean', default: false },
    'k-min': { type: 'string' },
    'k-max': { type: 'string' },
    seed: { type: 'string' },
    'min-share': { type: 'string' },
  },
});

const num = (text: string | undefined) => (text === undefined ? undefined : Number(text));

runCli(async () => {
  const config = await targetConfig();
  const body = RunRequestBody.safeParse({
    asOf: values['as-of'],
    publish: values.publish,
    parameters: {
      kMin: num(values['k-min']),
      kMax: num(values['k-max']),
      seed: num(values.seed),
      minShare: num(values['min-share']),
    },
  });
  if (!body.success)
    throw badRequest(body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const built = buildRequest(body.data, 'cli', {
    timezone: config.businessTimezone,
    now: Date.now,
    minAsOf: config.quality.minTimestampMs,
  });
  if (!built.ok) throw badRequest(built.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  const request = built.value;
  const deps = runnerDepsFor(config, {
    dynamodb: createDynamoDb(config),
    s3: createS3(config),
    sqs: createSqs(config),
  });
  console.log(`run ${request.runId} as of ${request.parameters.asOf} (publish: ${request.publish})`);
  // The engine's folder (the mirrored columnar archive) is this process's alone: gone when it ends.
  const run = await executeRun(request, deps).finally(() => deps.history.close?.());
  const summary = run.summary;
  if (!summary) throw new Error(`run ${run.runId} ended ${run.status}`);
  console.log(
    `${summary.customers} customers: ${summary.buyers} buyers (k=${summary.k.buyers}, silhouette ${summary.silhouette.buyers ?? '-'}), ` +
      `${summary.prospects} prospects (k=${summary.k.prospects}, silhouette ${summary.silhouette.prospects ?? '-'})`,
  );
  for (const [segment, size] of Object.entries(summary.segments))
    console.log(`  ${segment.padEnd(20)} ${size}`);
  if (summary.moved !== null) console.log(`moved since the previous run: ${summary.moved}`);
  console.log(`report: s3://${config.buckets.archive}/${run.reportKey}`);
  console.log(`members (CSV): s3://${config.buckets.archive}/${run.exportPrefix}members/`);
  if (run.note) console.log(run.note);
});
