// Activities out of the profiles consumer: after an archive object is applied, each of its events goes to
// the campaign engine as an Activity of the customer its attribution node resolves to. The port
// (ActivityPublisher; lib/adapters/sqs/activityQueue.ts sends to the campaign-activity queue) and the
// packing of activities into queue messages live here; docs/campaigns.md, "The path of a message".
import { z } from 'zod';
import { attributionNode, type NodeKey } from '../identity/nodes.js';
import type { NodeRecord } from '../identity/store.js';
import type { NormalizedEvent } from '../ingest/normalized.js';
import type { Logger } from '../log.js';
import { Activity, activityOf } from './activity.js';
import { ConsentChange, consentFromActivity } from './consent.js';
import { CarriedDate, datesOf } from './dateIndex.js';
import { DATE_TRAITS } from './model.js';

/**
 * An activity on the queue, with the consent choices its event carried (an identify's `traits.consent`, a
 * `Consent Updated` track) and its date traits for the date index (a birthday as the sealed token it is
 * in the archive): the Activity itself carries no traits.
 */
export const QueuedActivity = Activity.extend({
  consent: z.array(ConsentChange).max(50).optional(),
  dates: z.array(CarriedDate).max(DATE_TRAITS.length).optional(),
});
export type QueuedActivity = z.infer<typeof QueuedActivity>;

/** One message of the campaign-activity queue: several activities, each handled on its own downstream. */
export const ActivityMessage = z.object({ v: z.literal(1), activities: z.array(QueuedActivity).min(1) });
export type ActivityMessage = z.infer<typeof ActivityMessage>;

/**
 * SQS takes 256 KiB per message; a message is kept well below (an activity is at most a few KB) and to a
 * count one consumer invocation handles in far less than its timeout.
 */
export const MAX_MESSAGE_BYTES = 200 * 1024;
export const MAX_ACTIVITIES_PER_MESSAGE = 50;

export interface ActivityPublisher {
  /** Puts every activity on the queue (resolves only when all are); returns how many messages. */
  publish(activities: readonly QueuedActivity[]): Promise<number>;
}

/** Message bodies of at most MAX_ACTIVITIES_PER_MESSAGE activities and MAX_MESSAGE_BYTES each, in order. */
export function packActivities(
  activities: readonly QueuedActivity[],
  limits = { bytes: MAX_MESSAGE_BYTES, count: MAX_ACTIVITIES_PER_MESSAGE },
): string[] {
  const bodies: string[] = [];
  let current: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (current.length > 0) bodies.push(`{"v":1,"activities":[${current.join(',')}]}`);
    current = [];
    bytes = 0;
  };
  for (const activity of activities) {
    const json = JSON.stringify(activity);
    const size = Buffer.byteLength(json) + 1;
    if (current.length >= limits.count || (current.length > 0 && bytes + size > limits.bytes)) flush();
    current.push(json);
    bytes += size;
  }
  flush();
  return bodies;
}

export interface PublishDeps {
  /** The identity index's node pointers (one batched read per object). */
  readonly nodes: { getNodes(keys: readonly NodeKey[]): Promise<Map<NodeKey, NodeRecord>> };
  readonly publisher: ActivityPublisher;
  readonly log: Logger;
}

/**
 * Publishes the activities of an applied object's events. Called after every apply, also of an object
 * applied before: a consumer that died between applying and publishing must not lose them, and the
 * engine is idempotent per activity (wait keys, send claims), so a second publication costs only work.
 */
export async function publishActivities(
  events: readonly NormalizedEvent[],
  deps: PublishDeps,
): Promise<{ activities: number; messages: number; customers: string[] }> {
  const { activities, unresolved } = await resolveActivities(events, deps.nodes);
  const customers = [...new Set(activities.map((a) => a.customerId))];
  if (activities.length === 0 && unresolved === 0) return { activities: 0, messages: 0, customers };
  // Identity records every attribution node before its partial, so none should be missing; one that is
  // is logged (counts only) rather than failing the shared profiles record again and again.
  if (unresolved > 0) deps.log.warn('activities without an identity record dropped', { unresolved });
  const messages = await deps.publisher.publish(activities);
  return { activities: activities.length, messages, customers };
}

/**
 * The activities of events, each of the customer its attribution node resolves to (one batched read of
 * the identity index); `unresolved` counts events whose node it does not know. Also the back-test's.
 */
export async function resolveActivities(
  events: readonly NormalizedEvent[],
  nodes: PublishDeps['nodes'],
): Promise<{ activities: QueuedActivity[]; unresolved: number }> {
  const byEvent = new Map<NormalizedEvent, NodeKey>();
  for (const e of events) {
    const node = attributionNode(e);
    if (node !== undefined) byEvent.set(e, node);
  }
  if (byEvent.size === 0) return { activities: [], unresolved: 0 };
  const pointers = await nodes.getNodes([...new Set(byEvent.values())]);
  const activities: QueuedActivity[] = [];
  let unresolved = 0;
  for (const [event, node] of byEvent) {
    const record = pointers.get(node);
    if (record === undefined) {
      unresolved++;
      continue;
    }
    const consent = consentFromActivity(event);
    const dates = datesOf(event);
    activities.push({
      ...activityOf(record.customerId, event),
      ...(consent.length > 0 ? { consent } : {}),
      ...(dates.length > 0 ? { dates } : {}),
    });
  }
  return { activities, unresolved };
}
