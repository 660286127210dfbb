// The local HTTP gateway against a stand-in for serverless-offline's Lambda API (loopback HTTP): bodies
// reach functions byte-exact, routes and path parameters as API Gateway resolves them, function results
// and errors answered as API Gateway answers them, and the bound on invocations in flight.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpGateway, startHttpGateway } from '../../local/httpGateway.js';

let lambda: Server;
let lambdaUrl: string;
/** Answers within API Gateway's own 30 s: a busy machine never turns these tests' answers into 503s. */
let gateway: HttpGateway;
let inFlight = 0;
let maxInFlight = 0;
/** `/stuck` invocations hold their place until the test that started them lets them go. */
let releaseStuck: () => void = () => {};
let stuck = Promise.resolve();

/** What each fake function does with its event. */
async function run(name: string, event: APIGatewayProxyEventV2): Promise<{ error?: true; result: unknown }> {
  switch (name) {
    case 'echo':
      return { result: { statusCode: 200, body: JSON.stringify(event) } };
    case 'throws':
      return { error: true, result: { errorMessage: 'boom', errorType: 'Error' } };
    case 'plain':
      return { result: { hello: 'world' } };
    case 'malformed':
      return { result: { statusCode: 'two hundred' } };
    default: {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await (event.rawPath === '/stuck' ? stuck : sleep(50));
      inFlight--;
      return { result: { statusCode: 204 } };
    }
  }
}

beforeAll(async () => {
  lambda = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const name = /functions\/([^/]+)\/invocations/.exec(req.url ?? '')?.[1] ?? '';
    const { error, result } = await run(name, JSON.parse(Buffer.concat(chunks).toString('utf8')));
    // As serverless-offline's Lambda API reports a function error: 200 with X-Amz-Function-Error.
    res.writeHead(200, error ? { 'x-amz-function-error': 'Unhandled' } : {});
    res.end(JSON.stringify(result));
  });
  await new Promise<void>((resolve) => lambda.listen(0, '127.0.0.1', resolve));
  const { port } = lambda.address() as AddressInfo;
  lambdaUrl = `http://127.0.0.1:${port}`;
  gateway = await startGateway(30_000);
});

function startGateway(integrationTimeoutMs: number): Promise<HttpGateway> {
  return startHttpGateway({
    routes: [
      { method: 'POST', path: '/echo', functionName: 'echo' },
      { method: 'GET', path: '/v1/customers/{id}', functionName: 'echo' },
      { method: 'GET', path: '/v1/customers/{id}/events', functionName: 'plain' },
      { method: 'POST', path: '/throws', functionName: 'throws' },
      { method: 'GET', path: '/plain', functionName: 'plain' },
      { method: 'GET', path: '/malformed', functionName: 'malformed' },
      { method: 'GET', path: '/slow', functionName: 'slow' },
      { method: 'GET', path: '/stuck', functionName: 'slow' },
    ],
    lambdaUrl,
    port: 0,
    concurrency: 2,
    integrationTimeoutMs,
  });
}

afterAll(async () => {
  await gateway.stop();
  await new Promise((resolve) => lambda.close(resolve));
});

async function echoed(init: RequestInit, path = '/echo'): Promise<APIGatewayProxyEventV2> {
  const res = await fetch(`${gateway.url}${path}`, init);
  expect(res.status).toBe(200);
  return (await res.json()) as APIGatewayProxyEventV2;
}

const bodyBytes = (e: APIGatewayProxyEventV2) =>
  Buffer.from(e.body ?? '', e.isBase64Encoded ? 'base64' : 'utf8');

describe('local HTTP gateway', () => {
  it('passes a gzip body byte-exact, base64-encoded', async () => {
    const gz = gzipSync(JSON.stringify({ batch: [{ type: 'track', event: 'é', userId: 'u' }] }));
    const e = await echoed({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gz,
    });
    expect(e.isBase64Encoded).toBe(true);
    expect(bodyBytes(e).equals(gz)).toBe(true);
    expect(e.headers['content-encoding']).toBe('gzip');
  });

  it('passes plain UTF-8 JSON as text, and bytes that are not UTF-8 as base64, both byte-exact', async () => {
    const text = '{"name":"Zoë ✓"}';
    const e = await echoed({ method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    expect(e.isBase64Encoded).toBe(false);
    expect(e.body).toBe(text);
    const notUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const b = await echoed({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: notUtf8,
    });
    expect(b.isBase64Encoded).toBe(true);
    expect(bodyBytes(b).equals(notUtf8)).toBe(true);
  });

  it('resolves the most specific route and hands path parameters decoded once', async () => {
    const e = await echoed({ method: 'GET' }, '/v1/customers/jane%40example.com?x=1&x=2');
    expect(e.routeKey).toBe('GET /v1/customers/{id}');
    expect(e.pathParameters).toEqual({ id: 'jane@example.com' });
    expect(e.rawPath).toBe('/v1/customers/jane%40example.com');
    expect(e.queryStringParameters).toEqual({ x: '1,2' });
    expect(e.requestContext.timeEpoch).toBeGreaterThan(0);
    const events = await fetch(`${gateway.url}/v1/customers/c1/events`);
    expect(await events.json()).toEqual({ hello: 'world' });
    expect((await fetch(`${gateway.url}/nowhere`)).status).toBe(404);
  });

  it('answers a function error 500 and a malformed result 500, never 200', async () => {
    const thrown = await fetch(`${gateway.url}/throws`, { method: 'POST', body: '{}' });
    expect(thrown.status).toBe(500);
    expect(await thrown.json()).toEqual({ message: 'Internal Server Error' });
    expect((await fetch(`${gateway.url}/malformed`)).status).toBe(500);
    // A result without statusCode is a 200 with the result as JSON, as API Gateway reads it.
    const plain = await fetch(`${gateway.url}/plain`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/json');
  });

  it('keeps at most the bound of invocations in flight, the rest waiting in line', async () => {
    maxInFlight = 0;
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${gateway.url}/slow`)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(204));
    expect(maxInFlight).toBe(2);
  });

  it('answers 503 past the integration timeout, and the invocation keeps its place until it ends', async () => {
    // A gateway of its own with a 1 s timeout, and functions that do not end until released: the
    // outcome does not depend on how fast a busy machine runs the test.
    const short = await startGateway(1_000);
    stuck = new Promise((resolve) => {
      releaseStuck = resolve;
    });
    try {
      maxInFlight = 0;
      const late = await Promise.all([fetch(`${short.url}/stuck`), fetch(`${short.url}/stuck`)]);
      expect(late.map((a) => a.status)).toEqual([503, 503]);
      expect(await late[0]?.json()).toEqual({ message: 'Service Unavailable' });
      // Both places are still taken by the running invocations: a new request waits in line for its
      // whole integration timeout and is answered 503 without being invoked.
      const started = Date.now();
      expect((await fetch(`${short.url}/slow`)).status).toBe(503);
      expect(Date.now() - started).toBeGreaterThanOrEqual(990);
      expect(maxInFlight).toBe(2);
    } finally {
      releaseStuck();
      await short.stop();
    }
  });
});
