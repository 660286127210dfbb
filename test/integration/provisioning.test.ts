// The emulators hold what serverless.yml declares (the global setup provisions them from it): tables
// with their key schemas and GSIs, queues with their settings and redrive policies, buckets; and the
// configuration of the stage names exactly those resources.
import { DescribeTableCommand, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient, createS3, createSqs } from '../../lib/aws/clients.js';
import { provision } from '../../local/provision.js';
import {
  getAttTarget,
  loadServiceDefinition,
  resourcesOfType,
  type ServiceDefinition,
} from '../../local/service.js';
import { queueAttributes } from '../support/archiveQueues.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const dynamodb = createDynamoDbClient(config);
const s3 = createS3(config);
const sqs = createSqs(config);
afterAll(() => {
  dynamodb.destroy();
  s3.destroy();
  sqs.destroy();
});

let def: ServiceDefinition;
beforeAll(async () => {
  def = await loadServiceDefinition('local');
});

interface DeclaredIndex {
  IndexName: string;
  KeySchema: KeySchemaElement[];
  Projection: { ProjectionType: string };
}

const keys = (schema: readonly KeySchemaElement[] | undefined) =>
  (schema ?? []).map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType }));

describe('provisioning from serverless.yml', () => {
  it('creates every table with its declared key schema, attributes and GSIs', async () => {
    const tables = resourcesOfType(def, 'AWS::DynamoDB::Table');
    expect(tables.length).toBeGreaterThan(0);
    const names: string[] = [];
    for (const [id, resource] of tables) {
      const p = resource.Properties;
      const name = String(p.TableName);
      names.push(name);
      const { Table: table } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
      expect(table?.TableStatus, id).toBe('ACTIVE');
      expect(keys(table?.KeySchema), `${id} key schema`).toEqual(keys(p.KeySchema as KeySchemaElement[]));
      expect(
        new Set(table?.AttributeDefinitions?.map((a) => `${a.AttributeName}:${a.AttributeType}`)),
        `${id} attributes`,
      ).toEqual(
        new Set(
          (p.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map(
            (a) => `${a.AttributeName}:${a.AttributeType}`,
          ),
        ),
      );
      const declared = (p.GlobalSecondaryIndexes as DeclaredIndex[] | undefined) ?? [];
      const actual = table?.GlobalSecondaryIndexes ?? [];
      expect(
        actual
          .map((g) => ({
            name: g.IndexName,
            keys: keys(g.KeySchema),
            projection: g.Projection?.ProjectionType,
          }))
          .sort((a, b) => String(a.name).localeCompare(String(b.name))),
        `${id} GSIs`,
      ).toEqual(
        declared
          .map((g) => ({
            name: g.IndexName,
            keys: keys(g.KeySchema),
            projection: g.Projection.ProjectionType,
          }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      );
    }
    // The configuration of the stage points at exactly these tables.
    expect(names.sort()).toEqual(Object.values(config.tables).sort());
  });

  it('creates every queue with its settings, and the redrive policy pointing at the declared DLQ', async () => {
    const queues = resourcesOfType(def, 'AWS::SQS::Queue');
    const urlOf = async (name: string) => {
      const out = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      if (!out.QueueUrl) throw new Error(`queue ${name} has no URL`);
      return out.QueueUrl;
    };
    const nameOf = new Map(queues.map(([id, r]) => [id, String(r.Properties.QueueName)]));
    let redriven = 0;
    for (const [id, resource] of queues) {
      const p = resource.Properties;
      const attributes = await queueAttributes(sqs, await urlOf(String(p.QueueName)));
      for (const key of ['VisibilityTimeout', 'MessageRetentionPeriod', 'DelaySeconds']) {
        if (p[key] !== undefined) expect(attributes[key], `${id} ${key}`).toBe(String(p[key]));
      }
      const declared = p.RedrivePolicy as
        | { deadLetterTargetArn: unknown; maxReceiveCount: number }
        | undefined;
      if (!declared) {
        expect(attributes.RedrivePolicy, `${id} has no redrive policy`).toBeUndefined();
        continue;
      }
      redriven++;
      const dlqName = nameOf.get(getAttTarget(declared.deadLetterTargetArn) ?? '');
      expect(dlqName, `${id} DLQ is a declared queue`).toBeDefined();
      const dlq = await queueAttributes(sqs, await urlOf(dlqName ?? ''));
      expect(JSON.parse(attributes.RedrivePolicy ?? '{}')).toEqual({
        deadLetterTargetArn: dlq.QueueArn,
        maxReceiveCount: declared.maxReceiveCount,
      });
    }
    expect(redriven).toBeGreaterThan(0);
    // The ingest queue the configuration names is one of them, and it has a DLQ.
    const ingest = queues.find(([, r]) => r.Properties.QueueName === config.queues.ingest);
    expect(ingest?.[1].Properties.RedrivePolicy).toBeDefined();
  });

  it('provisions again without error or change (the local stack runs it on every start)', async () => {
    const again = await provision(def, { dynamodb, s3, sqs }, config.region);
    expect(again.tables.sort()).toEqual(Object.values(config.tables).sort());
    expect(again.buckets).toContain(config.buckets.archive);
    const ingestUrl = await sqs.send(new GetQueueUrlCommand({ QueueName: config.queues.ingest }));
    expect(again.queues[config.queues.ingest]).toBe(ingestUrl.QueueUrl);
  });

  it('creates every bucket, including the archive bucket of the configuration', async () => {
    const buckets = resourcesOfType(def, 'AWS::S3::Bucket').map(([, r]) => String(r.Properties.BucketName));
    expect(buckets).toContain(config.buckets.archive);
    for (const bucket of buckets) {
      const out = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      expect(out.$metadata.httpStatusCode, bucket).toBe(200);
    }
  });
});
