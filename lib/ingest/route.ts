// The pure hot path of ingestion: a parsed request body becomes accepted NormalizedEvents and rejected
// events with their reasons. No I/O here, so it runs the same in Lambda, the replay CLI and benchmarks.
// A body that cannot be split into events at all is an outcome too (`ok: false`), not an exception.
import type { QualityConfig } from '../config.js';
import { cutAtDepth, MAX_EVENT_DEPTH, tooDeepAt } from './depth.js';
import { normalizeEvent, type RequestContext } from './normalize.js';
import type { NormalizedEvent } from './normalized.js';
import { checkQuality } from './quality.js';
import {
  BatchBody,
  type EventType,
  type FieldIssue,
  formatPath,
  isoDateTimeMs,
  MAX_EVENT_BYTES,
  SpecEvent,
  toFieldIssues,
} from './spec.js';

/** The ingestion routes: one per Segment call, plus batch (and its Segment alias, import). */
export type IngestRoute = EventType | 'batch';

export interface RejectedEvent {
  readonly index: number;
  /** The event as sent; for an event nested too deep, a copy cut at the limit (see `cut`). */
  readonly raw: unknown;
  readonly messageId?: string;
  readonly issues: FieldIssue[];
  /** `raw` is not the event as sent but a copy cut at MAX_EVENT_DEPTH: it cannot be replayed as stored. */
  readonly cut?: true;
}

export interface RoutedRequest {
  readonly ok: true;
  readonly accepted: NormalizedEvent[];
  readonly rejected: RejectedEvent[];
  /** The batch-level sentAt, kept with quarantined events so a replay corrects clocks the same way. */
  readonly sentAt?: string;
}

/** A body that is not one event or a batch of them: nothing accepted, nothing to quarantine. */
export interface InvalidRequest {
  readonly ok: false;
  readonly message: string;
  readonly issues: FieldIssue[];
  readonly accepted: readonly [];
  readonly rejected: readonly [];
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
): RoutedRequest | InvalidRequest {
  const split = eventsOf(route, body);
  if (!split.ok) return split;
  const { events, sentAt } = split;
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
  events.forEach((sent, index) => {
    // Depth is checked on the event as sent: the batch-level fields it inherits were checked once.
    const deep = nestingIssue(sent);
    const raw = withBatchDefaults(sent, split);
    if (deep) {
      rejected.push({
        index,
        raw: cutAtDepth(raw, MAX_EVENT_DEPTH),
        messageId: messageIdOf(raw),
        issues: [deep],
        cut: true,
      });
      return;
    }
    const result = prepareNested(raw, requestCtx, options.quality, checkSize);
    if (result.ok) accepted.push(result.event);
    else rejected.push({ index, raw, messageId: result.messageId, issues: result.issues });
  });
  return { ok: true, accepted, rejected, sentAt };
}

export type Prepared =
  | { readonly ok: true; readonly event: NormalizedEvent }
  | { readonly ok: false; readonly issues: FieldIssue[]; readonly messageId?: string };

/** One event through the nesting limit, validation, normalization and the quality rules. Never throws. */
export function prepareEvent(
  raw: unknown,
  ctx: RequestContext,
  quality: QualityConfig,
  checkSize = true,
): Prepared {
  const deep = nestingIssue(raw);
  if (deep) return { ok: false, messageId: messageIdOf(raw), issues: [deep] };
  return prepareNested(raw, ctx, quality, checkSize);
}

/** The nesting limit as a FieldIssue naming the first container past it. */
function nestingIssue(raw: unknown): FieldIssue | undefined {
  const at = tooDeepAt(raw, MAX_EVENT_DEPTH);
  if (at === undefined) return undefined;
  return {
    path: formatPath(at),
    code: 'too_deep',
    message: `nests objects or arrays more than ${MAX_EVENT_DEPTH} levels deep (the event itself is level 1)`,
  };
}

/** prepareEvent for an event known to nest within MAX_EVENT_DEPTH: from here on, recursion is safe. */
function prepareNested(
  raw: unknown,
  ctx: RequestContext,
  quality: QualityConfig,
  checkSize: boolean,
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

interface SplitRequest {
  readonly ok: true;
  /** The events as sent, before the batch-level defaults below are applied. */
  readonly events: unknown[];
  readonly sentAt?: string;
  readonly context?: Record<string, unknown>;
  readonly integrations?: Record<string, unknown>;
}

/** Splits a request body into raw events and Segment's batch-level sentAt, context and integrations. */
function eventsOf(route: IngestRoute, body: unknown): SplitRequest | InvalidRequest {
  const invalid = (message: string, issues: FieldIssue[]): InvalidRequest => ({
    ok: false,
    message,
    issues,
    accepted: [],
    rejected: [],
  });
  if (route !== 'batch') {
    if (!isObject(body)) {
      return invalid('The request body must be a JSON object (one event).', [
        { path: '(root)', code: 'invalid_type', message: 'must be a JSON object (one event)' },
      ]);
    }
    // The route names the call, as in Segment: a `type` in the body is overridden. A body writeKey is
    // a credential, not part of the event: it must not reach the quarantine's stored payload.
    const { writeKey: _credential, ...event } = body;
    return { ok: true, events: [{ ...event, type: route }] };
  }
  const parsed = BatchBody.safeParse(body);
  if (!parsed.success) {
    return invalid('The request body is not a valid batch.', toFieldIssues(parsed.error, body));
  }
  const { batch, context, integrations, sentAt } = parsed.data;
  // Every event inherits these: checked once here rather than once per event.
  const deep = nestingIssue({ context, integrations });
  if (deep) return invalid(`The batch-level ${deep.path} is nested too deep.`, [deep]);
  return { ok: true, events: batch, sentAt, context, integrations };
}

/** Batch-level fields fill in what an event lacks; a malformed event value is kept for validation to report. */
function withBatchDefaults(event: unknown, { context, integrations }: SplitRequest): unknown {
  if ((!context && !integrations) || !isObject(event)) return event;
  return {
    ...event,
    context: withDefaults(context, event.context),
    integrations: withDefaults(integrations, event.integrations),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const withDefaults = (defaults: Record<string, unknown> | undefined, value: unknown) =>
  defaults && (value === undefined || isObject(value)) ? { ...defaults, ...value } : value;

function messageIdOf(raw: unknown): string | undefined {
  const id = isObject(raw) ? raw.messageId : undefined;
  return typeof id === 'string' && id.trim() ? id.trim().slice(0, 200) : undefined;
}
