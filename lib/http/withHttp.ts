// The one middleware stack of HTTP handlers (API Gateway HTTP API, payload v2): Powertools logger
// context, security headers, the error boundary; then body, authentication and the handler, in order.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import type { ApiKeyRecord, Role } from '../auth/apiKeys.js';
import type { Authenticator } from '../auth/authenticate.js';
import { badRequest } from '../errors.js';
import { toFieldIssues } from '../ingest/spec.js';
import { logger } from '../log.js';
import { header, readJsonBody, readTextBody } from './body.js';
import { errorResponse, json } from './response.js';

export interface RouteOptions<Q extends z.ZodType, A extends Role | undefined> {
  /** Role the API key must have; omit for public routes (the OpenAPI document). */
  readonly auth?: A;
  readonly authenticator?: () => Authenticator;
  /** Parse a JSON body of at most this many bytes. */
  readonly maxBodyBytes?: number;
  /** Hand the body (of at most maxBodyBytes) to the handler as text, not parsed: CSV, NDJSON files. */
  readonly rawBody?: boolean;
  /** What the 413 message tells a client to do instead (default: send fewer events per batch). */
  readonly tooLargeHint?: string;
  /** An empty body is allowed (the handler then sees `body` undefined). */
  readonly optionalBody?: boolean;
  /** Accept Segment's `writeKey` body field when there is no Authorization header. */
  readonly bodyWriteKey?: boolean;
  readonly query?: Q;
}

export interface HttpRequest<Q, A extends Role | undefined = undefined> {
  readonly event: APIGatewayProxyEventV2;
  /** The parsed JSON body; with `rawBody`, the body as text. */
  readonly body: unknown;
  readonly bodyBytes: number;
  /** The caller's API key: always present on routes that require a role. */
  readonly key: A extends Role ? ApiKeyRecord : undefined;
  readonly query: Q;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly requestId: string;
}

export interface HttpResult {
  readonly status?: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

export function withHttp<Q extends z.ZodType = z.ZodUnknown, A extends Role | undefined = undefined>(
  options: RouteOptions<Q, A>,
  handle: (req: HttpRequest<z.infer<Q>, A>) => Promise<HttpResult>,
) {
  const core = async (
    event: APIGatewayProxyEventV2,
    context: Context,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const body = readBodyOf(event, options);
    let key: ApiKeyRecord | undefined;
    if (options.auth) {
      if (!options.authenticator) throw new Error('a route with auth needs an authenticator');
      const bodyWriteKey =
        options.bodyWriteKey && body && typeof body.value === 'object' && body.value !== null
          ? (body.value as { writeKey?: unknown }).writeKey
          : undefined;
      key = await options.authenticator().authenticate(
        {
          authorization: header(event, 'authorization'),
          bodyWriteKey: typeof bodyWriteKey === 'string' ? bodyWriteKey : undefined,
        },
        options.auth,
      );
      logger().appendKeys({ keyId: key.keyId, sourceId: key.sourceId });
    }
    const result = await handle({
      event,
      body: body?.value,
      bodyBytes: body?.bytes ?? 0,
      key: key as HttpRequest<z.infer<Q>, A>['key'],
      query: parseQuery(options.query, event.queryStringParameters ?? {}),
      params: event.pathParameters ?? {},
      requestId: context.awsRequestId,
    });
    return json(result.status ?? 200, result.body, result.headers);
  };

  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger(), { resetKeys: true }))
    .use(httpSecurityHeaders())
    .use({
      onError: async (request) => {
        request.response = errorResponse(request.error, request.context.awsRequestId);
      },
    })
    .handler(core);
}

/** The body as the route takes it: JSON (parsed), text (rawBody), or none (no maxBodyBytes). */
function readBodyOf(
  event: APIGatewayProxyEventV2,
  options: Pick<
    RouteOptions<z.ZodType, Role | undefined>,
    'maxBodyBytes' | 'rawBody' | 'optionalBody' | 'tooLargeHint'
  >,
): { value: unknown; bytes: number } | undefined {
  if (!options.maxBodyBytes) return undefined;
  return options.rawBody
    ? readTextBody(event, options.maxBodyBytes, options.tooLargeHint ?? '')
    : readJsonBody(event, options.maxBodyBytes, options.optionalBody, options.tooLargeHint);
}

function parseQuery<Q extends z.ZodType>(
  schema: Q | undefined,
  raw: Record<string, string | undefined>,
): z.infer<Q> {
  if (!schema) return raw as z.infer<Q>;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badRequest('Invalid query parameters.', toFieldIssues(parsed.error, raw));
  return parsed.data;
}
