// JSON responses and the single conversion of errors into the API's error shape.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ErrorBody, HttpError, StorageUnavailable, unavailable } from '../errors.js';
import { logger } from '../log.js';

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResponse(error: unknown, requestId: string): APIGatewayProxyStructuredResultV2 {
  // lib/ throws no HTTP errors: its surprises that mean something to a client become one here.
  const http = error instanceof StorageUnavailable ? unavailable(error.message) : error;
  if (http instanceof HttpError) {
    // The original error is logged: a storage failure's cause says which store and why.
    if (http.status >= 500) logger().error(http.message, { error, status: http.status });
    const body: ErrorBody = { error: http.code, message: http.message, details: http.details, requestId };
    return json(http.status, body, http.headers);
  }
  logger().error('unhandled error', { error });
  const body: ErrorBody = {
    error: 'internal_error',
    message: 'Something went wrong on our side; it has been logged.',
    requestId,
  };
  return json(500, body);
}
