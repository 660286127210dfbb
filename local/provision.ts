// Creates the tables, queues and buckets of serverless.yml's resources on the emulators. Idempotent.
// Queues get every attribute the stack deploys. Table properties the emulator does not implement (TTL,
// SSE, point-in-time recovery) are skipped: they change nothing a local run can observe.
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createDynamoDbClient, createS3, createSqs } from '../lib/aws/clients.js';
import { parseConfig } from '../lib/config.js';
import { type Emulators, LOCAL_ACCOUNT_ID, startEmulators } from './emulators.js';
import { getAttTarget, loadServiceDefinition, resourcesOfType, type ServiceDefinition } from './service.js';

export interface ProvisionClients {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
}

export interface Provisioned {
  readonly tables: string[];
  readonly queues: Record<string, string>;
  readonly buckets: string[];
}

export async function provision(
  def: ServiceDefinition,
  clients: ProvisionClients,
  region: string,
): Promise<Provisioned> {
  const tables = await Promise.all(
    resourcesOfType(def, 'AWS::DynamoDB::Table').map(([, r]) => createTable(clients.dynamodb, r.Properties)),
  );
  const queues = await createQueues(def, clients.sqs, region);
  const buckets = await Promise.all(
    resourcesOfType(def, 'AWS::S3::Bucket').map(async ([id, r]) => {
      const name = r.Properties.BucketName;
      if (typeof name !== 'string')
        throw new Error(`bucket ${id} needs a plain BucketName for the local stage`);
      try {
        await clients.s3.send(new CreateBucketCommand({ Bucket: name }));
      } catch (error) {
        // s3rver answers BucketAlreadyExists where S3 would say BucketAlreadyOwnedByYou.
        const exists = ['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'];
        if (!(error instanceof Error && exists.includes(error.name))) throw error;
      }
      return name;
    }),
  );
  return { tables, queues, buckets };
}

async function createTable(client: DynamoDBClient, p: Record<string, unknown>): Promise<string> {
  const name = String(p.TableName);
  const gsis = p.GlobalSecondaryIndexes as
    | { IndexName: string; KeySchema: unknown; Projection: unknown }[]
    | undefined;
  await createActiveTable(client, {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: p.AttributeDefinitions as never,
    KeySchema: p.KeySchema as never,
    GlobalSecondaryIndexes: gsis?.map((g) => ({
      IndexName: g.IndexName,
      KeySchema: g.KeySchema as never,
      Projection: g.Projection as never,
    })),
  });
  return name;
}

/**
 * Creates a table (one that exists already is fine) and returns once it is ACTIVE. dynalite, like
 * DynamoDB, answers CreateTable while the table is still CREATING: on a busy machine the first write
 * after it found no table (ResourceNotFoundException).
 */
export async function createActiveTable(
  client: DynamoDBClient,
  input: CreateTableCommandInput,
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists(
    { client, minDelay: 0.1, maxDelay: 1, maxWaitTime: 60 },
    { TableName: input.TableName },
  );
}

/**
 * Every property of AWS::SQS::Queue that is a queue attribute, so that a laptop's queues behave as the
 * deployed ones (a visibility timeout shorter than the consumer's timeout sends slow batches to the DLQ).
 */
const QUEUE_ATTRIBUTES = new Set([
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'DelaySeconds',
  'FifoQueue',
  'FifoThroughputLimit',
  'KmsDataKeyReusePeriodSeconds',
  'KmsMasterKeyId',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
  'VisibilityTimeout',
]);
/** Properties that are not attributes: the name, and tags (meaningless on an emulator). */
const QUEUE_OTHER = new Set(['QueueName', 'Tags']);

/** Queues referenced by another queue's RedrivePolicy are created first (the emulator checks them). */
async function createQueues(def: ServiceDefinition, client: SQSClient, region: string) {
  const queues = resourcesOfType(def, 'AWS::SQS::Queue');
  const nameOf = new Map(queues.map(([id, r]) => [id, String(r.Properties.QueueName)]));
  const resolve = intrinsics(nameOf, region);
  const isTarget = (id: string) =>
    queues.some(
      ([, r]) =>
        getAttTarget((r.Properties.RedrivePolicy as Record<string, unknown>)?.deadLetterTargetArn) === id,
    );
  const ordered = [...queues].sort(([a], [b]) => Number(isTarget(b)) - Number(isTarget(a)));
  const urls: Record<string, string> = {};
  for (const [id, r] of ordered) {
    const out = await client.send(
      new CreateQueueCommand({
        QueueName: nameOf.get(id),
        Attributes: queueAttributes(id, r.Properties, resolve),
      }),
    );
    urls[String(nameOf.get(id))] = String(out.QueueUrl);
  }
  return urls;
}

/** A queue's CloudFormation properties as SQS attributes (strings; policies as JSON). */
function queueAttributes(
  id: string,
  properties: Record<string, unknown>,
  resolve: (value: unknown) => unknown,
): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (QUEUE_OTHER.has(key)) continue;
    // A property added to serverless.yml must not be dropped here without anyone noticing.
    if (!QUEUE_ATTRIBUTES.has(key))
      throw new Error(`queue ${id}: property ${key} is not provisioned locally`);
    const resolved = resolve(value);
    attributes[key] = typeof resolved === 'object' ? JSON.stringify(resolved) : String(resolved);
  }
  return attributes;
}

/**
 * Resolves the intrinsics a queue's properties may use, as CloudFormation would on the emulator:
 * `!GetAtt <Queue>.Arn` and `!GetAtt <Queue>.QueueName`, inside objects and arrays too.
 */
function intrinsics(nameOf: ReadonlyMap<string, string>, region: string): (value: unknown) => unknown {
  const unresolvable = (value: unknown) => new Error(`cannot resolve ${JSON.stringify(value)} locally`);
  const getAtt = (value: unknown, [target, attribute]: unknown[]) => {
    const name = nameOf.get(String(target));
    if (name !== undefined && attribute === 'Arn') return `arn:aws:sqs:${region}:${LOCAL_ACCOUNT_ID}:${name}`;
    if (name !== undefined && attribute === 'QueueName') return name;
    throw unresolvable(value);
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const target = (value as Record<string, unknown>)['Fn::GetAtt'];
    if (Array.isArray(target)) return getAtt(value, target);
    if (entries.some(([k]) => k.startsWith('Fn::') || k === 'Ref')) throw unresolvable(value);
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]));
  };
  return resolve;
}

export interface ProvisionedEmulators {
  readonly emulators: Emulators;
  readonly endpoints: Emulators['endpoints'];
  /** The stack's environment as the functions read it: serverless.yml's, the emulators' endpoints, `extraEnv`. */
  readonly env: Record<string, string>;
}

/**
 * The three emulators on free ports with every resource of serverless.yml (stage local): what the
 * integration tier and the cost benchmark run the functions against. `extraEnv` (secrets, log level) is
 * added to the environment; the emulators are stopped again if provisioning fails.
 */
export async function startProvisionedEmulators(
  extraEnv: Record<string, string>,
): Promise<ProvisionedEmulators> {
  const def = await loadServiceDefinition('local');
  const region = def.provider.environment.AWS_REGION ?? 'eu-west-1';
  const emulators = await startEmulators({ dynamodb: 0, s3: 0, sqs: 0 }, region);
  try {
    const env: Record<string, string> = {
      ...def.provider.environment,
      AWS_REGION: region,
      PRECIS_ENDPOINT_DYNAMODB: emulators.endpoints.dynamodb,
      PRECIS_ENDPOINT_S3: emulators.endpoints.s3,
      PRECIS_ENDPOINT_SQS: emulators.endpoints.sqs,
      PRECIS_ENDPOINT_SES: emulators.endpoints.ses,
      ...extraEnv,
    };
    const config = parseConfig(env);
    await provision(
      def,
      { dynamodb: createDynamoDbClient(config), s3: createS3(config), sqs: createSqs(config) },
      region,
    );
    return { emulators, endpoints: emulators.endpoints, env };
  } catch (error) {
    await emulators.stop();
    throw error;
  }
}
