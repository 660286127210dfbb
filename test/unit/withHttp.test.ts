// The HTTP edge: the key is checked before the body is read, path parameters are validated (bounded in
// bytes, never decoded a second time) and named `path.<name>` when refused, bodies are validated, and
// lib/'s outcomes become statuses in one place.
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ApiKeyRecord, createApiKey } from '../../lib/auth/apiKeys.js';
import { authenticator } from '../../lib/auth/authenticate.js';
import { httpRoutes } from '../../lib/http/withHttp.js';
import { boundedId } from '../../lib/ids.js';
import { conflict, forbidden, invalid, notFound, ok } from '../../lib/outcome.js';

/** Keys in memory; `lookups` counts the table reads authentication made. */
async function keys() {
  const records = new Map<string, ApiKeyRecord>();
  const store = {
    lookups: 0,
    async findByHash(hash: string) {
      store.lookups += 1;
      return records.get(hash);
    },
    async put(record: ApiKeyRecord) {
      records.set(record.keyHash, record);
    },
  };
  const write = (await createApiKey({ role: 'write', sourceId: 'web', name: 'w' }, store)).key;
  const read = (await createApiKey({ role: 'read', sourceId: 'bi', name: 'r' }, store)).key;
  return { store, write, read, withHttp: httpRoutes(() => authenticator(store, 0)) };
}

const context = { awsRequestId: 'req-1', functionName: 'precis-test' } as Context;

function request(init: {
  key?: string;
  body?: string | Buffer;
  gzip?: boolean;
  /** Content-Encoding to claim (gzip when `gzip`). */
  encoding?: string;
  path?: Record<string, string>;
  headers?: Record<string, string>;
}): APIGatewayProxyEventV2 {
  const encoding = init.encoding ?? (init.gzip ? 'gzip' : undefined);
  const raw = init.body === undefined ? undefined : Buffer.from(init.body);
  const body = raw && init.gzip ? gzipSync(raw) : raw;
  return {
    version: '2.0',
    routeKey: 'POST /v1/things/{id}',
    rawPath: '/v1/things/x',
    rawQueryString: '',
    headers: {
      ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
      ...(encoding ? { 'content-encoding': encoding } : {}),
      ...init.headers,
    },
    pathParameters: init.path,
    requestContext: { http: { method: 'POST' } } as APIGatewayProxyEventV2['requestContext'],
    body: body?.toString('base64'),
    isBase64Encoded: true,
  };
}

const answer = (res: APIGatewayProxyStructuredResultV2) => ({
  status: res.statusCode,
  body: JSON.parse(String(res.body)) as { error?: string; details?: unknown } & Record<string, unknown>,
});

describe('withHttp authentication', () => {
  it('answers 401 or 403 before reading the body: no 413, no 400, no decompression', async () => {
    const { withHttp, read } = await keys();
    const route = withHttp({ auth: 'write', maxBodyBytes: 1024 }, async ({ body }) => ({ body }));
    const huge = 'x'.repeat(10_000);
    for (const [key, status] of [
      [undefined, 401],
      ['wk_unknown', 401],
      [read, 403],
    ] as const) {
      for (const event of [
        request({ key, body: huge }),
        request({ key, body: '{"batch": [' }),
        request({ key, body: 'not gzip', encoding: 'gzip' }),
        request({ key, body: huge, gzip: true }),
        request({ key, body: '{}', encoding: 'br' }),
      ]) {
        const res = await route(event, context);
        expect(answer(res).status).toBe(status);
        if (status === 401) expect(res.headers?.['www-authenticate']).toMatch(/^Basic /);
      }
    }
  });

  it('reads the body first only to find a writeKey there, when no Authorization header is sent', async () => {
    const { withHttp, write } = await keys();
    const route = withHttp({ auth: 'write', maxBodyBytes: 1024, bodyWriteKey: true }, async ({ key }) => ({
      body: { source: key.sourceId },
    }));
    const inBody = request({ body: JSON.stringify({ writeKey: write, event: 'E' }) });
    expect(answer(await route(inBody, context))).toEqual({ status: 200, body: { source: 'web' } });
    // Without a key anywhere, the body could not be read for one: its own error, bounded by the limit.
    expect(answer(await route(request({ body: 'x'.repeat(5_000) }), context)).status).toBe(413);
    // With a header, the header decides, before the body.
    const header = request({ key: 'wk_unknown', body: JSON.stringify({ writeKey: write }) });
    expect(answer(await route(header, context)).status).toBe(401);
  });

  it('reads and validates the body after a valid key', async () => {
    const { withHttp, write } = await keys();
    const route = withHttp(
      { auth: 'write', maxBodyBytes: 1024, body: z.object({ mergeId: z.string().startsWith('mrg_') }) },
      async ({ body }) => ok({ got: body.mergeId }),
    );
    expect(answer(await route(request({ key: write, body: 'x'.repeat(2_000) }), context)).status).toBe(413);
    expect(answer(await route(request({ key: write, body: '{' }), context)).body.error).toBe(
      'malformed_json',
    );
    const wrong = answer(await route(request({ key: write, body: '{"mergeId":"x"}' }), context));
    expect(wrong.status).toBe(400);
    expect(wrong.body.details).toEqual([expect.objectContaining({ path: 'mergeId' })]);
    const right = request({ key: write, body: '{"mergeId":"mrg_1"}', gzip: true });
    expect(answer(await route(right, context))).toEqual({ status: 200, body: { got: 'mrg_1' } });
  });

  it('refuses to build a route with a body schema but no body bound (it would read no body: all 400s)', async () => {
    const { withHttp } = await keys();
    expect(() => withHttp({ auth: 'write', body: z.object({}) }, async () => ok({}))).toThrow(
      /needs maxBodyBytes/,
    );
  });
});

describe('withHttp headers', () => {
  const Headers = z.object({ 'idempotency-key': z.string().max(10).optional() });

  it('hands the route only the headers its schema names, by lower-case name, and refuses a bad one as headers.<name>', async () => {
    const { withHttp, read } = await keys();
    let called = 0;
    const route = withHttp({ auth: 'read', headers: Headers }, async ({ headers }) => {
      called += 1;
      return ok(headers);
    });
    const given = { 'Idempotency-Key': 'abc', 'X-Other': 'no' };
    expect(answer(await route(request({ key: read, headers: given }), context))).toEqual({
      status: 200,
      body: { 'idempotency-key': 'abc' },
    });
    const long = answer(
      await route(request({ key: read, headers: { 'idempotency-key': 'x'.repeat(11) } }), context),
    );
    expect(long.status).toBe(400);
    expect(long.body.details).toEqual([expect.objectContaining({ path: 'headers.idempotency-key' })]);
    expect(called).toBe(1);
  });

  it('gives a route without a headers schema none', async () => {
    const { withHttp, read } = await keys();
    const route = withHttp({ auth: 'read' }, async ({ headers }) => ok({ headers }));
    const res = answer(await route(request({ key: read, headers: { 'idempotency-key': 'abc' } }), context));
    expect(res).toEqual({ status: 200, body: { headers: {} } });
  });
});

describe('withHttp path parameters', () => {
  const Path = z.object({ id: boundedId(100) });

  it('refuses an id over its bound in bytes with 400 naming path.id, before any handler runs', async () => {
    const { withHttp, read } = await keys();
    let called = 0;
    const route = withHttp({ auth: 'read', path: Path }, async ({ path }) => {
      called += 1;
      return ok(path);
    });
    for (const id of ['x'.repeat(5_000), 'é'.repeat(51), '']) {
      const res = answer(await route(request({ key: read, path: { id } }), context));
      expect(res.status, `${id.length} characters`).toBe(400);
      expect(res.body.details).toEqual([
        expect.objectContaining({ path: 'path.id', code: id ? 'too_long' : 'too_short' }),
      ]);
    }
    expect(called).toBe(0);
    const fits = answer(await route(request({ key: read, path: { id: 'é'.repeat(50) } }), context));
    expect(fits).toEqual({ status: 200, body: { id: 'é'.repeat(50) } });
  });

  it('takes path parameters as API Gateway decoded them, never decoding again', async () => {
    const { withHttp, read } = await keys();
    const route = withHttp({ auth: 'read', path: Path }, async ({ path }) => ok(path));
    for (const id of ['%', '50%off', '%E0%A4%A', 'a%2Fb', 'jane+doe@example.com']) {
      expect(answer(await route(request({ key: read, path: { id } }), context))).toEqual({
        status: 200,
        body: { id },
      });
    }
  });

  it('gives a route without a path schema no path parameters', async () => {
    const { withHttp, read } = await keys();
    const route = withHttp({ auth: 'read' }, async ({ path }) => ok(path));
    expect(answer(await route(request({ key: read, path: { id: 'x' } }), context)).body).toEqual({});
  });
});

describe('withHttp outcomes', () => {
  it('answers a value with 200 and each rejection with its status and one error shape', async () => {
    const { withHttp, read } = await keys();
    const cases = [
      [ok({ a: 1 }), 200, undefined],
      [notFound('No such thing.'), 404, 'not_found'],
      [invalid('Bad cursor.', [{ path: 'cursor', code: 'invalid', message: 'bad' }]), 400, 'bad_request'],
      [forbidden('Admins only.'), 403, 'forbidden'],
      [conflict('Already done.'), 409, 'conflict'],
    ] as const;
    for (const [outcome, status, error] of cases) {
      const route = withHttp({ auth: 'read' }, async () => outcome);
      const res = answer(await route(request({ key: read }), context));
      expect(res.status).toBe(status);
      if (error) expect(res.body).toMatchObject({ error, message: expect.any(String), requestId: 'req-1' });
      else expect(res.body).toEqual({ a: 1 });
    }
    const route = withHttp({ auth: 'read' }, async () => invalid('Bad cursor.', []));
    expect(answer(await route(request({ key: read }), context)).body.details).toEqual([]);
  });

  it('answers a reply with its status and headers', async () => {
    const { withHttp, read } = await keys();
    const route = withHttp({ auth: 'read' }, async () => ({
      status: 202,
      body: { queued: true },
      headers: { location: '/v1/x/1' },
    }));
    const res = await route(request({ key: read }), context);
    expect([res.statusCode, res.headers?.location, JSON.parse(String(res.body))]).toEqual([
      202,
      '/v1/x/1',
      { queued: true },
    ]);
  });
});
