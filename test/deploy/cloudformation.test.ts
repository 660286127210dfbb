// `osls package` must produce a deployable stack: this packages the service offline (no AWS account)
// and checks the generated CloudFormation: resources, DLQ redrive, timeouts, runtime, least-privilege
// IAM per function, throttling, alarms, encryption, deletion protection and CORS.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_COLUMNS } from '../../lib/archive/record.js';
import { ATHENA_TABLES } from '../../lib/history/bucketReaders.js';
import { FACT_COLUMNS, PARTITION_COLUMN } from '../../lib/history/columns.js';
import { OSLS_BIN, PROJECT_ROOT } from '../../local/service.js';
import { zipEntries } from '../support/zipEntries.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
interface Template {
  Resources: Record<
    string,
    {
      Type: string;
      Properties: Record<string, unknown>;
      DeletionPolicy?: string;
      UpdateReplacePolicy?: string;
    }
  >;
}

let template: Template;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'precis-package-'));
  // serverless-esbuild stages each function in a TMPDIR folder it does not always remove;
  // pointing TMPDIR inside `dir` lets afterAll clean those up too.
  const scratch = join(dir, 'tmp');
  await mkdir(scratch);
  await promisify(execFile)(process.execPath, [OSLS_BIN, 'package', '--stage', 'prod', '--package', dir], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      SLS_TELEMETRY_DISABLED: '1',
      TMPDIR: scratch,
      PRECIS_ESBUILD_FOLDER: `.esbuild/package-${process.pid}`,
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  template = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 900_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const resource = (id: string) => {
  const r = template.Resources[id];
  if (!r) throw new Error(`no resource ${id} in the template`);
  return r;
};
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The statements of a function's own role (serverless-iam-roles-per-function). */
function statementsOf(functionId: string): Statement[] {
  const fn = resource(`${functionId}LambdaFunction`);
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = resource(roleId).Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

/** Logical ids a statement's resources refer to (through !GetAtt, !Ref or !Join). */
function referencedIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o['Fn::GetAtt'])) return [String(o['Fn::GetAtt'][0])];
    if (typeof o.Ref === 'string') return [o.Ref];
    return Object.values(o).flatMap(referencedIds);
  }
  return [];
}

function grants(functionId: string): Map<string, Set<string>> {
  const byAction = new Map<string, Set<string>>();
  for (const s of statementsOf(functionId)) {
    if (s.Effect !== 'Allow') continue;
    for (const action of actions(s)) {
      const set = byAction.get(action) ?? new Set<string>();
      for (const id of referencedIds(s.Resource)) set.add(id);
      byAction.set(action, set);
    }
  }
  return byAction;
}

/** An action and the logical ids it must be granted on. */
type Need = readonly [action: string, resources: readonly string[]];

// What each function's code path sends, read from the adapters its handler reaches (lib/runtime.ts), as
// IAM actions: HeadObject is s3:GetObject; SendMessageBatch is sqs:SendMessage; a HEAD or GET of a
// missing key answers 404 only with s3:ListBucket on the bucket (403 otherwise), so a caller expecting
// NotFound needs it.
const AUTH: Need = ['dynamodb:GetItem', ['ApiKeysTable']];
const ENCRYPT: Need[] = [
  ['kms:GenerateDataKey', ['PiiKey']],
  ['dynamodb:GetItem', ['DataKeysTable']],
  ['dynamodb:PutItem', ['DataKeysTable']],
];
const DECRYPT: Need[] = [
  ['kms:Decrypt', ['PiiKey']],
  ['dynamodb:GetItem', ['DataKeysTable']],
];
const HMAC: Need = ['secretsmanager:GetSecretValue', ['HmacSecret']];
/**
 * lib/campaigns/engine.ts and dispatch.ts: enabled campaigns listed; the customer found (identity), its
 * partials and segment read; waits opened, cancelled, swept and fired; messaging snapshot, caps, claims,
 * decision log; coupons and the outbox; report counters; the address decrypted and the unsubscribe link
 * signed (HMAC secret).
 */
const CAMPAIGN_ENGINE: Need[] = [
  ['dynamodb:Query', ['CampaignsTable', 'WaitsTable', 'MessagingTable', 'CampaignStatsTable']],
  // Tag definitions, for audiences with tag conditions.
  ['dynamodb:Query', ['TagsTable']],
  ['dynamodb:GetItem', ['CampaignsTable']],
  ['dynamodb:GetItem', ['IdentityTable', 'SegmentsTable', 'WaitsTable', 'MessagingTable', 'CouponsTable']],
  ['dynamodb:GetItem', ['OutboxTable', 'CampaignStatsTable']],
  ['dynamodb:BatchGetItem', ['ProfilesTable']],
  ['dynamodb:PutItem', ['WaitsTable', 'MessagingTable', 'CouponsTable', 'OutboxTable', 'CampaignStatsTable']],
  ['dynamodb:UpdateItem', ['WaitsTable', 'MessagingTable', 'CampaignStatsTable']],
  ['kms:Decrypt', ['PiiKey']],
  ['dynamodb:GetItem', ['DataKeysTable']],
  ['secretsmanager:GetSecretValue', ['HmacSecret']],
];
const sendTo = (queue: string): Need[] => [
  ['sqs:GetQueueUrl', [queue]],
  ['sqs:SendMessage', [queue]],
];
/** lib/ingest with its PII protection: ingest, bulk imports, replays. */
const INGEST: Need[] = [
  ['dynamodb:PutItem', ['QuarantineTable']],
  ...sendTo('IngestQueue'),
  ...ENCRYPT,
  HMAC,
];
/** A sweep started (lib/tags/consume.ts sweepPublished): the published run, its report, the first step. */
const SWEEP: Need[] = [
  ['dynamodb:GetItem', ['SegmentsTable']],
  ['s3:GetObject', ['ArchiveBucket']],
  ...sendTo('TagsQueue'),
];
const READ_CUSTOMER: Need[] = [AUTH, ['dynamodb:GetItem', ['IdentityTable']], HMAC];
const READ_RUNS: Need[] = [
  AUTH,
  ['dynamodb:GetItem', ['SegmentsTable']],
  ['dynamodb:Query', ['SegmentsTable']],
  ['s3:GetObject', ['ArchiveBucket']],
];
const NEEDS: Record<string, readonly Need[]> = {
  Ingest: [AUTH, ...INGEST],
  QuarantineList: [AUTH, ['dynamodb:Query', ['QuarantineTable']]],
  // show opens the sealed payload.
  QuarantineShow: [AUTH, ['dynamodb:GetItem', ['QuarantineTable']], ...DECRYPT],
  // replay opens the payload, then protects the event again as the edge does (a failed replay is recorded
  // on its entry, not quarantined anew).
  QuarantineReplay: [
    AUTH,
    ['dynamodb:GetItem', ['QuarantineTable']],
    ['dynamodb:UpdateItem', ['QuarantineTable']],
    ...DECRYPT,
    ...sendTo('IngestQueue'),
    ...ENCRYPT,
    HMAC,
  ],
  QuarantineReport: [
    ['dynamodb:Query', ['QuarantineTable']],
    ['s3:PutObject', ['ArchiveBucket']],
  ],
  ImportUpload: [AUTH, ...INGEST],
  // lib/imports/drop.ts: HEAD of an imported (deleted) key must be a 404.
  ImportFile: [
    ['s3:GetObject', ['ArchiveBucket']],
    ['s3:DeleteObject', ['ArchiveBucket']],
    ['s3:ListBucket', ['ArchiveBucket']],
    ['s3:PutObject', ['ArchiveBucket']],
    ...INGEST,
  ],
  // lib/identity/resolve.ts over identityTable.ts (addEdges reads edges with BatchGetItem), then
  // profilesTable.ts.
  Profiles: [
    ['s3:GetObject', ['ArchiveBucket']],
    ...['GetItem', 'PutItem', 'UpdateItem', 'Query', 'BatchGetItem'].map(
      (a): Need => [`dynamodb:${a}`, ['IdentityTable']],
    ),
    ...['GetItem', 'PutItem', 'BatchGetItem'].map((a): Need => [`dynamodb:${a}`, ['ProfilesTable']]),
    ...sendTo('CampaignActivityQueue'),
    ...sendTo('TagsQueue'),
  ],
  CustomerGet: [
    ...READ_CUSTOMER,
    ['dynamodb:BatchGetItem', ['ProfilesTable']],
    ['dynamodb:GetItem', ['SegmentsTable', 'TagsTable']],
    ...DECRYPT,
  ],
  CustomerEvents: [...READ_CUSTOMER, ['dynamodb:BatchGetItem', ['ProfilesTable']], ...DECRYPT],
  CustomerIdentities: [...READ_CUSTOMER, ['dynamodb:Query', ['IdentityTable']]],
  CustomerRecommendations: [...READ_CUSTOMER, ['dynamodb:GetItem', ['SegmentsTable']]],
  CustomerUnmerge: [
    ...READ_CUSTOMER,
    ...['PutItem', 'UpdateItem', 'Query'].map((a): Need => [`dynamodb:${a}`, ['IdentityTable']]),
  ],
  SegmentationSchedule: [
    ['dynamodb:GetItem', ['SegmentsTable']],
    ['dynamodb:PutItem', ['SegmentsTable']],
    ...sendTo('SegmentationQueue'),
  ],
  SegmentationStart: [
    AUTH,
    ['dynamodb:GetItem', ['SegmentsTable']],
    ['dynamodb:PutItem', ['SegmentsTable']],
    ...sendTo('SegmentationQueue'),
  ],
  // The archive listed by day, the previous run's files possibly missing (404 needs ListBucket).
  SegmentationRunner: [
    ['s3:ListBucket', ['ArchiveBucket']],
    ['s3:GetObject', ['ArchiveBucket']],
    ['s3:PutObject', ['ArchiveBucket']],
    // The node-state snapshot replaced each night (lib/history/snapshot.ts).
    ['s3:DeleteObject', ['ArchiveBucket']],
    // History SQL on Athena (lib/adapters/athena/historyEngine.ts), which reads and writes S3 with the
    // runner's credentials: the archive's facts, the node table, the results bucket.
    ...['StartQueryExecution', 'GetQueryExecution', 'GetQueryResults', 'StopQueryExecution'].map(
      (a): Need => [`athena:${a}`, ['HistoryWorkGroup']],
    ),
    // Glue authorizes GetTable on the catalog, the database and the table.
    ['glue:GetTable', ['ArchiveDatabase', 'FactsTable', 'NodeCustomersTable']],
    ['glue:GetDatabase', ['ArchiveDatabase']],
    ['s3:GetBucketLocation', ['ArchiveBucket', 'HistoryResultsBucket']],
    ['s3:ListBucket', ['HistoryResultsBucket']],
    ['s3:GetObject', ['HistoryResultsBucket']],
    ['s3:PutObject', ['HistoryResultsBucket']],
    // Athena writes large results in multipart uploads with the caller's credentials, and aborts them.
    ['s3:AbortMultipartUpload', ['HistoryResultsBucket']],
    ['dynamodb:GetItem', ['IdentityTable', 'SegmentsTable']],
    ...['PutItem', 'Query', 'BatchWriteItem'].map((a): Need => [`dynamodb:${a}`, ['SegmentsTable']]),
    ...sendTo('SegmentChangesQueue'),
    ...sendTo('TagsQueue'),
  ],
  SegmentationRuns: [AUTH, ['dynamodb:Query', ['SegmentsTable']]],
  SegmentationRun: [AUTH, ['dynamodb:GetItem', ['SegmentsTable']], ['s3:GetObject', ['ArchiveBucket']]],
  Segments: READ_RUNS,
  SegmentMembers: READ_RUNS,
  // ... and the date index (lib/adapters/dynamodb/dayIndexTable.ts): moving a changed date's row.
  CampaignActivity: [...CAMPAIGN_ENGINE, ['dynamodb:DeleteItem', ['MessagingTable']]],
  CampaignSegments: CAMPAIGN_ENGINE,
  // The back-test: the archive's day folders, identity, profiles, segments and messaging state, read only.
  CampaignBacktest: [
    AUTH,
    ['dynamodb:Query', ['CampaignsTable', 'MessagingTable', 'TagsTable']],
    ['dynamodb:GetItem', ['CampaignsTable', 'IdentityTable', 'SegmentsTable', 'MessagingTable']],
    ['dynamodb:BatchGetItem', ['IdentityTable', 'ProfilesTable', 'MessagingTable']],
    ['s3:ListBucket', ['ArchiveBucket']],
    ['s3:GetObject', ['ArchiveBucket']],
    // A recipient found by a user id that holds an e-mail or a phone number: pseudonymized first.
    HMAC,
  ],
  CampaignTimers: CAMPAIGN_ENGINE,
  // The hourly date job: enabled campaigns, a day's index rows, the customers' current dates, waits opened.
  CampaignDates: [
    ['dynamodb:Query', ['CampaignsTable', 'MessagingTable']],
    ['dynamodb:GetItem', ['CampaignsTable']],
    ['dynamodb:BatchGetItem', ['MessagingTable']],
    ['dynamodb:DeleteItem', ['MessagingTable']],
    ['dynamodb:PutItem', ['WaitsTable']],
  ],
  // A save: the latest version read, the next one put, then the #catalog revision added to.
  ...Object.fromEntries(
    ['CampaignsCreate', 'CampaignsUpdate', 'CampaignsEnable', 'CampaignsDisable', 'CampaignsDelete'].map(
      (fn): [string, Need[]] => [
        fn,
        [AUTH, ...['Query', 'PutItem', 'UpdateItem'].map((a): Need => [`dynamodb:${a}`, ['CampaignsTable']])],
      ],
    ),
  ),
  // Campaign definitions: a version or the #catalog revision (GetItem), a campaign's versions or the
  // listing (Query).
  CampaignsList: [AUTH, ['dynamodb:GetItem', ['CampaignsTable']], ['dynamodb:Query', ['CampaignsTable']]],
  CampaignsGet: [AUTH, ['dynamodb:GetItem', ['CampaignsTable']], ['dynamodb:Query', ['CampaignsTable']]],
  CampaignReport: [
    AUTH,
    ['dynamodb:GetItem', ['CampaignsTable']],
    ['dynamodb:Query', ['CampaignsTable', 'CampaignStatsTable']],
  ],
  // Tags (lib/tags/api.ts over tagsTable.ts): definitions listed (Query) or read (GetItem); a save reads
  // the stored version and counts the catalogue on create; counts and listings query the tag's index.
  TagList: [AUTH, ['dynamodb:Query', ['TagsTable']]],
  TagGet: [AUTH, ['dynamodb:GetItem', ['TagsTable']], ['dynamodb:Query', ['TagsTable']]],
  // ... then a sweep: the published run's pointer and report, its first step on the tags queue.
  TagPut: [
    AUTH,
    ...['GetItem', 'Query', 'PutItem'].map((a): Need => [`dynamodb:${a}`, ['TagsTable']]),
    ...SWEEP,
  ],
  TagDelete: [AUTH, ['dynamodb:DeleteItem', ['TagsTable']], ...SWEEP],
  TagCustomers: [AUTH, ['dynamodb:GetItem', ['TagsTable']], ['dynamodb:Query', ['TagsTable']]],
  // lib/tags/consume.ts: the customer (identity, partials, assignment), the merge log, then the tags
  // table's records and index (read, BatchWriteItem of index changes, conditional put, deletes).
  Tags: [
    ['dynamodb:GetItem', ['IdentityTable', 'SegmentsTable']],
    ['dynamodb:Query', ['IdentityTable']],
    ['dynamodb:BatchGetItem', ['ProfilesTable']],
    ...['GetItem', 'Query', 'PutItem', 'DeleteItem', 'BatchWriteItem'].map(
      (a): Need => [`dynamodb:${a}`, ['TagsTable']],
    ),
    // Sweep steps: a page of the run's members, then its customers and the next step sent.
    ['s3:GetObject', ['ArchiveBucket']],
    ...sendTo('TagsQueue'),
  ],
  OutboxList: [AUTH, ['dynamodb:Query', ['OutboxTable']]],
  // lib/campaigns/messagingApi.ts over messagingTable.ts: the customer's state items (Query); consent is
  // a conditional put, read back when refused; the decision logs are pages of the table or its index.
  ConsentGet: [...READ_CUSTOMER, ['dynamodb:Query', ['MessagingTable']]],
  ConsentPut: [
    ...READ_CUSTOMER,
    ['dynamodb:GetItem', ['MessagingTable']],
    ['dynamodb:PutItem', ['MessagingTable']],
  ],
  CustomerDecisions: [...READ_CUSTOMER, ['dynamodb:Query', ['MessagingTable']]],
  CampaignDecisions: [AUTH, ['dynamodb:Query', ['MessagingTable']]],
  // The signed token is the authority: the confirm page only checks it; the POST records the unsubscribe.
  UnsubscribePage: [HMAC],
  Unsubscribe: [
    HMAC,
    ['dynamodb:GetItem', ['IdentityTable', 'MessagingTable']],
    ['dynamodb:PutItem', ['MessagingTable']],
  ],
  // SES bounces and complaints: suppressions and consent are conditional puts, read back when refused.
  EmailFeedback: [HMAC, ['dynamodb:GetItem', ['MessagingTable']], ['dynamodb:PutItem', ['MessagingTable']]],
  Archive: [
    ...['PutItem', 'GetItem', 'DeleteItem', 'BatchWriteItem'].map(
      (a): Need => [`dynamodb:${a}`, ['DedupTable']],
    ),
    ['s3:PutObject', ['ArchiveBucket']],
    ['s3:GetObject', ['ArchiveBucket']],
    ['s3:ListBucket', ['ArchiveBucket']],
  ],
};

describe('osls package (stage prod)', () => {
  it('declares the tables, queues, bucket, alarm and Athena table', () => {
    for (const id of [
      'ApiKeysTable',
      'DedupTable',
      'QuarantineTable',
      'IngestQueue',
      'IngestDeadLetterQueue',
      'IngestDeadLetterAlarm',
      'ArchiveBucket',
      'RawEventsTable',
    ]) {
      expect(template.Resources[id], id).toBeDefined();
    }
    expect(resource('DedupTable').Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
    expect(resource('ArchiveBucket').Properties.PublicAccessBlockConfiguration).toMatchObject({
      BlockPublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it("declares the Athena table with exactly the archive writer's columns, partitioned by dt", () => {
    const input = resource('RawEventsTable').Properties.TableInput as {
      PartitionKeys: { Name: string }[];
      StorageDescriptor: { Columns: { Name: string }[] };
    };
    expect(input.StorageDescriptor.Columns.map((c) => c.Name)).toEqual([...ARCHIVE_COLUMNS]);
    expect(input.PartitionKeys.map((k) => k.Name)).toEqual(['dt']);
  });

  it("declares Athena's facts table with the columnar archive's columns and types, and a workgroup that keeps results private", () => {
    const input = resource('FactsTable').Properties.TableInput as {
      Parameters: Record<string, unknown>;
      PartitionKeys: { Name: string }[];
      StorageDescriptor: {
        Columns: { Name: string; Type: string }[];
        SerdeInfo: { SerializationLibrary: string };
      };
    };
    expect(input.StorageDescriptor.Columns).toEqual(
      FACT_COLUMNS.map((c) => ({ Name: c.name, Type: c.athena })),
    );
    expect(input.PartitionKeys.map((k) => k.Name)).toEqual([PARTITION_COLUMN]);
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toMatch(/Parquet/);
    expect(input.Parameters['projection.enabled']).toBe('true');
    // The names and place the Athena reader queries and writes (lib/history/bucketReaders.ts).
    expect((resource('FactsTable').Properties.TableInput as { Name: string }).Name).toBe(ATHENA_TABLES.facts);
    const nodes = resource('NodeCustomersTable').Properties.TableInput as {
      Name: string;
      StorageDescriptor: { Location: unknown };
    };
    expect(nodes.Name).toBe(ATHENA_TABLES.nodes);
    expect(JSON.stringify(nodes.StorageDescriptor.Location)).toContain(`/${ATHENA_TABLES.nodesPrefix}`);
    const workGroup = resource('HistoryWorkGroup').Properties as {
      Name: string;
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: boolean;
        BytesScannedCutoffPerQuery: number;
        ResultConfiguration: { OutputLocation: unknown; EncryptionConfiguration: unknown };
      };
    };
    expect(workGroup.WorkGroupConfiguration.EnforceWorkGroupConfiguration).toBe(true);
    expect(workGroup.WorkGroupConfiguration.BytesScannedCutoffPerQuery).toBeGreaterThan(0);
    expect(referencedIds(workGroup.WorkGroupConfiguration.ResultConfiguration.OutputLocation)).toEqual([
      'HistoryResultsBucket',
    ]);
    expect(resource('HistoryResultsBucket').Properties.LifecycleConfiguration).toBeDefined();
    // The runner is told the workgroup and database the stack made; DuckDB unless the deploy asks for Athena.
    const env = (
      resource('SegmentationRunnerLambdaFunction').Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(env).toMatchObject({
      PRECIS_HISTORY_ENGINE: 'duckdb',
      PRECIS_HISTORY_WORKGROUP: workGroup.Name,
      PRECIS_GLUE_DATABASE: (resource('ArchiveDatabase').Properties.DatabaseInput as { Name: string }).Name,
    });
  });

  it('sends poison messages to the DLQ and keeps the visibility timeout above the consumer timeout', () => {
    const queue = resource('IngestQueue').Properties;
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['IngestDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
    const consumer = resource('ArchiveLambdaFunction').Properties;
    const timeout = Number(consumer.Timeout);
    expect(Number(queue.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * timeout);
    const lease = Number(
      (consumer.Environment as { Variables: Record<string, string> }).Variables.PRECIS_ARCHIVE_LEASE_SECONDS,
    );
    // An abandoned dedup claim may be taken over only once its writer is certainly dead.
    expect(lease).toBeGreaterThan(timeout);
    expect(lease).toBeLessThan(Number(queue.VisibilityTimeout));
    const [, mapping] = ofType('AWS::Lambda::EventSourceMapping')[0] ?? [];
    expect(mapping?.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(resource('IngestDeadLetterAlarm').Properties.Dimensions).toEqual([
      { Name: 'QueueName', Value: { 'Fn::GetAtt': ['IngestDeadLetterQueue', 'QueueName'] } },
    ]);
  });

  it("routes the stage's SES bounces and complaints to the email-feedback queue, and only them", () => {
    const destination = resource('EmailFeedbackDestination').Properties as {
      ConfigurationSetName: unknown;
      EventDestination: { MatchingEventTypes: string[]; EventBridgeDestination?: unknown; Enabled: boolean };
    };
    expect(destination.ConfigurationSetName).toEqual({ Ref: 'EmailConfigurationSet' });
    expect(destination.EventDestination.MatchingEventTypes.sort()).toEqual(['bounce', 'complaint']);
    expect(destination.EventDestination.EventBridgeDestination).toBeDefined();
    const rule = resource('EmailFeedbackRule').Properties as {
      EventPattern: Record<string, unknown>;
      Targets: { Arn: unknown }[];
    };
    expect(rule.EventPattern).toMatchObject({
      source: ['aws.ses'],
      'detail-type': ['Email Bounced', 'Email Complaint Received'],
      detail: { mail: { tags: { 'ses:configuration-set': [{ Ref: 'EmailConfigurationSet' }] } } },
    });
    expect(rule.Targets.map((t) => t.Arn)).toEqual([{ 'Fn::GetAtt': ['EmailFeedbackQueue', 'Arn'] }]);
    const policy = resource('EmailFeedbackQueuePolicy').Properties.PolicyDocument as {
      Statement: { Principal: unknown; Condition: unknown }[];
    };
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['EmailFeedbackRule', 'Arn'] } } },
      }),
    ]);
    // The functions send through the set the stack made.
    const env = (
      resource('CampaignActivityLambdaFunction').Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(env.PRECIS_SES_CONFIGURATION_SET).toBe(resource('EmailConfigurationSet').Properties.Name);
  });

  it("runs every function on nodejs22.x, HTTP ones within API Gateway's 30 s, with memory set", () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(6);
    const httpFunctions = new Set(
      ofType('AWS::Lambda::Permission')
        .filter(([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com')
        .flatMap(([, p]) => referencedIds(p.Properties.FunctionName)),
    );
    expect(httpFunctions.size).toBeGreaterThanOrEqual(4);
    for (const [id, fn] of functions) {
      expect(fn.Properties.Runtime, id).toBe('nodejs22.x');
      expect(Number(fn.Properties.Timeout), id).toBeLessThanOrEqual(httpFunctions.has(id) ? 29 : 900);
      expect(Number(fn.Properties.MemorySize), id).toBeGreaterThanOrEqual(256);
    }
  });

  it("ships DuckDB's native binding in the runner's package alone, which runs on the binding's x86_64", async () => {
    const duckdb = 'node_modules/@duckdb/';
    const runner = await zipEntries(join(dir, 'segmentationRunner.zip'));
    const names = new Set(runner.map((e) => e.name));
    for (const file of [
      'node-api/package.json',
      'node-bindings/duckdb.js',
      'node-bindings-linux-x64/duckdb.node',
    ])
      expect(names, file).toContain(`${duckdb}${file}`);
    // Lambda's limit for a function's unzipped code is 250 MB.
    expect(runner.reduce((sum, e) => sum + e.size, 0)).toBeLessThan(250 * 1024 * 1024);
    for (const other of ['ingest', 'profiles', 'segmentationStart']) {
      const entries = await zipEntries(join(dir, `${other}.zip`));
      expect(
        entries.filter((e) => e.name.startsWith('node_modules/')),
        other,
      ).toEqual([]);
    }
    const architectures = ofType('AWS::Lambda::Function').map(([id, fn]) => [
      id,
      (fn.Properties.Architectures as string[] | undefined)?.join(),
    ]);
    for (const [id, architecture] of architectures)
      expect(architecture, id).toBe(id === 'SegmentationRunnerLambdaFunction' ? 'x86_64' : 'arm64');
    expect(resource('SegmentationRunnerLambdaFunction').Properties.EphemeralStorage).toEqual({ Size: 10240 });
  });

  it('gives every queue consumer a DLQ and a visibility timeout of at least 6x its timeout', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThanOrEqual(2);
    for (const [id, m] of mappings) {
      const [queueId] = referencedIds(m.Properties.EventSourceArn);
      const [fnId] = referencedIds(m.Properties.FunctionName);
      const queue = resource(queueId ?? '').Properties;
      expect(Number(queue.VisibilityTimeout), id).toBeGreaterThanOrEqual(
        6 * Number(resource(fnId ?? '').Properties.Timeout),
      );
      // Event consumers retry 5 times; the segmentation runner 3 (a run that failed thrice needs a look).
      const redrive = queue.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
      expect(referencedIds(redrive.deadLetterTargetArn)[0], id).toMatch(/DeadLetterQueue$/);
      expect([3, 5], id).toContain(redrive.maxReceiveCount);
      expect(m.Properties.FunctionResponseTypes, id).toEqual(['ReportBatchItemFailures']);
    }
  });

  it('gives each function its own role with only the actions and resources it needs', () => {
    const roles = new Set(
      ofType('AWS::Lambda::Function').map(([, fn]) => JSON.stringify(fn.Properties.Role)),
    );
    expect(roles.size).toBe(ofType('AWS::Lambda::Function').length);

    const ingest = grants('Ingest');
    expect([...ingest.keys()].filter((a) => !a.startsWith('logs:')).sort()).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'kms:GenerateDataKey',
        'secretsmanager:GetSecretValue',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
    // The edge encrypts personal data but can never decrypt it.
    expect(ingest.has('kms:Decrypt')).toBe(false);
    expect([...(ingest.get('dynamodb:GetItem') ?? [])].sort()).toEqual(['ApiKeysTable', 'DataKeysTable']);
    expect([...(ingest.get('dynamodb:PutItem') ?? [])].sort()).toEqual(['DataKeysTable', 'QuarantineTable']);

    // The profiles consumer works on opaque tokens: no key, no secret.
    const profiles = grants('Profiles');
    expect([...profiles.keys()].some((a) => a.startsWith('kms:') || a.startsWith('secretsmanager:'))).toBe(
      false,
    );
    // Read keys reach profiles through customerGet; it may decrypt (to mask) but not write.
    const reader = grants('CustomerGet');
    expect(
      [...reader.keys()].some((a) => !a.startsWith('logs:') && /Put|Update|Delete|BatchWrite/.test(a)),
    ).toBe(false);

    const archive = grants('Archive');
    expect([...archive.keys()].some((a) => a.startsWith('sqs:Send'))).toBe(false);
    expect([...(archive.get('s3:PutObject') ?? [])]).toEqual(['ArchiveBucket']);
    expect([...(archive.get('dynamodb:PutItem') ?? [])]).toEqual(['DedupTable']);

    const list = grants('QuarantineList');
    expect([...list.keys()].some((a) => a.startsWith('s3:') || a.startsWith('sqs:'))).toBe(false);

    for (const [id] of ofType('AWS::Lambda::Function')) {
      for (const s of statementsOf(id.replace(/LambdaFunction$/, ''))) {
        // No wildcard actions, and no data-plane grant on '*'.
        for (const action of actions(s)) expect(action, id).not.toMatch(/\*$/);
        if (actions(s).some((a) => !a.startsWith('logs:'))) expect(s.Resource, id).not.toBe('*');
      }
    }
  });
  it('grants each function every action its code path sends (an action missing is an AccessDenied on AWS only: the local stack has no IAM)', () => {
    const missing = Object.entries(NEEDS).flatMap(([fn, needs]) => {
      const granted = grants(fn);
      return needs.flatMap(([action, ids]) =>
        ids.filter((id) => !granted.get(action)?.has(id)).map((id) => `${fn}: ${action} on ${id}`),
      );
    });
    expect(missing).toEqual([]);
  });

  it('grants each function nothing on the stack’s resources beyond what its code path sends (least privilege)', () => {
    const functions = ofType('AWS::Lambda::Function').map(([id]) => id.replace(/LambdaFunction$/, ''));
    const unlisted = functions.filter((fn) => fn !== 'Openapi' && NEEDS[fn] === undefined);
    // What Lambda's event source mapping polls with: the function's own trigger queue.
    const polling = (fn: string): Need[] =>
      ofType('AWS::Lambda::EventSourceMapping')
        .filter(([, m]) => referencedIds(m.Properties.FunctionName).includes(`${fn}LambdaFunction`))
        .flatMap(([, m]) =>
          ['ReceiveMessage', 'DeleteMessage', 'GetQueueAttributes'].map(
            (a): Need => [`sqs:${a}`, referencedIds(m.Properties.EventSourceArn)],
          ),
        );
    const excess = functions.flatMap((fn) => {
      const needed = new Set(
        [...(NEEDS[fn] ?? []), ...polling(fn)].flatMap(([action, ids]) =>
          ids.map((id) => `${action} on ${id}`),
        ),
      );
      return (
        [...grants(fn)]
          .filter(([action]) => !action.startsWith('logs:'))
          .flatMap(([action, ids]) => [...ids].map((id) => `${action} on ${id}`))
          // The account's pseudo parameters (AWS::Region...) in an ARN are not resources.
          .filter((grant) => !/ on AWS::/.test(grant) && !needed.has(grant))
          .map((grant) => `${fn}: ${grant}`)
      );
    });
    expect({ unlisted, excess }).toEqual({ unlisted: [], excess: [] });
  });

  it('lets segmentation read the archive and identity, and write only its own table, files and queue', () => {
    // Segmentation reads the archive and the identity index, writes only its own table, files and queue
    // (and names its customers on the tags queue); like the profiles consumer it never sees a key or a secret.
    const runner = grants('SegmentationRunner');
    expect([...runner.keys()].some((a) => a.startsWith('kms:') || a.startsWith('secretsmanager:'))).toBe(
      false,
    );
    expect([...(runner.get('dynamodb:GetItem') ?? [])].sort()).toEqual(['IdentityTable', 'SegmentsTable']);
    expect([...(runner.get('dynamodb:BatchWriteItem') ?? [])]).toEqual(['SegmentsTable']);
    expect([...(runner.get('sqs:SendMessage') ?? [])].sort()).toEqual(['SegmentChangesQueue', 'TagsQueue']);
    for (const reader of ['SegmentationRuns', 'SegmentationRun', 'Segments', 'SegmentMembers']) {
      const g = grants(reader);
      expect(
        [...g.keys()].filter((a) => !a.startsWith('logs:') && /Put|Update|Delete|BatchWrite|Send/.test(a)),
        reader,
      ).toEqual([]);
    }
  });

  it('gives the public openapi function a role of its own that may only write its logs', () => {
    const role = JSON.stringify(resource('OpenapiLambdaFunction').Properties.Role);
    const others = ofType('AWS::Lambda::Function').filter(([id]) => id !== 'OpenapiLambdaFunction');
    expect(others.map(([, fn]) => JSON.stringify(fn.Properties.Role))).not.toContain(role);
    expect([...grants('Openapi').keys()].filter((a) => !a.startsWith('logs:'))).toEqual([]);
  });

  it('throttles every route of the HTTP API by default', () => {
    const settings = resource('HttpApiStage').Properties.DefaultRouteSettings as Record<string, unknown>;
    expect(Number(settings?.ThrottlingBurstLimit)).toBeGreaterThan(0);
    expect(Number(settings?.ThrottlingRateLimit)).toBeGreaterThan(0);
  });

  const alarms = (): Record<string, unknown>[] =>
    ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const notifiesAlerts = (a: Record<string, unknown>) =>
    referencedIds(a.AlarmActions).length > 0 &&
    referencedIds(a.AlarmActions).every((id) => id === 'AlertsTopic');

  it("alarms on each function's errors and on the API's 5xx answers, to the alerts topic", () => {
    for (const [id] of ofType('AWS::Lambda::Function')) {
      const alarm = alarms().find(
        (a) =>
          a.Namespace === 'AWS/Lambda' &&
          a.MetricName === 'Errors' &&
          referencedIds(a.Dimensions).includes(id),
      );
      expect(alarm, `errors alarm of ${id}`).toBeDefined();
      expect(notifiesAlerts(alarm ?? {}), id).toBe(true);
    }
    const api = alarms().find((a) => a.Namespace === 'AWS/ApiGateway' && a.MetricName === '5xx');
    expect(api, '5xx alarm').toBeDefined();
    expect(referencedIds(api?.Dimensions)).toEqual(['HttpApi']);
    expect(notifiesAlerts(api ?? {})).toBe(true);
  });

  it('alarms on every dead-letter queue, the segment changes one included', () => {
    const dlqs = ofType('AWS::SQS::Queue').flatMap(([, q]) =>
      referencedIds((q.Properties.RedrivePolicy as { deadLetterTargetArn?: unknown })?.deadLetterTargetArn),
    );
    expect(dlqs).toContain('SegmentChangesDeadLetterQueue');
    for (const dlq of dlqs) {
      const alarm = alarms().find(
        (a) =>
          a.MetricName === 'ApproximateNumberOfMessagesVisible' && referencedIds(a.Dimensions).includes(dlq),
      );
      expect(alarm, `alarm of ${dlq}`).toBeDefined();
      expect(notifiesAlerts(alarm ?? {}), dlq).toBe(true);
    }
  });

  it('encrypts the alerts topic with a key of its own that CloudWatch alarms may use', () => {
    const [keyId] = referencedIds(resource('AlertsTopic').Properties.KmsMasterKeyId);
    expect(keyId).toBeDefined();
    expect(keyId).not.toBe('PiiKey');
    const key = resource(keyId ?? '');
    expect(key.Type).toBe('AWS::KMS::Key');
    const statements = (key.Properties.KeyPolicy as { Statement: (Statement & { Principal?: unknown })[] })
      .Statement;
    const cloudwatch = statements.find(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }),
    );
    expect(cloudwatch && actions(cloudwatch).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
  });

  it('keeps point-in-time recovery on every table, the dedup table included', () => {
    for (const [id, table] of ofType('AWS::DynamoDB::Table')) {
      expect(table.Properties.PointInTimeRecoverySpecification, id).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
    }
  });

  it('protects from deletion what cannot be rebuilt, and only that', () => {
    // Rebuildable: dedup claims (a 35-day window), segments (runs are recomputed from the archive).
    const irreplaceable = [
      'ApiKeysTable',
      'IdentityTable',
      'ProfilesTable',
      'DataKeysTable',
      'QuarantineTable',
      // Consent and unsubscribes are compliance evidence.
      'MessagingTable',
    ];
    for (const [id, table] of ofType('AWS::DynamoDB::Table')) {
      const protectedTable = irreplaceable.includes(id);
      expect(table.Properties.DeletionProtectionEnabled === true, `${id} deletion protection`).toBe(
        protectedTable,
      );
      expect(
        table.DeletionPolicy === 'Retain' && table.UpdateReplacePolicy === 'Retain',
        `${id} retained`,
      ).toBe(protectedTable);
    }
    for (const id of ['ArchiveBucket', 'PiiKey', 'HmacSecret']) {
      expect(resource(id).DeletionPolicy, id).toBe('Retain');
      expect(resource(id).UpdateReplacePolicy, id).toBe('Retain');
    }
  });

  it('allows cross-origin calls (CORS *) on the ingestion routes browsers call, and on no other route', () => {
    expect(resource('HttpApi').Properties.CorsConfiguration).toBeUndefined();
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => ({
      key: String(r.Properties.RouteKey),
      target: referencedIds(r.Properties.Target),
    }));
    const ingestion = routes.filter((r) => r.target.includes('HttpApiIntegrationIngest'));
    const posts = ingestion.filter((r) => r.key.startsWith('POST ')).map((r) => r.key.slice(5));
    const preflights = routes.filter((r) => r.key.startsWith('OPTIONS '));
    expect(posts).toContain('/v1/t');
    expect(preflights.map((r) => r.key.slice(8)).sort()).toEqual([...posts].sort());
    for (const r of preflights) expect(r.target, r.key).toEqual(['HttpApiIntegrationIngest']);
  });
});
