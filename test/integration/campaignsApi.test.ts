// The campaigns routes' handlers as deployed (withHttp, config from the environment, runtime wiring)
// invoked in-process against the emulators: create (201, 409), the 400s of a bad schema and of a bad
// template with their field paths, read keys reading but not writing, versions with expectedVersion,
// enable, disable, soft delete, and the body limit.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { apiKeysTable } from '../../lib/adapters/dynamodb/apiKeysTable.js';
import { createApiKey } from '../../lib/auth/apiKeys.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import { loadDemoCampaigns } from '../../lib/campaigns/demo.js';
import type { CampaignDefinition } from '../../lib/campaigns/model.js';
import { lambdaContext } from '../support/archiveQueues.js';
import { testConfig } from '../support/provided.js';
import type { HttpHandler } from '../support/sqsEvents.js';

const config = testConfig();
const dynamo = createDynamoDb(config);
let routes: typeof import('../../functions/http/campaigns.js');
let adminKey: string;
let readKey: string;
let demo: CampaignDefinition;

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  key: string;
  path?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

function httpEvent({ method, key, path, query, body }: Call): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} /v1/campaigns`,
    rawPath: '/v1/campaigns',
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    pathParameters: path,
    queryStringParameters: query,
    requestContext: { http: { method }, timeEpoch: Date.now() } as APIGatewayProxyEventV2['requestContext'],
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

async function call(handler: HttpHandler, init: Call) {
  const res = await handler(httpEvent(init), lambdaContext('precis-test-campaigns', 10_000));
  return { status: res.statusCode, body: JSON.parse(res.body ?? '{}') as Record<string, unknown> };
}

/** The demo abandoned cart under a fresh id: tests share the table and never wipe it. */
const fresh = (changes: Partial<CampaignDefinition> = {}) => ({
  ...demo,
  id: `api-${randomUUID()}`,
  ...changes,
});

beforeAll(async () => {
  for (const [key, value] of Object.entries(inject('stackEnv'))) vi.stubEnv(key, value);
  vi.stubEnv('PRECIS_LOG_LEVEL', 'SILENT');
  routes = await import('../../functions/http/campaigns.js');
  const keys = apiKeysTable(dynamo, config.tables.apiKeys);
  adminKey = (await createApiKey({ role: 'admin', sourceId: 'ops', name: 'ops' }, keys)).key;
  readKey = (await createApiKey({ role: 'read', sourceId: 'bi', name: 'bi' }, keys)).key;
  const cart = (await loadDemoCampaigns()).find((c) => c.id === 'abandoned-cart');
  if (!cart) throw new Error('no abandoned-cart demo campaign');
  demo = cart;
});

afterAll(() => {
  vi.unstubAllEnvs();
  dynamo.destroy();
});

describe('campaigns API handlers', () => {
  it('creates a campaign once; read keys read it but may not write', async () => {
    const def = fresh();
    const created = await call(routes.create, { method: 'POST', key: adminKey, body: def });
    expect(created).toMatchObject({
      status: 201,
      body: { id: def.id, version: 1, enabled: false, archived: false },
    });
    expect(await call(routes.create, { method: 'POST', key: adminKey, body: def })).toMatchObject({
      status: 409,
      body: { error: 'conflict' },
    });
    expect((await call(routes.create, { method: 'POST', key: readKey, body: fresh() })).status).toBe(403);

    const read = await call(routes.get, { method: 'GET', key: readKey, path: { id: def.id } });
    expect(read).toMatchObject({ status: 200, body: { id: def.id, name: def.name, version: 1 } });
    expect(read.body.variants).toEqual(def.variants);
    expect(
      (await call(routes.get, { method: 'GET', key: readKey, path: { id: `api-${randomUUID()}` } })).status,
    ).toBe(404);
  });

  it('refuses an unknown template variable and a bad schema with the path of each field', async () => {
    const [variant] = demo.variants;
    if (!variant?.content.email) throw new Error('the demo has no e-mail content');
    const typo = fresh({
      variants: [
        {
          ...variant,
          content: {
            ...variant.content,
            email: { ...variant.content.email, subject: 'Hi {{ customer.trait.firstName }}' },
          },
        },
      ],
    });
    const refused = await call(routes.create, { method: 'POST', key: adminKey, body: typo });
    expect(refused).toMatchObject({
      status: 400,
      body: {
        error: 'bad_request',
        details: [
          expect.objectContaining({ path: 'variants[0].content.email.subject', code: 'unknown_variable' }),
        ],
      },
    });
    expect((await call(routes.get, { method: 'GET', key: adminKey, path: { id: typo.id } })).status).toBe(
      404,
    );

    const bad = { ...fresh(), channels: ['fax'], quietHours: { start: '25:00', end: '08:00' } };
    const schema = await call(routes.create, { method: 'POST', key: adminKey, body: bad });
    expect(schema.status).toBe(400);
    expect((schema.body.details as { path: string }[]).map((d) => d.path)).toEqual(
      expect.arrayContaining(['channels[0]', 'quietHours.start']),
    );
  });

  it('saves versions with expectedVersion, reads past ones, enables, disables and deletes softly', async () => {
    const def = fresh();
    const id = def.id;
    await call(routes.create, { method: 'POST', key: adminKey, body: def });

    const v2 = await call(routes.update, {
      method: 'PUT',
      key: adminKey,
      path: { id },
      body: { ...def, id: undefined, name: 'Cart reminder v2', expectedVersion: 1 },
    });
    expect(v2).toMatchObject({ status: 200, body: { id, version: 2, name: 'Cart reminder v2' } });
    const stale = await call(routes.update, {
      method: 'PUT',
      key: adminKey,
      path: { id },
      body: { ...def, name: 'Lost update', expectedVersion: 1 },
    });
    expect(stale).toMatchObject({ status: 409, body: { error: 'conflict' } });
    const mismatch = await call(routes.update, {
      method: 'PUT',
      key: adminKey,
      path: { id },
      body: { ...def, id: 'other' },
    });
    expect(mismatch).toMatchObject({
      status: 400,
      body: { details: [expect.objectContaining({ path: 'id' })] },
    });

    expect(
      await call(routes.get, { method: 'GET', key: readKey, path: { id }, query: { version: '1' } }),
    ).toMatchObject({ status: 200, body: { version: 1, name: def.name } });
    expect(
      (await call(routes.get, { method: 'GET', key: readKey, path: { id }, query: { version: '9' } })).status,
    ).toBe(404);

    expect(await call(routes.enable, { method: 'POST', key: adminKey, path: { id } })).toMatchObject({
      status: 200,
      body: { enabled: true, version: 3 },
    });
    expect((await call(routes.enable, { method: 'POST', key: readKey, path: { id } })).status).toBe(403);
    expect(await call(routes.disable, { method: 'POST', key: adminKey, path: { id } })).toMatchObject({
      status: 200,
      body: { enabled: false, version: 4 },
    });

    expect(await call(routes.remove, { method: 'DELETE', key: adminKey, path: { id } })).toMatchObject({
      status: 200,
      body: { archived: true, enabled: false, version: 5 },
    });
    expect((await call(routes.enable, { method: 'POST', key: adminKey, path: { id } })).status).toBe(404);
    expect((await call(routes.remove, { method: 'DELETE', key: adminKey, path: { id } })).status).toBe(404);
    // Versions are kept.
    expect(
      await call(routes.get, { method: 'GET', key: readKey, path: { id }, query: { version: '2' } }),
    ).toMatchObject({ status: 200, body: { name: 'Cart reminder v2', archived: false } });

    const listed = await listAll(false);
    expect(listed).not.toContain(id);
    expect(await listAll(true)).toContain(id);
  });

  it('refuses a body over 256 KB and a forged cursor', async () => {
    const huge = JSON.stringify({ ...fresh(), description: 'x'.repeat(300 * 1024) });
    expect((await call(routes.create, { method: 'POST', key: adminKey, body: huge })).status).toBe(413);
    const forged = await call(routes.list, { method: 'GET', key: readKey, query: { cursor: '#latest' } });
    expect(forged).toMatchObject({
      status: 400,
      body: { details: [expect.objectContaining({ path: 'cursor' })] },
    });
  });
});

/** Every listed campaign id, all pages. */
async function listAll(archived: boolean): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const query: Record<string, string> = { limit: '100', archived: String(archived) };
    if (cursor) query.cursor = cursor;
    const res = await call(routes.list, { method: 'GET', key: readKey, query });
    expect(res.status).toBe(200);
    ids.push(...(res.body.items as { id: string }[]).map((c) => c.id));
    cursor = res.body.nextCursor as string | undefined;
    if (!cursor) break;
  }
  return ids;
}
