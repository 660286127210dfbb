// The pure hot path of ingestion: a parsed request body becomes accepted NormalizedEvents and rejected
// events with their reasons. No I/O here, so it runs the same in Lambda, the replay CLI and benchmarks.
import type { QualityConfig } from '../config.js';
import { badRequest } from '../errors.js';
import { normalizeEvent, type RequestContext } from './normalize.js';
import type { NormalizedEvent } from './normalized.js';
import { checkQuality } from './quality.js';
import {
  BatchBody,
  type EventType,
  type FieldIssue,
  isoDateTimeMs,
  MAX_EVENT_BYTES,
  SpecEvent,
  toFieldIssues,
} from './spec.js';

/** The ingestion routes: one per Segment call, plus batch (and its Segment alias, import). */
export type IngestRoute = EventType | 'batch';

export interface RejectedEvent {
  readonly index: number;
  readonly raw: unknown;
  readonly messageId?: string;
  readonly issues: FieldIssue[];
}

export interface RoutedRequest {
  readonly accepted: NormalizedEvent[];
  readonly rejected: RejectedEvent[];
  /** The batch-level sentAt, kept with quarantined events so a replay corrects clocks the same way. */
  readonly sentAt?: string;
}

export interface RouteOptions {
  readonly quality: QualityConfig;
  /** Byte size of the request body: per-event size checks are skipped when the whole body is small. */
  readonly bodyBytes: number;
}

export function routeRequest(
  route: IngestRoute,
  body: unknown,
  ctx: Omit<RequestContext, 'sentAt'>,
  options: RouteOptions,
): RoutedRequest {
  const { events, sentAt } = eventsOf(route, body);
  // Shared by every event of the request: parsed and formatted once.
  const requestCtx: RequestContext = {
    ...ctx,
    receivedAtIso: new Date(ctx.receivedAt).toISOString(),
    sentAt,
    sentAtMs: sentAt === undefined ? undefined : isoDateTimeMs(sentAt),
  };
  const checkSize = options.bodyBytes > MAX_EVENT_BYTES;
  const accepted: NormalizedEvent[] = [];
  const rejected: RejectedEvent[] = [];
  events.forEach((raw, index) => {
    const result = prepareEvent(raw, requestCtx, options.quality, checkSize);
    if (result.ok) accepted.push(result.event);
    else rejected.push({ index, raw, messageId: result.messageId, issues: result.issues });
  });
  return { accepted, rejected, sentAt };
}

export type Prepared =
  | { readonly ok: true; readonly event: NormalizedEvent }
  | { readonly ok: false; readonly issues: FieldIssue[]; readonly messageId?: string };

/** One event through validation, normalization and the quality rules. Never throws. */
export function prepareEvent(
  raw: unknown,
  ctx: RequestContext,
  quality: QualityConfig,
  checkSize = true,
): Prepared {
  if (checkSize) {
    // Segment measures the event as sent; re-serializing it is the one exact measure we have.
    const bytes = Buffer.byteLength(JSON.stringify(raw) ?? '');
    if (bytes > MAX_EVENT_BYTES) {
      return {
        ok: false,
        messageId: messageIdOf(raw),
        issues: [
          {
            path: '(root)',
            code: 'event_too_large',
            message: `is ${bytes} bytes; the limit is ${MAX_EVENT_BYTES} bytes (32 KB) per event`,
          },
        ],
      };
    }
  }
  const parsed = SpecEvent.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, messageId: messageIdOf(raw), issues: toFieldIssues(parsed.error, raw) };
  }
  const event = normalizeEvent(parsed.data, ctx);
  const issues = checkQuality(event, quality, ctx.receivedAt);
  return issues.length === 0 ? { ok: true, event } : { ok: false, issues, messageId: event.messageId };
}

/** Splits a request body into raw events, applying Segment's batch-level context and integrations. */
function eventsOf(route: IngestRoute, body: unknown): { events: unknown[]; sentAt?: string } {
  if (route !== 'batch') {
    if (!isObject(body)) {
      throw badRequest('The request body must be a JSON object (one event).', [
        { path: '(root)', code: 'invalid_type', message: 'must be a JSON object (one event)' },
      ]);
    }
    // The route names the call, as in Segment: a `type` in the body is overridden. A body writeKey is
    // a credential, not part of the event: it must not reach the quarantine's stored payload.
    const { writeKey: _credential, ...event } = body;
    return { events: [{ ...event, type: route }] };
  }
  const parsed = BatchBody.safeParse(body);
  if (!parsed.success) {
    throw badRequest('The request body is not a valid batch.', toFieldIssues(parsed.error, body));
  }
  const { batch, context, integrations, sentAt } = parsed.data;
  if (!context && !integrations) return { events: batch, sentAt };
  const events = batch.map((e) =>
    isObject(e)
      ? {
          ...e,
          context: withDefaults(context, e.context),
          integrations: withDefaults(integrations, e.integrations),
        }
      : e,
  );
  return { events, sentAt };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
/** Batch-level fields fill in what an event lacks; a malformed event value is kept for validation to report. */
const withDefaults = (defaults: Record<string, unknown> | undefined, value: unknown) =>
  defaults && (value === undefined || isObject(value)) ? { ...defaults, ...value } : value;

function messageIdOf(raw: unknown): string | undefined {
  const id = isObject(raw) ? raw.messageId : undefined;
  return typeof id === 'string' && id.trim() ? id.trim().slice(0, 200) : undefined;
}
