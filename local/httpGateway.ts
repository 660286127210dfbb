// The local stack's HTTP API: a small API Gateway (HTTP API, payload format 2.0) in front of
// serverless-offline's Lambda invoke API, for the three things serverless-offline's own HTTP server gets
// wrong under real SDKs (measured in docs/benchmarks.md):
// - it answers a thrown error or a timed-out function with 200 and the error as the body, so an SDK counts
//   lost events as delivered. Here a function error is a 500 and an integration timeout a 503, as on AWS;
//   SDKs retry both.
// - it starts one more worker thread for every request that finds the function's workers busy: a burst of
//   100 connections cold-starts ~75 workers on 2 cores and they time out. Here each function has a bounded
//   number of invocations in flight (reserved concurrency) with a queue in front, and can be pre-warmed.
// - it decodes every body that is not application/octet-stream as UTF-8, which corrupts gzip bodies. Here
//   bodies are passed byte-exact: base64 with isBase64Encoded unless they are plain UTF-8 text, as API
//   Gateway does for binary payloads.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { functionName, type ServiceDefinition } from './service.js';

/** API Gateway's limits: 10 MB request payload, 30 s integration timeout. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const INTEGRATION_TIMEOUT_MS = 30_000;

export interface GatewayRoute {
  readonly method: string;
  /** As in serverless.yml: /v1/customers/{id}, greedy {proxy+}. */
  readonly path: string;
  readonly functionName: string;
}

const HttpApiEvent = z.union([
  z.object({ method: z.string(), path: z.string() }),
  z.string().transform((s, ctx) => {
    const [method, path] = s.trim().split(/\s+/);
    if (!method || !path) {
      ctx.addIssue({ code: 'custom', message: `httpApi event "${s}" is not "METHOD /path"` });
      return z.NEVER;
    }
    return { method, path };
  }),
]);

/** Every httpApi route of serverless.yml, with the function it invokes. */
export function httpRoutes(def: ServiceDefinition): GatewayRoute[] {
  return Object.entries(def.functions).flatMap(([key, fn]) =>
    fn.events
      .filter((event) => event.httpApi !== undefined)
      .map((event) => {
        const { method, path } = HttpApiEvent.parse(event.httpApi);
        return { method: method.toUpperCase(), path, functionName: functionName(def, key) };
      }),
  );
}

export interface GatewayOptions {
  readonly routes: readonly GatewayRoute[];
  /** serverless-offline's Lambda API. */
  readonly lambdaUrl: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Invocations in flight per function; the rest wait in line (the integration timeout bounds the wait). */
  readonly concurrency: number;
  /** API Gateway's integration timeout (30 s); tests shorten it. */
  readonly integrationTimeoutMs?: number;
  /** Where CORS preflights go: serverless-offline's own HTTP server applies serverless.yml's CORS settings. */
  readonly preflightUrl?: string;
}

export interface HttpGateway {
  readonly url: string;
  /** Starts `count` workers of a function, one after another (each answers a request without credentials). */
  prewarm(functionName: string, count: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startHttpGateway(options: GatewayOptions): Promise<HttpGateway> {
  const matchers = options.routes.map(routeMatcher);
  const gates = new Map<string, Gate>();
  const gateOf = (name: string) => {
    const gate = gates.get(name) ?? new Gate(options.concurrency);
    gates.set(name, gate);
    return gate;
  };
  const invoke = (name: string, event: APIGatewayProxyEventV2, signal: AbortSignal) =>
    fetch(`${options.lambdaUrl}/2015-03-31/functions/${name}/invocations`, {
      method: 'POST',
      body: JSON.stringify(event),
      signal,
    });

  /**
   * One invocation in its function's line, answered as API Gateway would within its integration timeout.
   * Past the timeout the client gets a 503 but the function runs on (as on AWS) and keeps its place:
   * releasing it early would let more invocations run than the bound, on the machine already too busy.
   */
  const integrate = async (match: RouteMatch, event: APIGatewayProxyEventV2): Promise<Answer> => {
    const deadline =
      event.requestContext.timeEpoch + (options.integrationTimeoutMs ?? INTEGRATION_TIMEOUT_MS);
    const gate = gateOf(match.route.functionName);
    if (!(await gate.enter(deadline - Date.now()))) return errorAnswer(503, 'Service Unavailable');
    const invocation = invoke(match.route.functionName, event, AbortSignal.timeout(15 * 60_000))
      .then(async (answer): Promise<Answer> => {
        const text = await answer.text();
        // The Lambda API reports a thrown error, a crash and a timeout alike: an unhandled function error.
        if (answer.status !== 200 || answer.headers.get('x-amz-function-error')) {
          return errorAnswer(500, 'Internal Server Error');
        }
        return toResponse(text);
      })
      .catch(() => errorAnswer(500, 'Internal Server Error'))
      .finally(() => gate.leave());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Answer>((resolve) => {
      timer = setTimeout(() => resolve(errorAnswer(503, 'Service Unavailable')), deadline - Date.now());
    });
    try {
      return await Promise.race([invocation, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const receivedAt = Date.now();
    const body = await readBody(req);
    if (body === 'too large') return reply(res, 413, 'Request Entity Too Large');
    const url = new URL(req.url ?? '/', 'http://gateway');
    const method = (req.method ?? 'GET').toUpperCase();
    const match = matchRoute(matchers, method, url.pathname);
    if (!match) {
      if (method === 'OPTIONS' && options.preflightUrl) return forward(req, res, options.preflightUrl);
      return reply(res, 404, 'Not Found');
    }
    const line = {
      method,
      rawHeaders: req.rawHeaders,
      httpVersion: req.httpVersion,
      remoteAddress: req.socket.remoteAddress,
    };
    send(res, await integrate(match, toEvent(line, url, body, match, receivedAt)));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) reply(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });
  // SDKs reuse connections between flushes (10 s apart by default); Node's 5 s keep-alive would close
  // them under the client's feet.
  server.keepAliveTimeout = 60_000;
  await listen(server, options.port);
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    async prewarm(name, count) {
      const route = matchers.find((m) => m.route.functionName === name)?.route;
      if (!route) throw new Error(`no HTTP route invokes ${name}`);
      const path = route.path.replace(/\{[^}]+\}/g, 'warm');
      const event = toEvent(
        { method: route.method, rawHeaders: [], httpVersion: '1.1' },
        new URL(path, 'http://gateway'),
        Buffer.alloc(0),
        { route, pathParameters: {} },
        Date.now(),
      );
      const once = async () => {
        const answer = await invoke(name, event, AbortSignal.timeout(120_000));
        await answer.text();
        return answer.status === 200 && !answer.headers.get('x-amz-function-error');
      };
      // serverless-offline starts a worker for each invocation that finds the others busy, and counts its
      // cold start against the function's timeout (a timed-out worker is ended). Round k sends k at once:
      // k - 1 land on warm workers and return at once, so only one worker starts at a time, with the CPU
      // to itself. Several cold starts at once on two busy cores can each outlast a 10 s timeout.
      for (let k = 1; k <= count; k++) {
        for (let attempt = 1; ; attempt++) {
          const results = await Promise.all(Array.from({ length: k }, once));
          if (results.every(Boolean)) break;
          if (attempt === 3) throw new Error(`${name} failed to start ${k} workers in 3 attempts`);
        }
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A counting semaphore with a queue: `enter` waits at most `maxWaitMs` for a place. */
class Gate {
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}

  enter(maxWaitMs: number): Promise<boolean> {
    if (this.#active < this.limit) {
      this.#active++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const admit = () => {
        clearTimeout(timer);
        this.#active++;
        resolve(true);
      };
      const timer = setTimeout(
        () => {
          this.#waiting.splice(this.#waiting.indexOf(admit), 1);
          resolve(false);
        },
        Math.max(0, maxWaitMs),
      );
      this.#waiting.push(admit);
    });
  }

  leave(): void {
    this.#active--;
    this.#waiting.shift()?.();
  }
}

interface RouteMatcher {
  readonly route: GatewayRoute;
  readonly pattern: RegExp;
  readonly names: string[];
  /** Literal segments first, as API Gateway prefers the most specific route. */
  readonly literals: number;
}

interface RouteMatch {
  readonly route: GatewayRoute;
  readonly pathParameters: Record<string, string>;
}

function routeMatcher(route: GatewayRoute): RouteMatcher {
  const names: string[] = [];
  let literals = 0;
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{([^}+]+)(\+?)\}$/.exec(segment);
      if (!param) {
        literals++;
        return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      }
      names.push(param[1] as string);
      return param[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), names, literals };
}

function matchRoute(matchers: RouteMatcher[], method: string, path: string): RouteMatch | undefined {
  let best: { m: RouteMatcher; values: string[] } | undefined;
  for (const m of matchers) {
    if (m.route.method !== method && m.route.method !== 'ANY') continue;
    const found = m.pattern.exec(path);
    if (found && (!best || m.literals > best.m.literals)) best = { m, values: found.slice(1) };
  }
  if (!best) return undefined;
  const { m, values } = best;
  // Path parameters arrive decoded, as serverless-offline (and API Gateway) hand them to functions.
  const pathParameters = Object.fromEntries(m.names.map((name, i) => [name, decoded(values[i] ?? '')]));
  return { route: m.route, pathParameters };
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_PAYLOAD_BYTES) return 'too large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const TEXT_TYPES =
  /^(?:text\/|application\/(?:json|javascript|xml|x-www-form-urlencoded)\b|application\/[\w.-]+\+(?:json|xml)\b)/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Plain UTF-8 text passes as a string; anything else (a gzip body, say) as base64, byte for byte. */
function encodeBody(
  body: Buffer,
  headers: Record<string, string>,
): { body: string; isBase64Encoded: boolean } {
  const encoding = headers['content-encoding']?.trim().toLowerCase();
  const textType = TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
  if ((!encoding || encoding === 'identity') && textType) {
    try {
      return { body: utf8.decode(body), isBase64Encoded: false };
    } catch {
      // not UTF-8 after all: binary
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

/** What an event needs of the request besides its URL and body. */
interface RequestLine {
  readonly method: string;
  readonly rawHeaders: readonly string[];
  readonly httpVersion: string;
  readonly remoteAddress?: string;
}

function toEvent(
  req: RequestLine,
  url: URL,
  body: Buffer,
  match: RouteMatch,
  receivedAt: number,
): APIGatewayProxyEventV2 {
  // Payload 2.0: lower-case names, repeated headers joined with commas, cookies on their own.
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  }
  const cookies = headers.cookie?.split(/;\s*/).filter(Boolean);
  const routeKey = `${match.route.method} ${match.route.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies?.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(match.pathParameters).length > 0 ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: req.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: clfTime(receivedAt),
      timeEpoch: receivedAt,
    },
    ...(body.length > 0 ? encodeBody(body, headers) : { isBase64Encoded: false }),
  };
}

/** "06/Dec/2026:07:33:47 +0000", API Gateway's requestContext.time. */
function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const month = d.toLocaleString('en', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${month}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

const ProxyResult = z.object({
  statusCode: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  cookies: z.array(z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/**
 * A function's result as API Gateway reads it: an object with a statusCode is a response (a malformed
 * one is a 500); anything else is a 200 with the result as a JSON body.
 */
function toResponse(text: string): Answer {
  let result: unknown;
  try {
    result = text === '' ? null : JSON.parse(text);
  } catch {
    return errorAnswer(500, 'Internal Server Error');
  }
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(text) };
  }
  const parsed = ProxyResult.safeParse(result);
  if (!parsed.success) return errorAnswer(500, 'Internal Server Error');
  const r = parsed.data;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(r.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (r.cookies?.length) headers['set-cookie'] = r.cookies;
  const body = Buffer.from(r.body ?? '', r.isBase64Encoded ? 'base64' : 'utf8');
  return { status: r.statusCode, headers, body };
}

function errorAnswer(status: number, message: string): Answer {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ message })),
  };
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.length });
  res.end(answer.body);
}

/** API Gateway's own error answers: {"message": "..."}. */
function reply(res: ServerResponse, status: number, message: string): void {
  send(res, errorAnswer(status, message));
}

/** Passes a request through to another server unchanged (CORS preflights, which carry no body). */
async function forward(req: IncomingMessage, res: ServerResponse, baseUrl: string): Promise<void> {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    if (name.toLowerCase() !== 'host') headers.append(name, req.rawHeaders[i + 1] as string);
  }
  const answer = await fetch(`${baseUrl}${req.url ?? '/'}`, { method: req.method, headers });
  const body = Buffer.from(await answer.arrayBuffer());
  const out: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection') out[name] = value;
  });
  send(res, { status: answer.status, headers: out, body });
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
