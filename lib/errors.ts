// The one error family of the API. Converted to a response in exactly one place (lib/http/response.ts)
// with one JSON shape: { error, message, details? }. Messages of HttpErrors are written for clients;
// any other error becomes a 500 whose message is logged, never shown.
import { z } from 'zod';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const ErrorBody = z
  .object({
    error: z.string().meta({ example: 'bad_request' }),
    message: z.string(),
    details: z.unknown().optional(),
    requestId: z.string().optional(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const badRequest = (message: string, details?: unknown) =>
  new HttpError(400, 'bad_request', message, details);
export const malformedJson = (message: string) => new HttpError(400, 'malformed_json', message);
export const unauthorized = (message: string) =>
  new HttpError(401, 'unauthorized', message, undefined, { 'www-authenticate': 'Basic realm="precis"' });
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);
export const payloadTooLarge = (message: string) => new HttpError(413, 'payload_too_large', message);
export const unsupportedMediaType = (message: string) =>
  new HttpError(415, 'unsupported_media_type', message);
/** A dependency is down: clients (and Segment SDKs) retry 503 with backoff. */
export const unavailable = (message: string) =>
  new HttpError(503, 'unavailable', message, undefined, { 'retry-after': '5' });

/**
 * A store refused a write that had to be durable before the caller is answered (the queue, the
 * quarantine). Thrown by lib/ use cases, which know nothing of HTTP; the HTTP edge answers it with
 * `unavailable` (503: clients retry, and dedup absorbs what got through). The message is for clients.
 */
export class StorageUnavailable extends Error {
  override readonly name = 'StorageUnavailable';
}
