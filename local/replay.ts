// Real orders for SDK replays against the local stack (tests and the load benchmark), and which of them
// the API will accept, decided by the same validation and quality rules the ingest function runs.
import type { QualityConfig } from '../lib/config.js';
import { datasetPath, onlineRetailEvents } from '../lib/datasets/index.js';
import { routeRequest } from '../lib/ingest/route.js';
import type { SpecEventInput } from '../lib/ingest/spec.js';

/**
 * The first `count` Online Retail orders (and refunds), each messageId under `prefix`: replays into one
 * stack must not collide, or dedup would rightly drop the second one.
 */
export async function retailOrders(prefix: string, count: number): Promise<SpecEventInput[]> {
  const events: SpecEventInput[] = [];
  for await (const e of onlineRetailEvents(datasetPath('online_retail'))) {
    if (events.length >= count) break;
    events.push({ ...e, messageId: `${prefix}-${e.messageId}` });
  }
  return events;
}

/** The messageIds of the events the API accepts (the rest it quarantines), as of now. */
export function acceptedMessageIds(events: SpecEventInput[], quality: QualityConfig): string[] {
  const routed = routeRequest(
    'batch',
    { batch: events },
    { sourceId: 'replay', receivedAt: Date.now() },
    { quality, bodyBytes: 0 },
  );
  return routed.accepted.map((e) => e.messageId);
}
