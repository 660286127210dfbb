// Integration tier: the three emulators with every resource of serverless.yml, for the whole run.
import type { TestProject } from 'vitest/node';
import { createDynamoDbClient, createS3, createSqs } from '../../lib/aws/clients.js';
import { parseConfig } from '../../lib/config.js';
import { startEmulators } from '../../local/emulators.js';
import { provision } from '../../local/provision.js';
import { loadServiceDefinition } from '../../local/service.js';
import { localSecrets } from '../../local/stack.js';

export default async function setup(project: TestProject) {
  const def = await loadServiceDefinition('local');
  const region = def.provider.environment.AWS_REGION ?? 'eu-west-1';
  const emulators = await startEmulators({ dynamodb: 0, s3: 0, sqs: 0 }, region);
  const stackEnv = {
    ...def.provider.environment,
    AWS_REGION: region,
    PRECIS_ENDPOINT_DYNAMODB: emulators.endpoints.dynamodb,
    PRECIS_ENDPOINT_S3: emulators.endpoints.s3,
    PRECIS_ENDPOINT_SQS: emulators.endpoints.sqs,
    ...localSecrets(),
  };
  const config = parseConfig(stackEnv);
  await provision(
    def,
    { dynamodb: createDynamoDbClient(config), s3: createS3(config), sqs: createSqs(config) },
    region,
  );
  project.provide('stackEnv', stackEnv);
  return () => emulators.stop();
}
