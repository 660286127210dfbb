// e2e tier: the whole local stack (emulators, serverless-offline, SQS event sources), for the whole run.
import type { TestProject } from 'vitest/node';
import { startLocalStack } from '../../local/stack.js';

export default async function setup(project: TestProject) {
  // A fixed build: a source edit during the run must not restart the functions under test.
  const stack = await startLocalStack({ logLevel: 'WARN', watch: false });
  const e = stack.config.endpoints;
  project.provide('stackEnv', {
    AWS_REGION: stack.config.region,
    PRECIS_STAGE: stack.config.stage,
    PRECIS_ENDPOINT_DYNAMODB: e.dynamodb ?? '',
    PRECIS_ENDPOINT_S3: e.s3 ?? '',
    PRECIS_ENDPOINT_SQS: e.sqs ?? '',
    PRECIS_ENDPOINT_SES: e.ses ?? '',
    PRECIS_BUCKET_ARCHIVE: stack.config.buckets.archive,
    PRECIS_PII_LOCAL_KEY: stack.config.pii.localKey?.toString('base64') ?? '',
    PRECIS_HMAC_SECRET: stack.config.pii.hmacSecret ?? '',
  });
  project.provide('httpUrl', stack.httpUrl);
  project.provide('lambdaUrl', stack.lambdaUrl);
  project.provide('offlineLog', stack.offlineLog ?? '');
  project.provide('writeKey', stack.writeKey);
  project.provide('adminKey', stack.adminKey);
  project.provide('readKey', stack.readKey);
  return () => stack.stop();
}
