// Creates the tables, queues and buckets of serverless.yml's resources on the emulators. Idempotent.
// Properties the emulators do not implement (TTL, SSE, point-in-time recovery) are skipped: they
// change nothing a local run can observe.
import { CreateTableCommand, type DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_ACCOUNT_ID } from './emulators.js';
import { getAttTarget, resourcesOfType, type ServiceDefinition } from './service.js';

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
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: p.AttributeDefinitions as never,
        KeySchema: p.KeySchema as never,
        GlobalSecondaryIndexes: gsis?.map((g) => ({
          IndexName: g.IndexName,
          KeySchema: g.KeySchema as never,
          Projection: g.Projection as never,
        })),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  return name;
}

/** Queues referenced by another queue's RedrivePolicy are created first (the emulator checks them). */
async function createQueues(def: ServiceDefinition, client: SQSClient, region: string) {
  const queues = resourcesOfType(def, 'AWS::SQS::Queue');
  const nameOf = new Map(queues.map(([id, r]) => [id, String(r.Properties.QueueName)]));
  const arnOf = (id: string) => `arn:aws:sqs:${region}:${LOCAL_ACCOUNT_ID}:${nameOf.get(id)}`;
  const isTarget = (id: string) =>
    queues.some(
      ([, r]) =>
        getAttTarget((r.Properties.RedrivePolicy as Record<string, unknown>)?.deadLetterTargetArn) === id,
    );
  const ordered = [...queues].sort(([a], [b]) => Number(isTarget(b)) - Number(isTarget(a)));
  const urls: Record<string, string> = {};
  for (const [id, r] of ordered) {
    const p = r.Properties;
    const attributes: Record<string, string> = {};
    for (const key of [
      'VisibilityTimeout',
      'MessageRetentionPeriod',
      'DelaySeconds',
      'ReceiveMessageWaitTimeSeconds',
    ]) {
      if (p[key] !== undefined) attributes[key] = String(p[key]);
    }
    const redrive = p.RedrivePolicy as
      | { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown }
      | undefined;
    if (redrive) {
      const target = getAttTarget(redrive.deadLetterTargetArn);
      if (!target) throw new Error(`queue ${id}: deadLetterTargetArn must be !GetAtt <Queue>.Arn`);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: arnOf(target),
        maxReceiveCount: Number(redrive.maxReceiveCount),
      });
    }
    const out = await client.send(
      new CreateQueueCommand({ QueueName: nameOf.get(id), Attributes: attributes }),
    );
    urls[String(nameOf.get(id))] = String(out.QueueUrl);
  }
  return urls;
}
