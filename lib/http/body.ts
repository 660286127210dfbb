// Reading an API Gateway (HTTP API, payload v2) request body: base64, gzip (RudderStack SDKs compress),
// the size limit, and JSON (or text, for routes that take files) — each failure with its own clear status.
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  badRequest,
  type HttpError,
  malformedJson,
  payloadTooLarge,
  unsupportedMediaType,
} from '../errors.js';

export interface JsonBody {
  readonly value: unknown;
  readonly bytes: number;
}

export interface TextBody {
  readonly value: string;
  readonly bytes: number;
}

/** What the 413 message tells a client to do instead, unless a route says otherwise. */
const FEWER_EVENTS = 'Send fewer events per batch.';

export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  return event.headers?.[name] ?? undefined;
}

export function readJsonBody(
  event: APIGatewayProxyEventV2,
  maxBytes: number,
  optional = false,
  tooLargeHint = FEWER_EVENTS,
): JsonBody {
  const buffer = readBody(event, maxBytes, tooLargeHint, () =>
    malformedJson('The body is not valid gzip data.'),
  );
  if (buffer.length === 0) {
    if (optional) return { value: undefined, bytes: 0 };
    throw malformedJson('The request body is empty; send a JSON object.');
  }
  try {
    return { value: JSON.parse(buffer.toString('utf8')), bytes: buffer.length };
  } catch (error) {
    throw malformedJson(`The body is not valid JSON: ${(error as Error).message}`);
  }
}

/** The body as UTF-8 text (CSV, NDJSON...), not parsed; an empty body is '' (the route decides). */
export function readTextBody(
  event: APIGatewayProxyEventV2,
  maxBytes: number,
  tooLargeHint: string,
): TextBody {
  const buffer = readBody(event, maxBytes, tooLargeHint, () =>
    badRequest('The body is not valid gzip data.'),
  );
  return { value: buffer.toString('utf8'), bytes: buffer.length };
}

function readBody(
  event: APIGatewayProxyEventV2,
  maxBytes: number,
  tooLargeHint: string,
  badGzip: () => HttpError,
): Buffer {
  const raw = event.body ?? '';
  let buffer = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  const encoding = header(event, 'content-encoding')?.toLowerCase();
  if (encoding === 'gzip') {
    try {
      // maxOutputLength stops a zip bomb at the limit instead of after it.
      buffer = gunzipSync(buffer, { maxOutputLength: maxBytes + 1 });
    } catch (error) {
      if (error instanceof RangeError)
        throw tooLarge('The decompressed request body is', maxBytes, tooLargeHint);
      throw badGzip();
    }
  } else if (encoding && encoding !== 'identity') {
    throw unsupportedMediaType(`Content-Encoding ${encoding} is not supported; use gzip or none.`);
  }
  if (buffer.length > maxBytes) {
    throw tooLarge(`The request body is ${buffer.length} bytes:`, maxBytes, tooLargeHint);
  }
  return buffer;
}

function tooLarge(what: string, maxBytes: number, hint: string) {
  const size =
    maxBytes >= 1024 * 1024 ? `${maxBytes / (1024 * 1024)} MB` : `${Math.round(maxBytes / 1024)} KB`;
  return payloadTooLarge(`${what} over the limit of ${maxBytes} bytes (${size}) per request. ${hint}`);
}
