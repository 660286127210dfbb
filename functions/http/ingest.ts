// POST /v1/track|identify|page|screen|group|alias|batch|import — the Segment HTTP Tracking API — and the
// one-letter paths analytics.js (the browser SDK) posts to: /v1/t|i|p|s|g|a, and /v1/b when batching.

import { badRequest, HttpError } from '../../lib/errors.js';
import { withBrowserCors } from '../../lib/http/cors.js';
import { withHttp } from '../../lib/http/withHttp.js';
import { type IngestOutcome, ingest } from '../../lib/ingest/ingest.js';
import type { IngestRoute } from '../../lib/ingest/route.js';
import { MAX_REQUEST_BYTES } from '../../lib/ingest/spec.js';
import { ingestDeps } from '../../lib/runtime.js';

const ROUTES: Record<string, IngestRoute> = {
  track: 'track',
  identify: 'identify',
  page: 'page',
  screen: 'screen',
  group: 'group',
  alias: 'alias',
  batch: 'batch',
  import: 'batch',
  t: 'track',
  i: 'identify',
  p: 'page',
  s: 'screen',
  g: 'group',
  a: 'alias',
  b: 'batch',
};

const ingestRoute = withHttp(
  { auth: 'write', maxBodyBytes: MAX_REQUEST_BYTES, bodyWriteKey: true },
  async ({ event, body, bodyBytes, key }) => {
    const call = event.rawPath.replace(/\/+$/, '').split('/').pop() ?? '';
    const route = ROUTES[call];
    if (!route) throw new Error(`ingest handler mounted on an unknown path: ${event.rawPath}`);
    // API Gateway's receive time; the handler's clock only when a caller (a test, a tool) leaves it out.
    const epoch: unknown = event.requestContext?.timeEpoch;
    const receivedAt = typeof epoch === 'number' && epoch > 0 ? epoch : undefined;
    return {
      body: answer(
        await ingest({ route, body, bodyBytes, sourceId: key.sourceId, receivedAt }, ingestDeps()),
      ),
    };
  },
);

/** Browsers call these routes (analytics.js): open to any origin, preflights answered here. */
export const handler = withBrowserCors(ingestRoute);

/** The outcome as HTTP: 200 when any event was accepted, else a 400 that says why. */
function answer(outcome: IngestOutcome) {
  if (outcome.ok) return outcome.value;
  if (outcome.reason === 'invalid_events') {
    throw new HttpError(400, 'invalid_events', outcome.message, outcome.response);
  }
  throw badRequest(outcome.message, outcome.issues);
}
