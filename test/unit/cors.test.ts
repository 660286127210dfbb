// Browser CORS of the ingestion routes: preflights answered without a key and without running the route,
// and every answer (errors included) readable from any origin.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { PREFLIGHT_HEADERS, withBrowserCors } from '../../lib/http/cors.js';

const context = {} as Context;
const request = (method: string) =>
  ({
    rawPath: '/v1/t',
    headers: {},
    requestContext: { http: { method } },
  }) as unknown as APIGatewayProxyEventV2;

describe('withBrowserCors', () => {
  it('answers a preflight with 204 and the allowed methods and headers, without running the route', async () => {
    const route = vi.fn();
    const response = await withBrowserCors(route)(request('OPTIONS'), context);
    expect(route).not.toHaveBeenCalled();
    expect(response).toEqual({ statusCode: 204, headers: PREFLIGHT_HEADERS });
    expect(response.headers?.['access-control-allow-headers']).toContain('Authorization');
  });

  it("opens the route's answers to any origin, errors included, keeping their own headers", async () => {
    for (const statusCode of [200, 400, 401, 413, 503]) {
      const route = vi.fn(async () => ({
        statusCode,
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }));
      const response = await withBrowserCors(route)(request('POST'), context);
      expect(route).toHaveBeenCalledOnce();
      expect(response).toEqual({
        statusCode,
        headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' },
        body: '{}',
      });
    }
  });
});
