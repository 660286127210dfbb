// The messaging routes' handlers as deployed (withHttp, config from the environment, runtime wiring)
// invoked in-process against the emulators: one-click unsubscribe with a real form body and no key, its
// confirm page that changes nothing, refusals of bad tokens, and the consent and decision-log routes.
import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { apiKeysTable } from '../../lib/adapters/dynamodb/apiKeysTable.js';
import { identityTable } from '../../lib/adapters/dynamodb/identityTable.js';
import { messagingTable } from '../../lib/adapters/dynamodb/messagingTable.js';
import { createApiKey } from '../../lib/auth/apiKeys.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import { signUnsubscribeToken, UNSUBSCRIBE_TOKEN_TTL_DAYS } from '../../lib/campaigns/unsubscribeToken.js';
import { customerIdOf, identityRules } from '../../lib/identity/graph.js';
import { linksOf } from '../../lib/identity/links.js';
import { userNode } from '../../lib/identity/nodes.js';
import { recordLinks } from '../../lib/identity/resolve.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { recordingLogger } from '../support/archiveFixtures.js';
import { lambdaContext } from '../support/archiveQueues.js';
import { testConfig } from '../support/provided.js';
import type { HttpHandler } from '../support/sqsEvents.js';

const SECRET = randomBytes(32).toString('base64url');
const config = testConfig({ PRECIS_HMAC_SECRET: SECRET });
const dynamo = createDynamoDb(config);
const store = messagingTable(dynamo, config.tables.messaging);
const DAY = 86_400_000;
let routes: typeof import('../../functions/http/messaging.js');
let writeKey: string;
let readKey: string;

interface Call {
  method?: 'GET' | 'POST' | 'PUT';
  path?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  base64?: boolean;
}

function httpEvent({
  method = 'GET',
  path,
  query,
  headers = {},
  body,
  base64,
}: Call): APIGatewayProxyEventV2 {
  const rawQueryString = new URLSearchParams(query).toString();
  return {
    version: '2.0',
    routeKey: `${method} /test`,
    rawPath: '/test',
    rawQueryString,
    headers,
    pathParameters: path,
    queryStringParameters: query,
    requestContext: { http: { method }, timeEpoch: Date.now() } as APIGatewayProxyEventV2['requestContext'],
    body: body === undefined ? undefined : base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: Boolean(base64),
  };
}

async function call(handler: HttpHandler, init: Call) {
  const res = await handler(httpEvent(init), lambdaContext('precis-test-messaging', 10_000));
  const headers = Object.fromEntries(
    Object.entries(res.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  const text = res.body ?? '';
  const json = headers['content-type']?.startsWith('application/json')
    ? (JSON.parse(text) as Record<string, unknown>)
    : undefined;
  return { status: res.statusCode, headers, text, json };
}

/** The decision times of a page, in order. */
const atsOf = (page: Record<string, unknown> | undefined) =>
  ((page?.items ?? []) as { at: string }[]).map((d) => d.at);

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** A customer known to the identity graph by a userId; returns the userId and its customer id. */
async function newCustomer(): Promise<{ userId: string; customerId: string }> {
  const userId = `unsub-${randomUUID()}`;
  const at = new Date().toISOString();
  const event = {
    messageId: randomUUID(),
    type: 'identify',
    userId,
    timestamp: at,
    receivedAt: at,
    sourceId: 'test',
  };
  await recordLinks([linksOf(event as NormalizedEvent)], {
    store: identityTable(dynamo, config.tables.identity),
    rules: identityRules(config.identifiers),
    now: Date.now,
    log: recordingLogger().log,
  });
  return { userId, customerId: customerIdOf(userNode(userId)) };
}

const tokenFor = (customerId: string, issuedAt = Date.now()) =>
  signUnsubscribeToken({ customerId, channel: 'email', campaignId: 'abandoned-cart', issuedAt }, SECRET);

beforeAll(async () => {
  for (const [key, value] of Object.entries(inject('stackEnv'))) vi.stubEnv(key, value);
  vi.stubEnv('PRECIS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('PRECIS_HMAC_SECRET', SECRET);
  routes = await import('../../functions/http/messaging.js');
  const keys = apiKeysTable(dynamo, config.tables.apiKeys);
  writeKey = (await createApiKey({ role: 'write', sourceId: 'pos', name: 'pos' }, keys)).key;
  readKey = (await createApiKey({ role: 'read', sourceId: 'bi', name: 'bi' }, keys)).key;
});

afterAll(() => {
  vi.unstubAllEnvs();
  dynamo.destroy();
});

describe('one-click unsubscribe', () => {
  it('GET shows a confirm page whose form posts back, and unsubscribes nobody', async () => {
    const { customerId } = await newCustomer();
    const token = tokenFor(customerId);
    const page = await call(routes.unsubscribeForm, { query: { token } });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<form method="post"');
    expect(page.text).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(page.headers['content-security-policy']).toContain("form-action 'self'");
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    const snap = await store.snapshot(customerId, { localDays: [] });
    expect(snap.unsubscribe).toBeUndefined();
    expect(snap.consent).toEqual({});
  });

  it('POST List-Unsubscribe=One-Click (no key, no cookie) unsubscribes from all marketing, and again is 200', async () => {
    const { customerId, userId } = await newCustomer();
    const token = tokenFor(customerId);
    const first = await call(routes.unsubscribeOneClick, {
      method: 'POST',
      query: { token },
      headers: FORM,
      body: 'List-Unsubscribe=One-Click',
    });
    expect(first.status).toBe(200);
    expect(first.text).toContain('You are unsubscribed');
    // API Gateway may hand the form over base64-encoded: same answer.
    const again = await call(routes.unsubscribeOneClick, {
      method: 'POST',
      query: { token },
      headers: FORM,
      body: 'List-Unsubscribe=One-Click',
      base64: true,
    });
    expect(again.status).toBe(200);

    const consent = await call(routes.getConsent, { path: { id: userId }, headers: auth(readKey) });
    expect(consent.status).toBe(200);
    expect(consent.json).toMatchObject({
      customerId,
      unsubscribe: { status: 'revoked', source: 'unsubscribe-link' },
      consent: [],
    });
  });

  it('POST with scope=channel revokes marketing on the link’s channel only', async () => {
    const { customerId } = await newCustomer();
    const res = await call(routes.unsubscribeOneClick, {
      method: 'POST',
      query: { token: tokenFor(customerId) },
      headers: FORM,
      body: 'List-Unsubscribe=One-Click&scope=channel',
    });
    expect(res.status).toBe(200);
    const snap = await store.snapshot(customerId, { localDays: [] });
    expect(snap.unsubscribe).toBeUndefined();
    expect(snap.consent).toEqual({
      marketing: { email: { status: 'revoked', source: 'unsubscribe-link', at: expect.any(String) } },
    });
  });

  it('refuses altered, expired and foreign tokens with a 400 naming the reason, and changes nothing', async () => {
    const { customerId } = await newCustomer();
    const token = tokenFor(customerId);
    const [payload = '', mac = ''] = token.split('.');
    const altered = `${payload}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`;
    const expired = tokenFor(customerId, Date.now() - (UNSUBSCRIBE_TOKEN_TTL_DAYS + 1) * DAY);
    const foreign = signUnsubscribeToken(
      { customerId, channel: 'email', campaignId: 'abandoned-cart', issuedAt: Date.now() },
      'the-secret-of-another-stage',
    );
    for (const [bad, code] of [
      [altered, 'bad_signature'],
      [expired, 'expired'],
      [foreign, 'bad_signature'],
      ['not-a-token', 'malformed'],
    ] as const) {
      const res = await call(routes.unsubscribeOneClick, {
        method: 'POST',
        query: { token: bad },
        headers: FORM,
        body: 'List-Unsubscribe=One-Click',
      });
      expect(res.status, code).toBe(400);
      expect(res.json?.message).toMatch(/^The unsubscribe link is not valid: /);
      expect(res.json?.details).toEqual([expect.objectContaining({ path: 'token', code })]);
      const page = await call(routes.unsubscribeForm, { query: { token: bad } });
      expect(page.status).toBe(400);
      expect(page.text).toContain('This link does not work');
    }
    const missing = await call(routes.unsubscribeOneClick, {
      method: 'POST',
      headers: FORM,
      body: 'List-Unsubscribe=One-Click',
    });
    expect(missing.status).toBe(400);
    const notOneClick = await call(routes.unsubscribeOneClick, {
      method: 'POST',
      query: { token },
      headers: FORM,
      body: 'unsubscribe=yes',
    });
    expect(notOneClick.status).toBe(400);
    expect(notOneClick.json?.details).toEqual([
      expect.objectContaining({ path: 'body', code: 'not_one_click' }),
    ]);
    expect((await store.snapshot(customerId, { localDays: [] })).unsubscribe).toBeUndefined();
  });
});

describe('consent and decision-log routes', () => {
  it('records consent with a write key (latest wins), reads it with a read key, refuses a read key writing', async () => {
    const { userId, customerId } = await newCustomer();
    const put = (body: unknown, key = writeKey) =>
      call(routes.putConsent, {
        method: 'PUT',
        path: { id: userId },
        headers: { ...auth(key), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const newer = await put({ channel: 'sms', status: 'granted', source: 'pos', at: '2026-12-01T10:00:00Z' });
    expect(newer.status).toBe(200);
    expect(newer.json).toMatchObject({ customerId, purpose: 'marketing', channel: 'sms', applied: true });
    const older = await put({
      channel: 'sms',
      status: 'revoked',
      source: 'import',
      at: '2026-11-01T10:00:00Z',
    });
    expect(older.json).toMatchObject({ applied: false, current: { status: 'granted', source: 'pos' } });
    expect((await put({ channel: 'sms', status: 'revoked' }, readKey)).status).toBe(403);
    expect((await put({ purpose: 'recommendations', channel: 'all', status: 'revoked' })).status).toBe(400);
    const future = await put({
      channel: 'sms',
      status: 'revoked',
      at: new Date(Date.now() + DAY).toISOString(),
    });
    expect(future.status).toBe(400);

    const read = await call(routes.getConsent, { path: { id: customerId }, headers: auth(readKey) });
    expect(read.json).toEqual({
      customerId,
      unsubscribe: null,
      consent: [
        {
          purpose: 'marketing',
          channel: 'sms',
          status: 'granted',
          source: 'pos',
          at: '2026-12-01T10:00:00.000Z',
          by: expect.stringMatching(/^key:/),
        },
      ],
    });
    const unknown = await call(routes.getConsent, {
      path: { id: `nobody-${randomUUID()}` },
      headers: auth(readKey),
    });
    expect(unknown.status).toBe(404);
  });

  it('pages decisions per customer and per campaign; a forged cursor is a 400 naming cursor', async () => {
    const { userId, customerId } = await newCustomer();
    const campaignId = `it-${randomUUID().slice(0, 8)}`;
    const at = (i: number) => new Date(Date.parse('2026-12-01T10:00:00Z') + i * 1000).toISOString();
    for (let i = 0; i < 3; i++) {
      await store.logDecision({
        customerId,
        campaignId,
        triggerKey: `t${i}`,
        at: at(i),
        outcome: 'skip',
        reason: 'no_consent',
      });
    }
    const first = await call(routes.customerDecisionLog, {
      path: { id: userId },
      query: { limit: '2' },
      headers: auth(readKey),
    });
    expect(first.status).toBe(200);
    expect(atsOf(first.json)).toEqual([at(2), at(1)]);
    const second = await call(routes.customerDecisionLog, {
      path: { id: userId },
      query: { limit: '2', cursor: String(first.json?.nextCursor) },
      headers: auth(readKey),
    });
    expect(atsOf(second.json)).toEqual([at(0)]);

    const byCampaign = await call(routes.campaignDecisionLog, {
      path: { id: campaignId },
      headers: auth(readKey),
    });
    expect(byCampaign.json).toMatchObject({
      campaignId,
      items: [{ triggerKey: 't2' }, { triggerKey: 't1' }, { triggerKey: 't0' }],
    });

    const forged = Buffer.from(JSON.stringify({ pk: customerId, sk: 'send#snd_x', at: at(0) })).toString(
      'base64url',
    );
    const refused = await call(routes.customerDecisionLog, {
      path: { id: userId },
      query: { cursor: forged },
      headers: auth(readKey),
    });
    expect(refused.status).toBe(400);
    expect(refused.json?.details).toEqual([expect.objectContaining({ path: 'cursor' })]);
  });
});
