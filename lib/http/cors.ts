// CORS for the routes browsers call (the ingestion API of analytics.js and other web SDKs): any origin.
// An HTTP API has one CORS configuration for all its routes, so it has none, and these handlers answer
// their own preflights (OPTIONS routes in serverless.yml) and mark their answers, errors included. Read,
// admin and import routes stay same-origin only: a web page cannot read them with a key it got hold of.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

const ANY_ORIGIN = { 'access-control-allow-origin': '*' };

/** What a preflight is told: the methods and headers a Segment-compatible browser SDK sends. */
export const PREFLIGHT_HEADERS = {
  ...ANY_ORIGIN,
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'Authorization, Content-Type, Content-Encoding',
  // Browsers cap this (Chrome at 2 hours): a preflight per page load at most, not per event.
  'access-control-max-age': '86400',
} as const;

/** The handler, answering preflights itself (no key needed: browsers send none) and open to any origin. */
export function withBrowserCors(handler: HttpHandler): HttpHandler {
  return async (event, context) => {
    if (event.requestContext?.http?.method === 'OPTIONS') {
      return { statusCode: 204, headers: { ...PREFLIGHT_HEADERS } };
    }
    const response = await handler(event, context);
    return { ...response, headers: { ...response.headers, ...ANY_ORIGIN } };
  };
}
