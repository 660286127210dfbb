// Reading API Gateway (HTTP API, payload v2) bodies: plain, base64, gzip; and each failure with its own
// status — 413 over the limit (also for a decompression bomb, stopped early), 400, 415.
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { header, readJsonBody } from '../../lib/http/body.js';
import { MAX_REQUEST_BYTES } from '../../lib/ingest/spec.js';
import { httpErrorOf } from './factories.js';

interface RequestShape {
  readonly body?: string;
  readonly base64?: boolean;
  readonly headers?: Record<string, string>;
}

/** A POST as API Gateway delivers it: header names lower-cased, binary bodies base64-encoded. */
function apiEvent({ body, base64 = false, headers = {} }: RequestShape): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /v1/batch',
    rawPath: '/v1/batch',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: {
        method: 'POST',
        path: '/v1/batch',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.9',
        userAgent: 'test',
      },
      requestId: 'req-1',
      routeKey: 'POST /v1/batch',
      stage: '$default',
      time: '22/Nov/2026:14:30:00 +0000',
      timeEpoch: Date.UTC(2026, 10, 22, 14, 30),
    },
    isBase64Encoded: base64,
    ...(body === undefined ? {} : { body }),
  };
}

const gzipped = (data: string | Buffer, headers: Record<string, string> = { 'content-encoding': 'gzip' }) =>
  apiEvent({ body: gzipSync(data).toString('base64'), base64: true, headers });

const payload = { batch: [{ type: 'track', event: 'Café ☕ ordered', userId: 'u1' }] };
const text = JSON.stringify(payload);

describe('readJsonBody', () => {
  it('reads a plain JSON body and counts its bytes (not characters)', () => {
    const { value, bytes } = readJsonBody(apiEvent({ body: text }), MAX_REQUEST_BYTES);
    expect(value).toEqual(payload);
    expect(bytes).toBe(Buffer.byteLength(text));
    expect(bytes).toBeGreaterThan(text.length);
  });

  it('reads a base64-encoded body', () => {
    const body = Buffer.from(text).toString('base64');
    expect(readJsonBody(apiEvent({ body, base64: true }), MAX_REQUEST_BYTES).value).toEqual(payload);
  });

  it('reads a gzip body, counting the decompressed bytes against the limit', () => {
    const { value, bytes } = readJsonBody(gzipped(text), MAX_REQUEST_BYTES);
    expect(value).toEqual(payload);
    expect(bytes).toBe(Buffer.byteLength(text));
  });

  it('accepts the content-encoding in any case, and identity as none', () => {
    expect(readJsonBody(gzipped(text, { 'content-encoding': 'GZIP' }), MAX_REQUEST_BYTES).value).toEqual(
      payload,
    );
    expect(
      readJsonBody(apiEvent({ body: text, headers: { 'content-encoding': 'identity' } }), MAX_REQUEST_BYTES)
        .value,
    ).toEqual(payload);
  });

  it('accepts a body of exactly the limit and answers 413 naming the limit one byte over', () => {
    const atLimit = `"${'a'.repeat(MAX_REQUEST_BYTES - 2)}"`;
    expect(readJsonBody(apiEvent({ body: atLimit }), MAX_REQUEST_BYTES).bytes).toBe(MAX_REQUEST_BYTES);

    const over = `"${'a'.repeat(MAX_REQUEST_BYTES - 1)}"`;
    const error = httpErrorOf(() => readJsonBody(apiEvent({ body: over }), MAX_REQUEST_BYTES));
    expect(error.status).toBe(413);
    expect(error.code).toBe('payload_too_large');
    expect(error.message).toContain(String(MAX_REQUEST_BYTES));
    expect(error.message).toContain('500 KB');
    expect(error.message).toContain(String(MAX_REQUEST_BYTES + 1));
  });

  it('answers 413 for a gzip bomb (10 MB of zeros in ~10 KB)', () => {
    const bomb = gzipped(Buffer.alloc(10 * 1024 * 1024));
    expect((bomb.body ?? '').length).toBeLessThan(20_000);
    const error = httpErrorOf(() => readJsonBody(bomb, MAX_REQUEST_BYTES));
    expect(error.status).toBe(413);
    expect(error.message).toContain('decompressed');
    expect(error.message).toContain(String(MAX_REQUEST_BYTES));
  });

  it('stops decompressing at the limit instead of inflating the whole bomb', () => {
    // 50 gzip members of 10 MiB of zeros: 500 MiB inflated from ~500 KB sent. Inflating all of it takes
    // about 2 s here; stopping at the limit takes about a millisecond, so the bound has a wide margin.
    const member = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    const body = Buffer.concat(Array.from({ length: 50 }, () => member)).toString('base64');
    const event = apiEvent({ body, base64: true, headers: { 'content-encoding': 'gzip' } });
    const started = performance.now();
    const error = httpErrorOf(() => readJsonBody(event, MAX_REQUEST_BYTES));
    const elapsed = performance.now() - started;
    expect(error.status).toBe(413);
    expect(elapsed).toBeLessThan(300);
  });

  it('answers 400 malformed_json for a body that is not JSON, naming the problem', () => {
    for (const body of ['{"batch": [', 'track', "{'a': 1}", '   ']) {
      const error = httpErrorOf(() => readJsonBody(apiEvent({ body }), MAX_REQUEST_BYTES));
      expect(error.status).toBe(400);
      expect(error.code).toBe('malformed_json');
      expect(error.message).toMatch(/not valid JSON/);
    }
  });

  it('answers 400 malformed_json for a body that claims gzip but is not', () => {
    const error = httpErrorOf(() =>
      readJsonBody(apiEvent({ body: text, headers: { 'content-encoding': 'gzip' } }), MAX_REQUEST_BYTES),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe('malformed_json');
    expect(error.message).toContain('gzip');
  });

  it('answers 400 for an empty or missing body unless the body is optional', () => {
    for (const event of [apiEvent({ body: '' }), apiEvent({})]) {
      const error = httpErrorOf(() => readJsonBody(event, MAX_REQUEST_BYTES));
      expect(error.status).toBe(400);
      expect(error.message).toContain('empty');
      expect(readJsonBody(event, MAX_REQUEST_BYTES, true)).toEqual({ value: undefined, bytes: 0 });
    }
  });

  it('answers 415 for a content-encoding other than gzip', () => {
    for (const encoding of ['br', 'deflate', 'compress']) {
      const event = apiEvent({ body: text, headers: { 'content-encoding': encoding } });
      const error = httpErrorOf(() => readJsonBody(event, MAX_REQUEST_BYTES));
      expect(error.status).toBe(415);
      expect(error.code).toBe('unsupported_media_type');
      expect(error.message).toContain(encoding);
    }
  });
});

describe('header', () => {
  it('reads a header and gives undefined when it or the headers object is absent', () => {
    const event = apiEvent({ headers: { authorization: 'Basic eDo=' } });
    expect(header(event, 'authorization')).toBe('Basic eDo=');
    expect(header(event, 'x-missing')).toBeUndefined();
    const { headers: _h, ...noHeaders } = event;
    expect(header(noHeaders as APIGatewayProxyEventV2, 'authorization')).toBeUndefined();
  });
});
