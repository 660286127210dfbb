// The one middleware stack of HTTP handlers (API Gateway HTTP API, payload v2): Powertools logger context,
// security headers, the error boundary; then authentication (derived from the route's role), the path,
// query and body validated with the route's zod schemas, the handler, and its result made a response.
// Authentication comes before the body is read: a caller without a valid key learns nothing from 400s
// and 413s and cannot make the function decompress anything, except on routes that take Segment's
// `writeKey` in the body, and only when no Authorization header is sent (then the body, bounded by the
// route's limit, has to be read to find the key).
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import type { ApiKeyRecord, Role } from '../auth/apiKeys.js';
import type { Authenticator } from '../auth/authenticate.js';
import * as errors from '../errors.js';
import { toFieldIssues } from '../ingest/spec.js';
import { logger } from '../log.js';
import type { Outcome, Rejection } from '../outcome.js';
import { header, readJsonBody, readTextBody } from './body.js';
import { errorResponse, json } from './response.js';

type Schema = z.ZodType | undefined;
type Parsed<S extends Schema, Otherwise> = S extends z.ZodType ? z.infer<S> : Otherwise;

export interface RouteOptions<
  A extends Role | undefined,
  P extends Schema,
  Q extends Schema,
  B extends Schema,
  H extends Schema = undefined,
> {
  /** Role the API key must have; omit for public routes (the OpenAPI document). */
  readonly auth?: A;
  /** The path parameters; a route without this schema sees none. Issues are reported as `path.<name>`. */
  readonly path?: P;
  readonly query?: Q;
  /**
   * The request headers the route reads, by lower-case name (API Gateway's HTTP API lower-cases them);
   * other headers are not the handler's business. Issues are reported as `headers.<name>`.
   */
  readonly headers?: H;
  /** The JSON body (with `optionalBody`, an empty body is validated as `{}`); needs maxBodyBytes. */
  readonly body?: B;
  /** Read a body of at most this many bytes (decompressed); routes without it read none. */
  readonly maxBodyBytes?: number;
  /** Hand the body to the handler as text, not parsed: CSV, NDJSON files. */
  readonly rawBody?: boolean;
  /** What the 413 message tells a client to do instead (default: send fewer events per batch). */
  readonly tooLargeHint?: string;
  /** An empty body is allowed. */
  readonly optionalBody?: boolean;
  /** Accept Segment's `writeKey` body field when there is no Authorization header. */
  readonly bodyWriteKey?: boolean;
  /**
   * The route answers HTML pages for people (the unsubscribe page): a Reply whose body is a string is
   * sent as text/html, under a CSP that allows nothing but a form posting back to the page's own origin.
   */
  readonly html?: boolean;
}

export interface HttpRequest<
  A extends Role | undefined = undefined,
  P extends Schema = undefined,
  Q extends Schema = undefined,
  B extends Schema = undefined,
  H extends Schema = undefined,
> {
  readonly event: APIGatewayProxyEventV2;
  /** The validated body; without a schema, the parsed JSON (or, with `rawBody`, the text). */
  readonly body: Parsed<B, unknown>;
  readonly bodyBytes: number;
  /** The caller's API key: always present on routes that require a role. */
  readonly key: A extends Role ? ApiKeyRecord : undefined;
  readonly path: Parsed<P, Record<string, never>>;
  readonly query: Parsed<Q, Record<string, string | undefined>>;
  /** The validated headers; a route without this schema sees none. */
  readonly headers: Parsed<H, Record<string, never>>;
  readonly requestId: string;
}

/** A response other than a plain 200 (a status, headers). */
export interface Reply {
  readonly status?: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/** What a handler returns: a use case's outcome (a value is a 200, a rejection its status), or a reply. */
export type HandlerResult = Reply | Outcome<unknown>;

/** Each expected rejection of lib/ as its HTTP error: the one place reasons become statuses. */
const REJECTED: { readonly [R in Rejection['reason']]: (r: Rejection) => errors.HttpError } = {
  not_found: (r) => errors.notFound(r.message),
  invalid: (r) =>
    r.reason === 'invalid' && r.code
      ? new errors.HttpError(400, r.code, r.message, r.details)
      : errors.badRequest(r.message, r.reason === 'invalid' ? r.issues : undefined),
  unsupported_media_type: (r) => errors.unsupportedMediaType(r.message),
  unauthorized: (r) => errors.unauthorized(r.message),
  forbidden: (r) => errors.forbidden(r.message),
  conflict: (r) => errors.conflict(r.message),
};

/**
 * Security headers of HTML pages: middy's defaults (nothing loads, no framing, no scripts) except that
 * the page's form may post to its own origin (the defaults' `form-action 'none'` and bare `sandbox` block
 * every form), and no `upgrade-insecure-requests`, which would send a local stack's form to https.
 */
const HTML_PAGE_HEADERS = {
  contentSecurityPolicy: {
    'form-action': "'self'",
    sandbox: 'allow-forms allow-same-origin',
    // undefined drops a default directive (middy merges over its defaults; its types only say string).
    'upgrade-insecure-requests': undefined as unknown as string,
  },
};

/** withHttp with the authenticator of one's choice (tests); handlers use `withHttp`. */
export function httpRoutes(authenticatorOf: () => Authenticator | Promise<Authenticator>) {
  return function withHttp<
    A extends Role | undefined = undefined,
    P extends Schema = undefined,
    Q extends Schema = undefined,
    B extends Schema = undefined,
    H extends Schema = undefined,
  >(
    options: RouteOptions<A, P, Q, B, H>,
    handle: (req: HttpRequest<A, P, Q, B, H>) => Promise<HandlerResult>,
  ) {
    // A route that reads no body would validate `undefined` against its schema: every request a 400
    // (the back-test route shipped so). Refused when the handler module loads, so any test importing it fails.
    if (options.body !== undefined && options.maxBodyBytes === undefined)
      throw new Error(
        'withHttp: a route with a body schema needs maxBodyBytes (routes without it read no body)',
      );
    const core = async (
      event: APIGatewayProxyEventV2,
      context: Context,
    ): Promise<APIGatewayProxyStructuredResultV2> => {
      let read: { value: unknown; bytes: number } | undefined;
      const body = () => {
        read ??= readBodyOf(event, options);
        return read;
      };
      type Req = HttpRequest<A, P, Q, B, H>;
      const key = options.auth
        ? await authenticate(event, options, await authenticatorOf(), body)
        : undefined;
      const path = parse('path', options.path, event.pathParameters ?? {}) as Req['path'];
      const query = parse('query', options.query, event.queryStringParameters ?? {}) as Req['query'];
      const headers = parse('headers', options.headers, lowerCased(event.headers)) as Req['headers'];
      const { value, bytes } = body();
      const result = await handle({
        event,
        body: parse('body', options.body, options.optionalBody ? (value ?? {}) : value) as Req['body'],
        bodyBytes: bytes,
        key: key as Req['key'],
        path,
        query,
        headers,
        requestId: context.awsRequestId,
      });
      return responseOf(result, options.html);
    };

    return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
      .use(injectLambdaContext(logger(), { resetKeys: true }))
      .use(httpSecurityHeaders(options.html ? HTML_PAGE_HEADERS : undefined))
      .use({
        onError: async (request) => {
          request.response = errorResponse(request.error, request.context.awsRequestId);
        },
      })
      .handler(core);
  };
}

/**
 * The route helper of every HTTP handler, authenticating with the API keys table. The runtime is loaded
 * only when a route needs a key, so the public OpenAPI route does not load the AWS SDK on a cold start.
 */
export const withHttp = httpRoutes(async () => (await import('../runtime.js')).auth());

async function authenticate(
  event: APIGatewayProxyEventV2,
  options: RouteOptions<Role | undefined, Schema, Schema, Schema, Schema>,
  authenticator: Authenticator,
  body: () => { value: unknown },
): Promise<ApiKeyRecord | undefined> {
  if (!options.auth) return undefined;
  const authorization = header(event, 'authorization');
  // Only a route that takes the key in the body, asked without a header, reads the body first.
  const value = options.bodyWriteKey && !authorization?.trim() ? body().value : undefined;
  const bodyWriteKey =
    value !== null && typeof value === 'object' ? (value as { writeKey?: unknown }).writeKey : undefined;
  const outcome = await authenticator.authenticate(
    { authorization, bodyWriteKey: typeof bodyWriteKey === 'string' ? bodyWriteKey : undefined },
    options.auth,
  );
  if (!outcome.ok) throw REJECTED[outcome.reason](outcome);
  logger().appendKeys({ keyId: outcome.value.keyId, sourceId: outcome.value.sourceId });
  return outcome.value;
}

/** Headers by lower-case name: API Gateway's HTTP API sends them so; a test's or a proxy's event may not. */
function lowerCased(headers: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (value !== undefined) out[name.toLowerCase()] = value;
  return out;
}

/** A handler's result as the response: an outcome's value or rejection, a JSON reply, an HTML page. */
function responseOf(result: HandlerResult, html = false): APIGatewayProxyStructuredResultV2 {
  if ('ok' in result) {
    if (!result.ok) throw REJECTED[result.reason](result);
    return json(200, result.value);
  }
  if (html && typeof result.body === 'string') {
    const headers = { 'content-type': 'text/html; charset=utf-8', ...result.headers };
    return { statusCode: result.status ?? 200, headers, body: result.body };
  }
  return json(result.status ?? 200, result.body, result.headers);
}

/** The body as the route takes it: JSON (parsed), text (rawBody), or none (no maxBodyBytes). */
function readBodyOf(
  event: APIGatewayProxyEventV2,
  options: RouteOptions<Role | undefined, Schema, Schema, Schema, Schema>,
): { value: unknown; bytes: number } {
  if (!options.maxBodyBytes) return { value: undefined, bytes: 0 };
  return options.rawBody
    ? readTextBody(event, options.maxBodyBytes, options.tooLargeHint ?? '')
    : readJsonBody(event, options.maxBodyBytes, options.optionalBody, options.tooLargeHint);
}

const INVALID = {
  path: 'Invalid path parameters.',
  query: 'Invalid query parameters.',
  headers: 'Invalid request headers.',
  body: 'Invalid request body.',
} as const;

/**
 * Validates one part of the request. Path parameters are named `path.<name>` in issues (a client names
 * query and body fields itself; a path parameter only has the name the route template gives it).
 * API Gateway HTTP APIs (and serverless-offline) hand over path parameters already URL-decoded: they
 * are used as they come, never decoded again (that turned `%25` into a URIError, and `50%off` into
 * garbage).
 */
function parse(part: keyof typeof INVALID, schema: Schema, raw: unknown): unknown {
  if (!schema) return part === 'path' || part === 'headers' ? {} : raw;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const prefix = part === 'path' || part === 'headers' ? [part] : [];
    throw errors.badRequest(INVALID[part], toFieldIssues(parsed.error, raw, prefix));
  }
  return parsed.data;
}
