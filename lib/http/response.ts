// JSON responses and the single conversion of errors into the API's error shape.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ErrorBody, HttpError } from '../errors.js';
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
  if (error instanceof HttpError) {
    if (error.status >= 500) logger().error(error.message, { error, status: error.status });
    const body: ErrorBody = { error: error.code, message: error.message, details: error.details, requestId };
    return json(error.status, body, error.headers);
  }
  logger().error('unhandled error', { error });
  const body: ErrorBody = {
    error: 'internal_error',
    message: 'Something went wrong on our side; it has been logged.',
    requestId,
  };
  return json(500, body);
}
