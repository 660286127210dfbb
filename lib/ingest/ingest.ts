// The ingest use case behind POST /v1/*: route the request, protect PII (lib/pii: accepted events get
// their PII traits encrypted and identifiers hashed, quarantined payloads are sealed whole), make
// accepted events durable on the queue and rejected ones durable in the quarantine, and only then answer.
// What a client must be told (a body that is not events, every event rejected) is a value of the
// outcome; the HTTP edge turns it into a status. Only storage failures throw (StorageUnavailable: 503).
import type { QualityConfig } from '../config.js';
import { StorageUnavailable } from '../errors.js';
import type { Logger } from '../log.js';
import { mayHoldPii } from '../pii/protect.js';
import {
  type QuarantineStore,
  quarantineEntryOf,
  type SealPayload,
  sealedEntries,
} from '../quarantine/model.js';
import type { NormalizedEvent } from './normalized.js';
import { type IngestRoute, routeRequest } from './route.js';
import type { FieldIssue, IngestResponse, Rejection } from './spec.js';

/** Where accepted events go; resolves only once they are durable. */
export interface EventSink {
  enqueue(events: readonly NormalizedEvent[]): Promise<void>;
}

export interface IngestDeps {
  readonly sink: EventSink;
  readonly quarantine: Pick<QuarantineStore, 'put'>;
  readonly quality: QualityConfig;
  readonly log: Logger;
  readonly now: () => number;
  /** Encrypts an event's PII traits and adds its hashed identifiers (lib/pii/protect.ts). */
  readonly protect: (e: NormalizedEvent) => Promise<NormalizedEvent>;
  /** Encrypts a quarantined payload (raw client JSON) before it is stored. */
  readonly sealPayload: SealPayload;
}

export interface IngestRequest {
  readonly route: IngestRoute;
  readonly body: unknown;
  readonly bodyBytes: number;
  readonly sourceId: string;
  /**
   * When the request reached the service (epoch ms): API Gateway's `requestContext.timeEpoch` at the
   * HTTP edge. Time spent before the handler ran (a cold start, a queue of requests) is not client clock
   * skew, so the correction must start from here; `deps.now()` stands in only for callers with no
   * request (imports).
   */
  readonly receivedAt?: number;
}

export type IngestOutcome =
  /** Every event is accounted for: accepted (on the queue) or rejected (in the quarantine). */
  | { readonly ok: true; readonly value: IngestResponse }
  /** Every event was rejected and quarantined: nothing was accepted. */
  | {
      readonly ok: false;
      readonly reason: 'invalid_events';
      readonly message: string;
      readonly response: IngestResponse;
    }
  /** The body is not one event or a batch of them: nothing was stored. */
  | {
      readonly ok: false;
      readonly reason: 'invalid';
      readonly message: string;
      readonly issues: FieldIssue[];
    };

export async function ingest(req: IngestRequest, deps: IngestDeps): Promise<IngestOutcome> {
  const receivedAt = req.receivedAt ?? deps.now();
  const routed = routeRequest(
    req.route,
    req.body,
    { sourceId: req.sourceId, receivedAt },
    { quality: deps.quality, bodyBytes: req.bodyBytes },
  );
  if (!routed.ok) return { ok: false, reason: 'invalid', message: routed.message, issues: routed.issues };
  const quarantinedAt = deps.now();
  const entries = routed.rejected.map((r) => {
    const entry = quarantineEntryOf(
      { ...r, sourceId: req.sourceId, receivedAt, sentAt: routed.sentAt },
      quarantinedAt,
    );
    // A cut copy replayed as stored would be accepted without what was cut: only a correction may replay.
    return r.cut ? { ...entry, replayable: false } : entry;
  });
  try {
    await Promise.all([
      routed.accepted.length > 0 ? enqueueProtected(routed.accepted, deps) : undefined,
      entries.length > 0
        ? sealedEntries(entries, deps.sealPayload).then((e) => deps.quarantine.put(e))
        : undefined,
    ]);
  } catch (error) {
    // Nothing may be acknowledged that is not durable: the client retries, and dedup absorbs the
    // events that did get through.
    deps.log.error('ingest write failed', {
      error,
      accepted: routed.accepted.length,
      rejected: entries.length,
    });
    throw new StorageUnavailable('Events could not be stored; retry the request.', { cause: error });
  }
  const rejected: Rejection[] = routed.rejected.map((r, i) => ({
    index: r.index,
    messageId: r.messageId,
    quarantineId: entries[i]?.id ?? '',
    errors: r.issues,
  }));
  if (rejected.length > 0) {
    deps.log.info('events quarantined', { rejected: rejected.length, codes: [...codesOf(rejected)] });
  }
  const response: IngestResponse = { success: true, accepted: routed.accepted.length, rejected };
  if (routed.accepted.length === 0 && rejected.length > 0) {
    return { ok: false, reason: 'invalid_events', message: describe(rejected), response };
  }
  return { ok: true, value: response };
}

/** Most events (behavior without traits, device or external ids) skip protection without a promise. */
async function enqueueProtected(
  events: NormalizedEvent[],
  deps: Pick<IngestDeps, 'protect' | 'sink'>,
): Promise<void> {
  const protectedEvents = events.some(mayHoldPii)
    ? await Promise.all(events.map((e) => (mayHoldPii(e) ? deps.protect(e) : e)))
    : events;
  await deps.sink.enqueue(protectedEvents);
}

function codesOf(rejected: readonly Rejection[]): Set<string> {
  return new Set(rejected.flatMap((r) => r.errors.map((e) => e.code)));
}

/** "2 events rejected: [0] properties.revenue: must not be negative; ..." — readable in an SDK log. */
function describe(rejected: readonly Rejection[]): string {
  const first = rejected
    .slice(0, 3)
    .map((r) => `[${r.index}] ${r.errors.map((e) => `${e.path}: ${e.message}`).join(', ')}`)
    .join('; ');
  const more = rejected.length > 3 ? `; and ${rejected.length - 3} more` : '';
  const noun = rejected.length === 1 ? 'event was' : 'events were';
  return `${rejected.length} ${noun} rejected and quarantined: ${first}${more}`;
}
