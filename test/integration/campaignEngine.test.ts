// The campaign engine end to end through the deployed handlers, in-process, against the emulators: events
// go through ingest → archive → profiles (which publishes activities) → campaign-activity consumer → the
// minute's timer sweep, driven with `{ now }` (a controllable clock: no test waits an hour), and e-mail
// lands in the SES emulator. The abandoned-cart demo campaign, enabled with no holdout and no quiet hours;
// customers in the global control group are not used (their messages are measured, not sent).
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CreateTableCommandInput,
  DeleteTableCommand,
  DescribeTableCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { campaignsTable } from '../../lib/adapters/dynamodb/campaignsTable.js';
import { messagingTable } from '../../lib/adapters/dynamodb/messagingTable.js';
import { createDynamoDbClient, createSqs } from '../../lib/aws/clients.js';
import { inGlobalControl } from '../../lib/campaigns/assignment.js';
import { addDays, instantAt, localDate } from '../../lib/campaigns/localTime.js';
import { CampaignDefinition } from '../../lib/campaigns/model.js';
import { campaignStore } from '../../lib/campaigns/store.js';
import { projectRoot } from '../../lib/projectRoot.js';
import { createActiveTable } from '../../local/provision.js';
import { newId } from '../support/archiveFixtures.js';
import { archiveHarness } from '../support/archiveHarness.js';
import { lambdaContext, receiveMessages } from '../support/archiveQueues.js';
import { type HttpHandler, sqsEvent as lambdaSqsEvent } from '../support/sqsEvents.js';

const MINUTE = 60_000;
const h = archiveHarness();
const sqs = createSqs(h.config);
const raw = createDynamoDbClient(h.config);
const messaging = messagingTable(h.dynamo, h.config.tables.messaging);
const queues: Record<'ingest' | 'activity', { name: string; url: string; arn: string }> = {} as never;
const tables = {
  waits: `${h.config.tables.waits}-${randomUUID().slice(0, 8)}`,
  campaigns: `${h.config.tables.campaigns}-${randomUUID().slice(0, 8)}`,
};

let ingest: HttpHandler;
let archive: typeof import('../../functions/queue/archive.js')['handler'];
let profiles: typeof import('../../functions/queue/profiles.js')['handler'];
let activity: typeof import('../../functions/queue/campaignActivity.js')['handler'];
let timers: typeof import('../../functions/schedule/campaignTimers.js')['handler'];
let segments: typeof import('../../functions/queue/campaignSegments.js')['handler'];
let dates: typeof import('../../functions/schedule/campaignDates.js')['handler'];
let track: APIGatewayProxyEventV2;

/** A copy of a provisioned table's keys and indexes under a new name: this file's own waits and campaigns. */
async function copyTable(from: string, to: string) {
  const { Table } = await raw.send(new DescribeTableCommand({ TableName: from }));
  await createActiveTable(raw, {
    TableName: to,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: Table?.AttributeDefinitions,
    KeySchema: Table?.KeySchema,
    ...(Table?.GlobalSecondaryIndexes && {
      GlobalSecondaryIndexes: Table.GlobalSecondaryIndexes.map((g) => ({
        IndexName: g.IndexName,
        KeySchema: g.KeySchema,
        Projection: g.Projection,
      })),
    }),
  } as CreateTableCommandInput);
}

async function queue(name: string) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: String(QueueUrl), AttributeNames: ['QueueArn'] }),
  );
  return { name, url: String(QueueUrl), arn: String(attrs.Attributes?.QueueArn) };
}

function sqsEvent(
  from: { arn: string },
  messages: readonly { MessageId?: string; Body?: string }[],
): SQSEvent {
  return lambdaSqsEvent(
    messages.map((m) => ({
      messageId: String(m.MessageId),
      receiptHandle: `rh-${m.MessageId}`,
      body: String(m.Body),
    })),
    { arn: from.arn, region: h.config.region, senderId: 'test' },
  );
}

/** Every message a queue holds now (bounded polling: the emulator may hand them out over several calls). */
async function drain(url: string, expectAtLeast: number) {
  const all = [];
  for (let round = 0; round < 20 && all.length < Math.max(expectAtLeast, 1); round++) {
    all.push(...(await receiveMessages(sqs, url, 1)));
  }
  return all;
}

const handledKeys = new Set<string>();
/** The activity messages of the last pipeline run (kept to redeliver one). */
let lastActivityMessages: { MessageId?: string; Body?: string }[] = [];

/**
 * Events of one user through ingest, archive and profiles (the activities they publish), then the
 * campaign-activity consumer. Event times are the wall clock's (the consumers decide at Date.now()).
 */
async function pipeline(userId: string, events: readonly Record<string, unknown>[]) {
  const sent = new Set<string>();
  for (const [i, fields] of events.entries()) {
    const at = Date.now() + i;
    const messageId = newId('evt');
    sent.add(messageId);
    const body = { userId, messageId, timestamp: new Date(at).toISOString(), ...fields };
    const res = await ingest(
      {
        ...track,
        requestContext: { ...track.requestContext, timeEpoch: at },
        rawPath: fields.type === 'identify' ? '/v1/identify' : '/v1/track',
        body: JSON.stringify(body),
      },
      lambdaContext('precis-test-ingest'),
    );
    expect(res.statusCode).toBe(200);
  }
  const keys = new Set<string>();
  const archived = new Set<string>();
  for (let round = 0; archived.size < events.length && round < 20; round++) {
    const messages = await receiveMessages(sqs, queues.ingest.url, 1);
    if (messages.length > 0)
      expect(await archive(sqsEvent(queues.ingest, messages), lambdaContext())).toEqual({
        batchItemFailures: [],
      });
    for await (const r of h.reader.allRecords()) {
      if (r.user_id !== userId || !sent.has(r.message_id)) continue;
      archived.add(r.message_id);
      if (!handledKeys.has(r.key)) keys.add(r.key);
    }
  }
  expect(archived.size).toBe(events.length);
  for (const k of keys) handledKeys.add(k);
  const notification = JSON.stringify({
    Records: [...keys].map((key) => ({
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: h.config.buckets.archive }, object: { key: encodeURIComponent(key) } },
    })),
  });
  expect(
    await profiles(
      sqsEvent(queues.ingest, [{ MessageId: newId('n'), Body: notification }]),
      lambdaContext('precis-test-profiles'),
    ),
  ).toEqual({ batchItemFailures: [] });
  lastActivityMessages = await drain(queues.activity.url, 1);
  expect(lastActivityMessages.length).toBeGreaterThan(0);
  expect(
    await activity(sqsEvent(queues.activity, lastActivityMessages), lambdaContext('precis-test-campaigns')),
  ).toEqual({ batchItemFailures: [] });
}

/** The sweep as the schedule runs it, at a time that never goes back (the waits table's watermark). */
let clock = 0;
async function sweep(at: number) {
  clock = Math.max(clock + 1000, at);
  return (await timers({ now: new Date(clock).toISOString() }, lambdaContext('precis-test-timers'))) as {
    fired: number;
    sent: number;
  };
}

interface StoredEmail {
  destination: { to: string[] };
  subject: string;
  body: { html?: string; text?: string };
  headers?: { name: string; value: string }[];
}
async function emailsTo(address: string): Promise<StoredEmail[]> {
  const res = await fetch(`${h.config.endpoints.ses}/store`);
  const { emails } = (await res.json()) as { emails: StoredEmail[] };
  return emails.filter((e) => e.destination.to.includes(address));
}

/**
 * A new customer with an e-mail address and explicit marketing consent by e-mail (an identify), outside
 * the global control group (drawn again until one is: 5 % of ids are in it).
 */
async function newCustomer(): Promise<{ userId: string; email: string; customerId: string }> {
  const c = h.config.sendDecision;
  for (let attempt = 0; attempt < 10; attempt++) {
    const userId = newId('u-cart');
    const email = `${userId}@example.com`.toLowerCase();
    await pipeline(userId, [
      { type: 'identify', traits: { email, firstName: 'Ada', consent: { marketing: { email: true } } } },
    ]);
    const customerId = await customerOf(userId);
    if (!inGlobalControl(customerId, c.controlSalt, c.controlPercent)) return { userId, email, customerId };
  }
  throw new Error('ten customers in a row in the control group');
}

/** The customer id of a userId, read through the identity store the handlers use. */
async function customerOf(userId: string): Promise<string> {
  const { identityTable } = await import('../../lib/adapters/dynamodb/identityTable.js');
  const nodes = await identityTable(h.dynamo, h.config.tables.identity).getNodes([`user:${userId}`]);
  const id = nodes.get(`user:${userId}`)?.customerId;
  if (!id) throw new Error(`no customer for ${userId}`);
  return id;
}

interface Scheduled {
  scheduled: number;
  alreadyScheduled: number;
}
/** The hourly date job as the schedule runs it, for the hour of `at`. */
const scheduleHour = (at: number) =>
  dates({ now: new Date(at).toISOString() }, lambdaContext('precis-test-dates')) as Promise<{
    dates: Scheduled;
    inactivity: Scheduled & { read: number };
  }>;

const decisions = async (customerId: string, campaignId = 'abandoned-cart') =>
  (await messaging.customerDecisions(customerId, { limit: 50 })).items.filter(
    (d) => d.campaignId === campaignId,
  );

const cartAdd = (cart: string) => ({
  event: 'Product Added',
  properties: { product_id: 'sku-123', price: 49.9, quantity: 1, currency: 'EUR', cart_id: cart },
});

beforeAll(async () => {
  queues.ingest = await queue(newId('precis-engine-ingest'));
  queues.activity = await queue(newId('precis-engine-activity'));
  await copyTable(h.config.tables.waits, tables.waits);
  await copyTable(h.config.tables.campaigns, tables.campaigns);
  for (const [key, value] of Object.entries(inject('stackEnv'))) vi.stubEnv(key, value);
  vi.stubEnv('PRECIS_QUEUE_INGEST', queues.ingest.name);
  vi.stubEnv('PRECIS_QUEUE_CAMPAIGN_ACTIVITY', queues.activity.name);
  vi.stubEnv('PRECIS_TABLE_WAITS', tables.waits);
  vi.stubEnv('PRECIS_TABLE_CAMPAIGNS', tables.campaigns);
  // The stage's default quiet hours (21:00-08:00 local) would make the outcome depend on the hour the
  // suite runs at: off, as the campaign's own are below.
  vi.stubEnv('PRECIS_QUIET_HOURS', 'off');
  vi.stubEnv('PRECIS_LOG_LEVEL', 'SILENT');
  if (!inject('stackEnv').PRECIS_PII_LOCAL_KEY)
    vi.stubEnv('PRECIS_PII_LOCAL_KEY', randomBytes(32).toString('base64'));
  if (!inject('stackEnv').PRECIS_HMAC_SECRET)
    vi.stubEnv('PRECIS_HMAC_SECRET', randomBytes(32).toString('base64url'));
  ({ handler: ingest } = await import('../../functions/http/ingest.js'));
  ({ handler: archive } = await import('../../functions/queue/archive.js'));
  ({ handler: profiles } = await import('../../functions/queue/profiles.js'));
  ({ handler: activity } = await import('../../functions/queue/campaignActivity.js'));
  ({ handler: timers } = await import('../../functions/schedule/campaignTimers.js'));
  ({ handler: segments } = await import('../../functions/queue/campaignSegments.js'));
  ({ handler: dates } = await import('../../functions/schedule/campaignDates.js'));
  track = JSON.parse(await readFile(join(projectRoot(), 'events', 'http', 'track.json'), 'utf8'));
  const { apiKeysTable } = await import('../../lib/adapters/dynamodb/apiKeysTable.js');
  const { createApiKey } = await import('../../lib/auth/apiKeys.js');
  await createApiKey(
    { role: 'write', sourceId: 'demo', name: 'campaign engine test' },
    apiKeysTable(h.dynamo, h.config.tables.apiKeys),
    Date.now,
    'local_demo',
  ).catch(() => {});
  // The demo campaigns as shipped, enabled, with no holdout and no quiet hours, sent at once (see the
  // header).
  const store = campaignStore(campaignsTable(h.dynamo, tables.campaigns));
  for (const id of ['abandoned-cart', 'win-back', 'birthday', 'inactivity']) {
    const demo = JSON.parse(await readFile(join(projectRoot(), 'campaigns', `${id}.json`), 'utf8'));
    const { quietHours: _quiet, ...rest } = demo;
    const saved = await store.save(
      CampaignDefinition.parse({
        ...rest,
        enabled: true,
        holdoutPercent: 0,
        sendTime: { mode: 'immediate' },
      }),
      { create: true, now: Date.now() },
    );
    expect(saved.ok).toBe(true);
  }
}, 120_000);

afterAll(async () => {
  for (const q of Object.values(queues))
    await sqs.send(new DeleteQueueCommand({ QueueUrl: q.url })).catch(() => {});
  for (const t of Object.values(tables))
    await raw.send(new DeleteTableCommand({ TableName: t })).catch(() => {});
  vi.unstubAllEnvs();
});

describe('the abandoned-cart campaign through the handlers', () => {
  it('sends one e-mail with one coupon an hour after a cart add, and nothing more on a second sweep or a redelivered activity', async () => {
    const { userId, email, customerId } = await newCustomer();
    const start = Date.now();
    await pipeline(userId, [cartAdd(newId('cart'))]);

    // Half-way through the wait nothing is due.
    expect((await sweep(start + 30 * MINUTE)).fired).toBe(0);
    expect(await emailsTo(email)).toEqual([]);

    const swept = await sweep(start + 61 * MINUTE);
    expect(swept.sent).toBeGreaterThanOrEqual(1);
    const sent = await emailsTo(email);
    expect(sent).toHaveLength(1);
    const codes = sent[0]?.body.text?.match(/CART-[0-9A-Z]{4}-[0-9A-Z]{4}/g) ?? [];
    expect(new Set(codes).size).toBe(1);
    expect(sent[0]?.subject).toContain('Ada');
    const headers = Object.fromEntries((sent[0]?.headers ?? []).map((x) => [x.name, x.value]));
    expect(headers['List-Unsubscribe']).toMatch(/\/v1\/unsubscribe\?token=/);
    expect((await decisions(customerId)).map((d) => d.outcome)).toEqual(['send']);

    // Again a minute later: nothing is due any more.
    expect((await sweep(start + 62 * MINUTE)).sent).toBe(0);
    // The cart add's activity delivered again: its wait opens anew and fires, but the send is claimed.
    expect(
      await activity(sqsEvent(queues.activity, lastActivityMessages), lambdaContext('precis-test-campaigns')),
    ).toEqual({ batchItemFailures: [] });
    expect((await sweep(start + 63 * MINUTE)).sent).toBe(0);
    expect(await emailsTo(email)).toHaveLength(1);
  }, 180_000);

  it('acts on the next cart with a campaign enabled after the handlers listed the campaigns, not a minute later', async () => {
    const { userId, customerId } = await newCustomer();
    // The handlers' containers have listed the enabled campaigns (newCustomer ran the pipeline): a second
    // cart campaign, for one product, is saved enabled now, and the cart comes right after the save.
    const id = `cart-late-${randomUUID().slice(0, 8)}`;
    const shipped = JSON.parse(
      await readFile(join(projectRoot(), 'campaigns', 'abandoned-cart.json'), 'utf8'),
    );
    const { quietHours: _quiet, ...rest } = shipped;
    const store = campaignStore(campaignsTable(h.dynamo, tables.campaigns));
    const saved = await store.save(
      CampaignDefinition.parse({
        ...rest,
        id,
        enabled: true,
        holdoutPercent: 0,
        trigger: { ...rest.trigger, where: { product_id: 'sku-late' } },
      }),
      { create: true, now: Date.now() },
    );
    expect(saved.ok).toBe(true);
    const start = Date.now();
    await pipeline(userId, [
      { event: 'Product Added', properties: { product_id: 'sku-late', cart_id: newId('cart') } },
    ]);
    await sweep(start + 61 * MINUTE);
    expect((await decisions(customerId, id)).length).toBe(1);
    await store.setEnabled(id, false, Date.now());
  }, 180_000);

  it('sends nothing when the order comes inside the wait', async () => {
    const { userId, email, customerId } = await newCustomer();
    const start = Date.now();
    const cart = newId('cart');
    await pipeline(userId, [
      cartAdd(cart),
      { event: 'Order Completed', properties: { order_id: newId('o'), revenue: 49.9, currency: 'EUR' } },
    ]);
    await sweep(start + 61 * MINUTE);
    expect(await emailsTo(email)).toEqual([]);
    expect(await decisions(customerId)).toEqual([]);
  }, 180_000);

  it('never contacts an unsubscribed customer, and logs the skip', async () => {
    const { userId, email, customerId } = await newCustomer();
    await messaging.putUnsubscribe(customerId, {
      status: 'revoked',
      source: 'unsubscribe-link',
      at: new Date().toISOString(),
    });
    const start = Date.now();
    await pipeline(userId, [cartAdd(newId('cart'))]);
    await sweep(start + 61 * MINUTE);
    expect(await emailsTo(email)).toEqual([]);
    expect((await decisions(customerId)).map((d) => [d.outcome, d.reason])).toEqual([
      ['skip', 'unsubscribed'],
    ]);
  }, 180_000);

  it('sends the win-back campaign once when a published run moves a buyer into churn-risk, the message redelivered', async () => {
    const { userId, email, customerId } = await newCustomer();
    await pipeline(userId, [
      { event: 'Order Completed', properties: { order_id: newId('o'), revenue: 80, currency: 'EUR' } },
    ]);
    const message = {
      MessageId: newId('seg'),
      Body: JSON.stringify({
        v: 1,
        runId: newId('seg_run'),
        asOf: new Date().toISOString(),
        changes: [{ customerId, from: 'high-value', to: 'churn-risk', reasons: ['no order lately'] }],
      }),
    };
    for (let delivery = 0; delivery < 2; delivery++)
      expect(
        await segments(sqsEvent(queues.activity, [message]), lambdaContext('precis-test-segments')),
      ).toEqual({ batchItemFailures: [] });
    const sent = await emailsTo(email);
    expect(sent).toHaveLength(1);
    // Either of the campaign's two subject lines (variants are assigned by a hash of the customer).
    expect(sent[0]?.subject).toMatch(/^(We miss you, Ada: 15 € on us|Ada, see what's new \(and 15 € off\))$/);
    expect(sent[0]?.body.text).toMatch(/BACK-[0-9A-Z]{4}-[0-9A-Z]{4}/);
    // The redelivery was decided again (re-entry: the cooldown since the first send) and sent nothing.
    expect((await decisions(customerId, 'win-back')).map((d) => d.outcome).sort()).toEqual(['send', 'skip']);
  }, 180_000);

  it("sends a birthday e-mail at 09:00 in the customer's zone, once, however often the hour is scheduled and swept", async () => {
    const { userId, email, customerId } = await newCustomer();
    // A birthday tomorrow in Kolkata (UTC+05:30): its moment is 03:30 UTC, never on the hour.
    const zone = 'Asia/Kolkata';
    const day = addDays(localDate(Date.now(), zone), 1);
    await pipeline(userId, [
      { type: 'identify', traits: { birthday: `2000-${day.slice(5)}` }, context: { timezone: zone } },
    ]);
    const moment = instantAt(day, 9 * 60, zone);
    const hour = async (at: number) => (await scheduleHour(at)).dates;

    expect((await hour(moment - 2 * 60 * MINUTE)).scheduled).toBe(0); // an hour too early
    expect((await hour(moment)).scheduled).toBeGreaterThanOrEqual(1);
    expect((await hour(moment)).alreadyScheduled).toBeGreaterThanOrEqual(1); // the hour re-run

    await sweep(moment - MINUTE);
    expect(await emailsTo(email)).toEqual([]);
    expect((await sweep(moment)).sent).toBeGreaterThanOrEqual(1);
    const sent = await emailsTo(email);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject).toBe('Happy birthday, Ada! A gift inside');
    expect(sent[0]?.body.text).toMatch(/BDAY-[0-9A-Z]{4}-[0-9A-Z]{4}/);

    // The hour scheduled again after the send (an operator's re-run): the send is claimed already.
    await hour(moment);
    await sweep(moment + MINUTE);
    expect(await emailsTo(email)).toHaveLength(1);
    expect((await decisions(customerId, 'birthday')).map((d) => d.triggerKey)).toContain(
      `birthday:${day.slice(0, 4)}`,
    );
  }, 180_000);

  it('sends the inactivity nudge once at the midnight a buyer has gone 60 days without an order, and not to one who came back', async () => {
    // Orders at noon UTC 61 days before a midnight (UTC) two days past the sweep's clock: their 60 days
    // without one end then. Past the sweep's clock, not the wall clock's: the tests above moved the sweep
    // on (up to two days, by the hour the suite runs at), and a send due before its watermark would never
    // be swept, as it never is for real.
    const midnight = (Math.floor(Math.max(clock, Date.now()) / (1440 * MINUTE)) + 2) * 1440 * MINUTE;
    const lastOrder = new Date(midnight - 61 * 1440 * MINUTE + 720 * MINUTE).toISOString();
    const order = (timestamp: string) => ({
      event: 'Order Completed',
      timestamp,
      properties: { order_id: newId('o'), revenue: 42, currency: 'EUR' },
    });
    const lapsed = await newCustomer();
    await pipeline(lapsed.userId, [order(lastOrder)]);
    const returned = await newCustomer();
    await pipeline(returned.userId, [order(lastOrder), order(new Date().toISOString())]);

    // Any other hour schedules no lapse: they all end at a midnight.
    expect((await scheduleHour(midnight + 60 * MINUTE)).inactivity.read).toBe(0);
    const first = (await scheduleHour(midnight + 5 * MINUTE)).inactivity;
    expect(first.scheduled).toBeGreaterThanOrEqual(1);
    expect((await scheduleHour(midnight + 30 * MINUTE)).inactivity.alreadyScheduled).toBe(
      first.scheduled + first.alreadyScheduled,
    );
    await sweep(midnight + MINUTE);
    const sent = await emailsTo(lapsed.email);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject).toBe("Ada, it's been a while");
    expect((await decisions(lapsed.customerId, 'inactivity')).map((d) => d.triggerKey)).toEqual([
      `order-inactive:${lastOrder.slice(0, 10)}`,
    ]);
    expect(await emailsTo(returned.email)).toEqual([]);
    expect(await decisions(returned.customerId, 'inactivity')).toEqual([]);
  }, 180_000);
});

describe('the back-test of a campaign over the archive', () => {
  it('replays a disabled campaign over a past day: a cart left fires once after its wait, an ordered cart never, an unsubscribed customer is a skip', async () => {
    // Its own copy of the abandoned-cart campaign, disabled (the live engine ignores it), matching only
    // this test's events (the archive is shared with the other tests).
    const category = newId('backtest');
    const demo = JSON.parse(await readFile(join(projectRoot(), 'campaigns', 'abandoned-cart.json'), 'utf8'));
    const { quietHours: _quiet, ...rest } = demo;
    const store = campaignStore(campaignsTable(h.dynamo, tables.campaigns));
    const saved = await store.save(
      CampaignDefinition.parse({
        ...rest,
        id: 'backtest-cart',
        enabled: false,
        holdoutPercent: 0,
        sendTime: { mode: 'immediate' },
        trigger: { ...rest.trigger, where: { category } },
      }),
      { create: true, now: Date.now() },
    );
    expect(saved.ok).toBe(true);

    // Two days ago (UTC): within the days the archive's partitions of today may hold late events for.
    const day = addDays(localDate(Date.now(), 'UTC'), -2);
    const at = (hhmm: string) => `${day}T${hhmm}:00.000Z`;
    const add = (cart: string, hhmm: string) => ({
      ...cartAdd(cart),
      properties: { ...cartAdd(cart).properties, category },
      timestamp: at(hhmm),
    });
    const left = await newCustomer();
    const leftCart = newId('cart');
    // A second add to the same open cart opens no second wait.
    await pipeline(left.userId, [add(leftCart, '10:00'), add(leftCart, '10:30')]);
    const ordered = await newCustomer();
    await pipeline(ordered.userId, [
      add(newId('cart'), '10:00'),
      {
        event: 'Order Completed',
        properties: { order_id: newId('o'), revenue: 49.9, currency: 'EUR' },
        timestamp: at('10:20'),
      },
    ]);
    const unsubscribed = await newCustomer();
    await messaging.putUnsubscribe(unsubscribed.customerId, {
      status: 'revoked',
      source: 'unsubscribe-link',
      at: new Date().toISOString(),
    });
    await pipeline(unsubscribed.userId, [add(newId('cart'), '12:00')]);

    const { runBacktest } = await import('../../lib/campaigns/backtest.js');
    const { backtestDeps } = await import('../../lib/runtime.js');
    const replayed = await runBacktest('backtest-cart', { from: day, to: day }, backtestDeps());
    if (!replayed.ok) throw new Error(JSON.stringify(replayed));
    const r = replayed.value;
    expect(r).toMatchObject({
      campaignId: 'backtest-cart',
      from: day,
      to: day,
      candidates: 2,
      wouldSend: 1,
      control: 0,
      holdout: 0,
      skipped: { unsubscribed: 1 },
      customersReached: 1,
      pendingAtEnd: 0,
      truncated: false,
    });
    expect(r.events).toBeGreaterThanOrEqual(5);
    expect(r.days).toEqual([
      { day, candidates: 2, wouldSend: 1, control: 0, holdout: 0, skipped: { unsubscribed: 1 } },
    ]);
    // Nothing was sent or logged: a back-test only counts.
    for (const c of [left, ordered, unsubscribed]) {
      expect(await emailsTo(c.email)).toEqual([]);
      expect(await decisions(c.customerId, 'backtest-cart')).toEqual([]);
    }

    // The day before: nothing of this campaign's.
    const before = await runBacktest(
      'backtest-cart',
      { from: addDays(day, -1), to: addDays(day, -1) },
      backtestDeps(),
    );
    expect(before.ok && before.value.candidates).toBe(0);
    // A period not yet over, and a trigger the archive cannot replay, are 400s naming the field.
    const today = localDate(Date.now(), 'UTC');
    const open = await runBacktest('backtest-cart', { from: day, to: today }, backtestDeps());
    expect(open).toMatchObject({ ok: false, reason: 'invalid', issues: [{ path: 'to', code: 'not_ended' }] });
    const birthday = await runBacktest('birthday', { from: day, to: day }, backtestDeps());
    expect(birthday).toMatchObject({
      ok: false,
      issues: [{ path: 'trigger.type', code: 'not_backtestable' }],
    });
    expect(await runBacktest('no-such-campaign', { from: day, to: day }, backtestDeps())).toMatchObject({
      ok: false,
      reason: 'not_found',
    });
  }, 180_000);
});
