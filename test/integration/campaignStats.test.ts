// Campaign report counters on the DynamoDB emulator through the real adapter: a simulated experiment
// (1,000 treated, 1,000 control, known conversion probabilities) whose report's interval holds the true
// difference; at-least-once delivery (the same exposure, goal event, skip and delivery report delivered
// twice, concurrently and again later) counting once; a consumer dying half-way, its event taken over
// after the lease without a second count; goal events outside the window not counting.
import { randomUUID } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import pMap from 'p-map';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { apiKeysTable } from '../../lib/adapters/dynamodb/apiKeysTable.js';
import { campaignStatsTable } from '../../lib/adapters/dynamodb/campaignStatsTable.js';
import { createApiKey } from '../../lib/auth/apiKeys.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import type { Exposure, GoalEvent, Group } from '../../lib/campaigns/attribution.js';
import { assembleReport, campaignReport } from '../../lib/campaigns/report.js';
import {
  recordDelivery,
  recordExposure,
  recordGoal,
  recordSkip,
  type StatsDeps,
} from '../../lib/campaigns/reportStore.js';
import { seededRandom } from '../../lib/clustering/random.js';
import { lambdaContext } from '../support/archiveQueues.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const client = createDynamoDb(config);
const LEASE_MS = 60_000;
const T0 = Date.parse('2026-11-02T10:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
afterAll(() => client.destroy());

/** A store on `c` whose clock is the test's: `at` moves only when a test says so. */
function depsOn(c: DynamoDBDocumentClient, now: () => number = () => T0): StatsDeps {
  return { stats: campaignStatsTable(c, config.tables.campaignStats, LEASE_MS), now };
}
const deps = depsOn(client);

/** A campaign and customers unique to one test. */
const run = () => {
  const tag = randomUUID().slice(0, 8);
  return { campaignId: `it-${tag}`, customer: (i: number) => `c${i}-${tag}` };
};

const exposure = (
  campaignId: string,
  customerId: string,
  group: Group,
  overrides: Partial<Exposure> = {},
): Exposure => ({
  campaignId,
  customerId,
  group,
  exposureId: `${group === 'treated' ? 'snd' : 'asg'}_${customerId}`,
  at: new Date(T0).toISOString(),
  goal: { event: 'Order Completed', windowDays: 7 },
  ...overrides,
});

const order = (customerId: string, at: number, revenue?: number): GoalEvent => ({
  customerId,
  event: 'Order Completed',
  messageId: randomUUID(),
  at: new Date(at).toISOString(),
  ...(revenue === undefined ? {} : { revenue }),
});

async function reportOf(campaignId: string, d: StatsDeps = deps) {
  const outcome = await campaignReport(campaignId, { baseline: 'pooled' }, { stats: d.stats, now: d.now });
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.value;
}

describe('a simulated experiment through the real store', () => {
  it('counts every member and conversion, and its 95 % interval holds the true difference', async () => {
    const { campaignId, customer } = run();
    const random = seededRandom(20261206);
    const truth = { treated: 0.3, control: 0.2 };
    const expected = { treated: { converted: 0, revenue: 0 }, control: { converted: 0, revenue: 0 } };
    const members = Array.from({ length: 2000 }, (_, i) => {
      const group: 'treated' | 'control' = i % 2 === 0 ? 'treated' : 'control';
      const converts = random() < truth[group];
      const revenue = Math.round(20 + random() * 8000) / 100;
      if (converts) {
        expected[group].converted += 1;
        expected[group].revenue += revenue;
      }
      return { customerId: customer(i), group, converts, revenue };
    });

    await pMap(members, (m) => recordExposure(exposure(campaignId, m.customerId, m.group), deps), {
      concurrency: 16,
    });
    const goals = await pMap(
      members.filter((m) => m.converts),
      (m) => recordGoal(order(m.customerId, T0 + 2 * DAY, m.revenue), deps),
      { concurrency: 16 },
    );
    expect(goals.flat().every((g) => g.outcome === 'applied')).toBe(true);

    const report = await reportOf(campaignId);
    expect(report.byGroup.treated).toMatchObject({ members: 1000, converted: expected.treated.converted });
    expect(report.byGroup.control).toMatchObject({ members: 1000, converted: expected.control.converted });
    expect(report.byGroup.treated.revenue).toBeCloseTo(expected.treated.revenue, 2);
    expect(report.totals).toMatchObject({
      candidates: 2000,
      sent: 1000,
      converted: expected.treated.converted,
    });
    expect(report.period.from).toBe(new Date(T0).toISOString());

    const ci = report.uplift.absolute?.ci95;
    const trueDifference = truth.treated - truth.control;
    expect(ci?.lower).toBeLessThan(trueDifference);
    expect(ci?.upper).toBeGreaterThan(trueDifference);
    // 30 % vs 20 % on 1,000 each is a z of about 5: the report says so.
    expect(report.uplift).toMatchObject({ significant: true, verdict: 'treated better' });
    // The rates the report computes are the counted ones.
    expect(report.uplift.rates.treated).toBe(expected.treated.converted / 1000);
  }, 600_000);
});

describe('at-least-once delivery', () => {
  it('the same exposure, goal event, skip and delivery report, delivered twice at once and again later, count once', async () => {
    const { campaignId, customer } = run();
    const e = exposure(campaignId, customer(1), 'treated', {
      channel: 'email',
      variant: 'a',
      segment: 'loyal',
    });
    const skip = { campaignId, decisionId: `dec-${customer(2)}`, reason: 'quiet_hours', at: e.at };
    const goal = order(e.customerId, T0 + HOUR, 42.5);
    const delivery = { campaignId, customerId: e.customerId, exposureId: e.exposureId };

    const twice = async <T>(deliver: () => Promise<T>) => {
      const concurrent = await Promise.all([deliver(), deliver()]);
      // A delivery that found the other at work ('busy') fails its record; SQS brings it back later.
      const later = await deliver();
      return [...concurrent, later];
    };
    const exposures = await twice(() => recordExposure(e, deps));
    expect(exposures.filter((o) => o === 'applied')).toHaveLength(1);
    expect(exposures[2]).toBe('duplicate');
    const skips = await twice(() => recordSkip(skip, deps));
    expect(skips.filter((o) => o === 'applied')).toHaveLength(1);
    const deliveries = await twice(() => recordDelivery(delivery, deps));
    expect(deliveries.filter((o) => o === 'applied')).toHaveLength(1);
    const goals = (await twice(() => recordGoal(goal, deps))).flat();
    expect(goals.filter((g) => g.outcome === 'applied')).toHaveLength(1);
    // A second order in the window: the exposure converted already.
    expect(await recordGoal(order(e.customerId, T0 + 2 * HOUR, 99), deps)).toEqual([
      { campaignId, exposureId: e.exposureId, outcome: 'duplicate' },
    ]);

    const report = await reportOf(campaignId);
    expect(report.totals).toEqual({
      candidates: 2,
      sent: 1,
      skipped: { quiet_hours: 1 },
      delivered: 1,
      converted: 1,
      revenue: 42.5,
    });
    for (const slice of [report.byChannel.email, report.byVariant.a, report.bySegment.loyal]) {
      expect(slice?.byGroup.treated).toMatchObject({ members: 1, delivered: 1, converted: 1, revenue: 42.5 });
    }
    // Nothing is left in flight on the counter rows once every event is done.
    const rows = await client.send(
      new QueryCommand({
        TableName: config.tables.campaignStats,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `stats#${campaignId}` },
      }),
    );
    expect(rows.Items?.length).toBeGreaterThan(0);
    expect(rows.Items?.filter((item) => item.inflight !== undefined)).toEqual([]);
  });

  it('a consumer dying after counting some rows: the event is taken over after its lease and counted once', async () => {
    const { campaignId, customer } = run();
    const e = exposure(campaignId, customer(1), 'control', { channel: 'sms', variant: 'b' });
    // The first consumer's client: its ADD on the channel row never returns (the process died there).
    const dying = createDynamoDb(config);
    const mock = mockClient(dying);
    const died = new Error('consumer died');
    mock.on(PutCommand).callsFake((input) => client.send(new PutCommand(input)));
    mock.on(GetCommand).callsFake((input) => client.send(new GetCommand(input)));
    mock.on(UpdateCommand).callsFake((input) => {
      if (String(input.Key?.sk).endsWith('#channel#sms')) throw died;
      return client.send(new UpdateCommand(input));
    });
    try {
      await expect(recordExposure(e, depsOn(dying))).rejects.toBe(died);
    } finally {
      mock.restore();
      dying.destroy();
    }
    // Redelivered within the lease: another consumer may still be at work.
    expect(
      await recordExposure(
        e,
        depsOn(client, () => T0 + LEASE_MS / 2),
      ),
    ).toBe('busy');
    // Past the lease: taken over, the stored tally finished; the rows counted before the crash refuse it.
    expect(
      await recordExposure(
        e,
        depsOn(client, () => T0 + LEASE_MS + 1),
      ),
    ).toBe('applied');
    expect(
      await recordExposure(
        e,
        depsOn(client, () => T0 + 2 * LEASE_MS),
      ),
    ).toBe('duplicate');

    const report = await reportOf(campaignId);
    expect(report.byGroup.control).toMatchObject({ members: 1 });
    expect(report.totals.candidates).toBe(1);
    expect(report.byChannel.sms?.byGroup.control.members).toBe(1);
    expect(report.byVariant.b?.byGroup.control.members).toBe(1);
  });
});

describe('attribution window', () => {
  it('a goal event before the exposure, after the window, or of another event does not count', async () => {
    const { campaignId, customer } = run();
    const e = exposure(campaignId, customer(1), 'holdout', {
      goal: { event: 'Order Completed', windowDays: 3 },
    });
    expect(await recordExposure(e, deps)).toBe('applied');
    expect(await recordGoal(order(e.customerId, T0 - 1, 10), deps)).toEqual([]);
    expect(await recordGoal(order(e.customerId, T0 + 3 * DAY, 10), deps)).toEqual([]);
    expect(await recordGoal({ ...order(e.customerId, T0 + HOUR), event: 'Product Viewed' }, deps)).toEqual(
      [],
    );
    expect(await recordGoal(order(customer(2), T0 + HOUR, 10), deps)).toEqual([]);
    expect((await reportOf(campaignId)).byGroup.holdout).toMatchObject({ members: 1, converted: 0 });

    // The last millisecond of the window does count.
    expect(await recordGoal(order(e.customerId, T0 + 3 * DAY - 1, 10), deps)).toEqual([
      { campaignId, exposureId: e.exposureId, outcome: 'applied' },
    ]);
    expect((await reportOf(campaignId)).byGroup.holdout).toMatchObject({
      members: 1,
      converted: 1,
      revenue: 10,
    });
  });

  it('one order converts the exposures of every campaign whose window covers it (each counts its own)', async () => {
    const a = run();
    const b = run();
    const customerId = a.customer(1);
    await recordExposure(exposure(a.campaignId, customerId, 'treated'), deps);
    await recordExposure(
      exposure(b.campaignId, customerId, 'control', { at: new Date(T0 + DAY).toISOString() }),
      deps,
    );
    const outcomes = await recordGoal(order(customerId, T0 + 2 * DAY, 30), deps);
    expect(outcomes.map((o) => o.campaignId).sort()).toEqual([a.campaignId, b.campaignId].sort());
    expect((await reportOf(a.campaignId)).totals).toMatchObject({ converted: 1, revenue: 30 });
    expect((await reportOf(b.campaignId)).byGroup.control).toMatchObject({ converted: 1, revenue: 30 });
  });
});

describe('reports of campaigns with nothing counted', () => {
  it('an unknown campaign is a 404 when the campaigns store says so, else an empty report', async () => {
    const { campaignId } = run();
    const stats = deps.stats;
    const none = { get: async () => undefined };
    expect(
      await campaignReport(campaignId, { baseline: 'pooled' }, { stats, campaigns: none, now: deps.now }),
    ).toMatchObject({
      ok: false,
      reason: 'not_found',
    });
    const defined = { get: async () => ({ version: 3 }) };
    const outcome = await campaignReport(
      campaignId,
      { baseline: 'holdout' },
      { stats, campaigns: defined, now: deps.now },
    );
    expect(outcome).toMatchObject({ ok: true, value: { campaignId, version: 3, period: { from: null } } });
    expect(outcome.ok && outcome.value.uplift).toMatchObject({
      baseline: 'holdout',
      verdict: 'not significant yet',
    });
    expect(assembleReport(campaignId, { rows: [] }, { baseline: 'pooled', now: T0 }).totals.candidates).toBe(
      0,
    );
  });
});

describe('GET /v1/campaigns/{id}/report as deployed (withHttp, config from the environment, runtime wiring)', () => {
  let handler: typeof import('../../functions/http/campaignReports.js').report;
  let readKey: string;
  beforeAll(async () => {
    for (const [key, value] of Object.entries(inject('stackEnv'))) vi.stubEnv(key, value);
    vi.stubEnv('PRECIS_LOG_LEVEL', 'SILENT');
    handler = (await import('../../functions/http/campaignReports.js')).report;
    const keys = apiKeysTable(client, config.tables.apiKeys);
    readKey = (await createApiKey({ role: 'read', sourceId: 'bi', name: 'bi' }, keys)).key;
  });
  afterAll(() => vi.unstubAllEnvs());

  async function get(id: string, query: Record<string, string> = {}) {
    const event = {
      version: '2.0',
      routeKey: 'GET /v1/campaigns/{id}/report',
      rawPath: `/v1/campaigns/${id}/report`,
      rawQueryString: new URLSearchParams(query).toString(),
      headers: { authorization: `Bearer ${readKey}` },
      pathParameters: { id },
      queryStringParameters: query,
      requestContext: { http: { method: 'GET' }, timeEpoch: Date.now() },
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const res = await handler(event, lambdaContext('precis-test-campaign-report', 10_000));
    return { status: res.statusCode, body: JSON.parse(res.body ?? '{}') as Record<string, unknown> };
  }

  it('reads the live counters with a read key; 404 for an id nobody defined; 400 for a malformed one', async () => {
    const { campaignId, customer } = run();
    await recordExposure(exposure(campaignId, customer(1), 'treated', { channel: 'push' }), deps);
    await recordExposure(exposure(campaignId, customer(2), 'holdout'), deps);
    const ok = await get(campaignId, { baseline: 'holdout' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      campaignId,
      totals: { candidates: 2, sent: 1 },
      byGroup: { treated: { members: 1 }, holdout: { members: 1 } },
      byChannel: { push: { totals: { sent: 1 } } },
      uplift: { baseline: 'holdout', verdict: 'no difference detected' },
    });
    expect((await get(run().campaignId)).status).toBe(404);
    const bad = await get('Not_A_Slug');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('path.id');
    expect((await get(campaignId, { baseline: 'everyone' })).status).toBe(400);
  });
});
