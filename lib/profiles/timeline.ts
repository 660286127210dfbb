// A node's recent events, kept inside its partial profile (so the timeline costs no writes of its own and
// is exactly-once by the same ledger), merged per customer on read for GET /v1/customers/{id}/events.
// Deeper history is the archive's: Athena or DuckDB over raw/.
import { z } from 'zod';
import type { NormalizedEvent } from '../ingest/normalized.js';

/** Latest events kept per node. */
export const RECENT_EVENTS_MAX = 50;
/** A timeline shows what happened, not every payload: properties are cut to a preview. */
const MAX_PROPERTIES_CHARS = 1024;

export const TimelineEvent = z
  .object({
    messageId: z.string(),
    type: z.string(),
    event: z.string().optional(),
    name: z.string().optional(),
    timestamp: z.string(),
    sourceId: z.string(),
    /** JSON text of the properties (personal traits are never here: they are encrypted at the edge). */
    properties: z.string().optional(),
    propertiesTruncated: z.boolean().optional(),
  })
  .meta({ id: 'TimelineEvent' });
export type TimelineEvent = z.infer<typeof TimelineEvent>;

/**
 * A timeline event as the API shows it: the properties as an object when they were kept whole, else the
 * cut JSON text as `propertiesPreview` (it is stored as text because a cut object is not JSON).
 */
export const CustomerEvent = TimelineEvent.omit({ properties: true })
  .extend({
    properties: z.record(z.string(), z.unknown()).optional(),
    propertiesPreview: z
      .string()
      .optional()
      .meta({ description: 'The first 1,024 characters of the properties as JSON' }),
  })
  .meta({ id: 'CustomerEvent' });
export type CustomerEvent = z.infer<typeof CustomerEvent>;

export function toCustomerEvent({ properties, ...rest }: TimelineEvent): CustomerEvent {
  if (properties === undefined) return rest;
  if (rest.propertiesTruncated) return { ...rest, propertiesPreview: properties };
  return { ...rest, properties: z.record(z.string(), z.unknown()).parse(JSON.parse(properties)) };
}

export function toTimelineEvent(e: NormalizedEvent): TimelineEvent {
  const out: TimelineEvent = {
    messageId: e.messageId,
    type: e.type,
    timestamp: e.timestamp,
    sourceId: e.sourceId,
  };
  if (e.event !== undefined) out.event = e.event;
  if (e.name !== undefined) out.name = e.name;
  if (e.properties) {
    const json = JSON.stringify(e.properties);
    if (json.length > MAX_PROPERTIES_CHARS) {
      out.properties = json.slice(0, MAX_PROPERTIES_CHARS);
      out.propertiesTruncated = true;
    } else out.properties = json;
  }
  return out;
}

/**
 * Sort key and /events cursor: newest first by event time, then messageId, then source. Dedup is per
 * source, so one messageId from two sources is two events; the source makes the key unique. It comes last
 * so that a cursor of the old form `timestamp#messageId` (clients may hold one) is a prefix of its event's
 * key and still sorts where it did. The source is URI-encoded so it holds no '#': the first '#' ends the
 * timestamp and the last starts the source, so no two events share a key whatever their ids contain.
 */
export const timelineKey = (e: Pick<TimelineEvent, 'timestamp' | 'messageId' | 'sourceId'>) =>
  `${e.timestamp}#${e.messageId}#${encodeURIComponent(e.sourceId)}`;

/** An event's identity: dedup is per source, so the same messageId from two sources is two events. */
const eventIdentity = (e: TimelineEvent) => JSON.stringify([e.sourceId, e.messageId]);

/** The `max` newest of two timelines, each event (source and messageId) once (commutative and associative). */
export function mergeTimelines(
  a: readonly TimelineEvent[],
  b: readonly TimelineEvent[],
  max = RECENT_EVENTS_MAX,
): TimelineEvent[] {
  const byId = new Map<string, TimelineEvent>();
  for (const e of a) byId.set(eventIdentity(e), e);
  for (const e of b) if (!byId.has(eventIdentity(e))) byId.set(eventIdentity(e), e);
  return [...byId.values()].sort((x, y) => (timelineKey(x) < timelineKey(y) ? 1 : -1)).slice(0, max);
}
