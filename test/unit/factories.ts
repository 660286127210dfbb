// Small typed factories shared by the unit tests. Every call returns a fresh object, so a test may
// change what it gets without touching another test's data.
import { parseConfig, type QualityConfig } from '../../lib/config.js';
import { HttpError } from '../../lib/errors.js';
import type { RequestContext } from '../../lib/ingest/normalize.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';

/** A fixed server clock: every test reasons from this receive time. */
export const RECEIVED_AT = Date.parse('2026-11-22T14:30:00.000Z');
export const SOURCE_ID = 'src_web';

/** The default quality thresholds, read the way the service reads them. */
export const defaultQuality = (): QualityConfig => parseConfig({}).quality;

export const requestContext = (overrides: Partial<RequestContext> = {}): RequestContext => ({
  sourceId: SOURCE_ID,
  receivedAt: RECEIVED_AT,
  ...overrides,
});

/** A clean track event as normalization would produce it. */
export const normalizedEvent = (overrides: Partial<NormalizedEvent> = {}): NormalizedEvent => ({
  messageId: 'msg-1',
  type: 'track',
  event: 'Order Completed',
  userId: 'user-1',
  properties: { order_id: 'o-1', revenue: 25, currency: 'EUR' },
  timestamp: new Date(RECEIVED_AT - 60_000).toISOString(),
  receivedAt: new Date(RECEIVED_AT).toISOString(),
  sourceId: SOURCE_ID,
  ...overrides,
});

/** Reads the issues of a rejection as [path, code] pairs (the parts a client acts on). */
export const pathsAndCodes = (issues: readonly { path: string; code: string }[]): [string, string][] =>
  issues.map((i) => [i.path, i.code]);

/** The HttpError `fn` throws; fails the test when it throws nothing or something else. */
export function httpErrorOf(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected an HttpError, but nothing was thrown');
}
