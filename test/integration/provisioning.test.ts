// The emulators hold what serverless.yml declares (the global setup provisions them from it): tables
// with their key schemas and GSIs, queues with the attributes the cloud stage deploys and their redrive
// policies, buckets; and the configuration of the stage names exactly those resources.
import { DescribeTableCommand, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient, createS3, createSqs } from '../../lib/aws/clients.js';
import { provision } from '../../local/provision.js';
import {
  getAttTarget,
  loadServiceDefinition,
  loadServiceResources,
  queueTriggers,
  resourcesOfType,
  type ServiceDefinition,
  type ServiceResources,
} from '../../local/service.js';
import { sesFeedbackQueueName } from '../../local/sesMailboxSimulator.js';
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
let cloud: ServiceResources;
// The prod stage is printed here first on a fresh clone (`osls print`, a cold start of the framework):
// 17 s at a load of 7 on two cores, past 60 s at 12 (it timed out once). The local stage is cached by
// the emulators' setup.
beforeAll(async () => {
  [def, cloud] = await Promise.all([loadServiceDefinition('local'), loadServiceResources('prod')]);
}, 300_000);

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

  it('creates every queue with the attributes the cloud stage deploys, redrive policy included', async () => {
    // The deployed stage, not the local one: a laptop's queues must behave as AWS's do (a visibility
    // timeout shorter than the consumer's timeout sends healthy but slow batches to the DLQ).
    const deployed = resourcesOfType(cloud, 'AWS::SQS::Queue');
    const local = new Map(resourcesOfType(def, 'AWS::SQS::Queue'));
    expect(deployed.length).toBeGreaterThan(0);
    expect([...local.keys()].sort()).toEqual(deployed.map(([id]) => id).sort());
    const urlOf = async (name: string) => {
      const out = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      if (!out.QueueUrl) throw new Error(`queue ${name} has no URL`);
      return out.QueueUrl;
    };
    const localName = (id: string) => String(local.get(id)?.Properties.QueueName);
    let redriven = 0;
    for (const [id, resource] of deployed) {
      const { QueueName: _name, RedrivePolicy: declared, ...settings } = resource.Properties;
      const attributes = await queueAttributes(sqs, await urlOf(localName(id)));
      expect(Object.keys(settings).length, id).toBeGreaterThan(0);
      for (const [key, value] of Object.entries(settings)) {
        expect(attributes[key], `${id} ${key}`).toBe(String(value));
      }
      if (!declared) {
        expect(attributes.RedrivePolicy, `${id} has no redrive policy`).toBeUndefined();
        continue;
      }
      redriven++;
      const redrive = declared as { deadLetterTargetArn: unknown; maxReceiveCount: number };
      const dlqId = getAttTarget(redrive.deadLetterTargetArn) ?? '';
      expect(local.has(dlqId), `${id} DLQ is a declared queue`).toBe(true);
      const dlq = await queueAttributes(sqs, await urlOf(localName(dlqId)));
      expect(JSON.parse(attributes.RedrivePolicy ?? '{}'), `${id} RedrivePolicy`).toEqual({
        deadLetterTargetArn: dlq.QueueArn,
        maxReceiveCount: redrive.maxReceiveCount,
      });
    }
    expect(redriven).toBeGreaterThan(0);
    // The ingest queue the configuration names is one of them, and it has a DLQ.
    const ingest = [...local.values()].find((r) => r.Properties.QueueName === config.queues.ingest);
    expect(ingest?.Properties.RedrivePolicy).toBeDefined();
  });

  it("keeps each local queue's visibility timeout at 6x its consumer's timeout, as in the cloud", async () => {
    const triggers = queueTriggers(def);
    expect(triggers.length).toBeGreaterThan(0);
    for (const trigger of triggers) {
      const url = await sqs.send(new GetQueueUrlCommand({ QueueName: trigger.queueName }));
      const attributes = await queueAttributes(sqs, String(url.QueueUrl));
      expect(Number(attributes.VisibilityTimeout), trigger.queueName).toBeGreaterThanOrEqual(
        6 * trigger.timeoutSeconds,
      );
    }
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

  it("finds the queue serverless.yml's SES event rule targets, for the local mailbox simulator", () => {
    const name = sesFeedbackQueueName(def);
    expect(name).toBe(config.queues.emailFeedback);
    expect(resourcesOfType(def, 'AWS::SQS::Queue').map(([, r]) => r.Properties.QueueName)).toContain(name);
  });
});
