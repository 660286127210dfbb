// Sends spec events through the real, unmodified RudderStack Node SDK (@rudderstack/rudder-sdk-node), as a
// customer's backend would: default settings (gzip on, 20 events a request), only the host and key set.
import Analytics from '@rudderstack/rudder-sdk-node';
import type { SegmentTarget } from '../cli/segment.js';
import { SpecEvent, type SpecEventInput } from '../lib/ingest/spec.js';

export type RudderClient = InstanceType<typeof Analytics>;

export function rudderstackClient(target: SegmentTarget): RudderClient {
  // logLevel only quiets the SDK's console; it changes nothing on the wire.
  return new Analytics(target.writeKey, { dataPlaneUrl: target.httpUrl, logLevel: 'error' });
}

type Message = Record<string, unknown>;
type Call = (message: Message, callback: (error?: unknown) => void) => unknown;

/**
 * Dispatches an event to the SDK call of its type; `done` gets the SDK's delivery error, if any. The
 * spec's field names are the SDK's, except that it wants `timestamp` as a Date.
 */
export function sendWithRudderstack(
  client: RudderClient,
  input: SpecEventInput,
  done: (error?: unknown) => void,
): void {
  const { type, timestamp, ...fields } = SpecEvent.parse(input);
  const message: Message = timestamp === undefined ? fields : { ...fields, timestamp: new Date(timestamp) };
  // The SDK's typings differ per call; every call takes (message, callback) alike.
  const call = (client[type] as unknown as Call).bind(client);
  call(message, (error) => done(error));
}

/**
 * Sends what the SDK still holds, one request at a time (it never has two in flight). A failed request
 * rejects its flush; its error also reaches each event's callback, which is where callers look.
 */
export async function drainRudderstack(client: RudderClient, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const queued = () => (client as unknown as { queue: unknown[] }).queue.length;
  while (queued() > 0) {
    if (Date.now() > deadline) throw new Error(`the RudderStack SDK still holds ${queued()} events`);
    await client.flush().catch(() => {});
  }
  await client.flush().catch(() => {});
}
