// npm start: the whole system locally on emulators, until Ctrl-C. `--demo` also replays the demo data.
// Ports come from the PRECIS_LOCAL_*_PORT settings (local/config.ts); one that is taken, or a bad
// setting, is reported in one line that names the setting to change.
import { parseArgs } from 'node:util';
import { ConfigError } from '../lib/config.js';
import { localPorts } from '../local/config.js';
import { assertPortsFree, PortInUseError } from '../local/ports.js';
import { type LocalStack, startLocalStack } from '../local/stack.js';
import { replayDemo, segmentDemo } from './demo.js';
import { campaignDemo } from './demoCampaigns.js';

const { values } = parseArgs({
  options: {
    demo: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const started = Date.now();
let stack: LocalStack;
try {
  const ports = localPorts();
  // Before anything starts: serverless-offline, a child process, would otherwise die with a trace.
  await assertPortsFree(ports);
  stack = await startLocalStack({
    httpPort: ports.http,
    lambdaPort: ports.lambda,
    emulatorPorts: { dynamodb: ports.dynamodb, s3: ports.s3, sqs: ports.sqs },
    offlineOutput: values.quiet ? 'file' : 'inherit',
    onEvent: (m) => console.log(`[precis] ${m}`),
  });
} catch (error) {
  if (!(error instanceof PortInUseError || error instanceof ConfigError)) throw error;
  console.error(`[precis] ${error.message}`);
  process.exit(1);
}

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n[precis] ${signal}: stopping...`);
  await stack.stop();
  console.log('[precis] stopped.');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

const e = stack.config.endpoints;
console.log(`
Precis is running locally (ready in ${((Date.now() - started) / 1000).toFixed(1)} s).

  API            ${stack.httpUrl}          (OpenAPI: ${stack.httpUrl}/openapi.json)
  write key      ${stack.writeKey}         (HTTP Basic user name, as Segment write keys)
  read key       ${stack.readKey}         (customer API: GET /v1/customers/{id})
  admin key      ${stack.adminKey}         (quarantine, unmerge, revealing personal data)
  DynamoDB       ${e.dynamodb}
  S3             ${e.s3}      (bucket ${stack.config.buckets.archive})
  SQS            ${e.sqs}

  Try:  curl -u ${stack.writeKey}: ${stack.httpUrl}/v1/track -H 'content-type: application/json' \\
          -d '{"userId":"u1","event":"Product Viewed","properties":{"product_id":"p1","price":9.5}}'

Ctrl-C stops everything.
`);

if (values.demo) {
  await replayDemo({ httpUrl: stack.httpUrl, writeKey: stack.writeKey });
  console.log('[precis] demo data sent; waiting for the archive and profiles to catch up...');
  await segmentDemo(stack);
  await campaignDemo(stack);
  console.log('[precis] demo data loaded; the stack keeps running.');
}
