// Turns a validated spec event into a NormalizedEvent: the event time (an explicit timestamp, else
// Segment's clock-skew correction), a messageId for events sent without one, and e-commerce
// standardization of track events.
import { createHash } from 'node:crypto';
import { specEventName, standardizeProperties } from './ecommerce.js';
import type { NormalizedEvent } from './normalized.js';
import { isoDateTimeMs, type SpecEvent } from './spec.js';

/** What the edge knows about the request an event came in. */
export interface RequestContext {
  readonly sourceId: string;
  /** Server time the request arrived, epoch ms. */
  readonly receivedAt: number;
  /** The same as ISO text, formatted once per request. */
  readonly receivedAtIso?: string | undefined;
  /** Batch-level `sentAt` (client clock), used when the event has none of its own. */
  readonly sentAt?: string | undefined;
  /** The same, as epoch ms. */
  readonly sentAtMs?: number | undefined;
}

/**
 * Segment's rule: timestamp = receivedAt - (sentAt - originalTimestamp). The device clock may be
 * wrong, but the time between the event and its sending is measured on that one clock, so subtracting
 * it from the server's receive time gives the event time on the server's clock. Without sentAt there
 * is nothing to correct with and the client's timestamp stands; without any timestamp, the event
 * happened when it was received.
 */
export function correctedTimestamp(receivedAt: number, original?: string, sentAt?: string | number): number {
  if (original === undefined) return receivedAt;
  const originalMs = isoDateTimeMs(original);
  if (sentAt === undefined) return originalMs;
  return receivedAt - ((typeof sentAt === 'number' ? sentAt : isoDateTimeMs(sentAt)) - originalMs);
}

/**
 * When the event happened. A `timestamp` sent beside an `originalTimestamp` was set by the caller and
 * wins as it is: that is how RudderStack's SDKs pass a backfill's time (they stamp originalTimestamp
 * with the call time), how Segment documents historical imports, and what an export of already
 * corrected events carries. Otherwise the one client time sent (`originalTimestamp`, or the `timestamp`
 * analytics.js and analytics-node stamp at the call) is corrected for the device's clock skew.
 */
function eventTime(e: SpecEvent, ctx: RequestContext): number {
  if (e.timestamp !== undefined && e.originalTimestamp !== undefined) return isoDateTimeMs(e.timestamp);
  // A batch's sentAt is parsed once per request, not once per event.
  const sentAt = e.sentAt ?? ctx.sentAtMs ?? ctx.sentAt;
  return correctedTimestamp(ctx.receivedAt, e.originalTimestamp ?? e.timestamp, sentAt);
}

export function normalizeEvent(e: SpecEvent, ctx: RequestContext): NormalizedEvent {
  const sentAt = e.sentAt ?? ctx.sentAt;
  const originalTimestamp = e.originalTimestamp ?? e.timestamp;
  // Keys are only ever added when defined (never deleted): objects keep a fast shape for serialization.
  const out: NormalizedEvent = {
    messageId: e.messageId ?? derivedMessageId(e, ctx.sourceId),
    type: e.type,
    timestamp: new Date(eventTime(e, ctx)).toISOString(),
    receivedAt: ctx.receivedAtIso ?? new Date(ctx.receivedAt).toISOString(),
    sourceId: ctx.sourceId,
  };
  if (e.userId !== undefined) out.userId = e.userId;
  if (e.anonymousId !== undefined) out.anonymousId = e.anonymousId;
  addTypeFields(out, e);
  if (e.context) out.context = e.context;
  if (e.integrations) out.integrations = e.integrations;
  if (originalTimestamp !== undefined) out.originalTimestamp = originalTimestamp;
  if (sentAt !== undefined) out.sentAt = sentAt;
  return out;
}

/** The fields only some calls have; track events get their e-commerce spec name and properties. */
function addTypeFields(out: NormalizedEvent, e: SpecEvent): void {
  switch (e.type) {
    case 'track': {
      const spec = specEventName(e.event);
      out.event = spec ?? e.event;
      if (spec && spec !== e.event) out.originalEvent = e.event;
      if (e.properties) out.properties = spec ? standardizeProperties(e.properties) : e.properties;
      return;
    }
    case 'page':
    case 'screen':
      if (e.name !== undefined) out.name = e.name;
      if (e.category !== undefined) out.category = e.category;
      if (e.properties) out.properties = e.properties;
      return;
    case 'identify':
      if (e.traits) out.traits = e.traits;
      return;
    case 'group':
      out.groupId = e.groupId;
      if (e.traits) out.traits = e.traits;
      return;
    case 'alias':
      out.previousId = e.previousId;
      return;
  }
}

/**
 * Events sent without a messageId (plain curl, some server libraries) get one derived from their
 * content, so that a retried request is still deduplicated. Two byte-identical events from one source
 * are, by this definition, the same event — clients that can send true repeats must send messageIds.
 * sentAt is left out: a client stamps it anew on every retry.
 */
export function derivedMessageId(e: SpecEvent, sourceId: string): string {
  const content = stableStringify({ ...e, sentAt: undefined });
  const hash = createHash('sha256').update(sourceId).update('\n').update(content).digest('hex');
  return `derived-${hash.slice(0, 40)}`;
}

/** JSON with object keys sorted, so that equal values always hash alike. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}
