// Replaying quarantined events after a fix: of the rules (new thresholds in config), of the code, or of
// the event itself (a corrected payload). A replay goes through the same pipeline as a live request,
// with the original receive time and batch sentAt, so clocks are corrected exactly as the first time,
// and through the same PII protection: the sealed payload is opened, the event protected again.
import type { QualityConfig } from '../config.js';
import type { EventSink } from '../ingest/ingest.js';
import type { NormalizedEvent } from '../ingest/normalized.js';
import { prepareEvent } from '../ingest/route.js';
import type { FieldIssue } from '../ingest/spec.js';
import type { OpenPayload, QuarantineEntry, QuarantineQuery, QuarantineStore } from './model.js';

export type ReplayOutcome =
  | { readonly id: string; readonly outcome: 'replayed'; readonly messageId: string }
  | { readonly id: string; readonly outcome: 'still_invalid'; readonly errors: FieldIssue[] }
  | { readonly id: string; readonly outcome: 'not_replayable'; readonly reason: string }
  | { readonly id: string; readonly outcome: 'already_replayed' };

export interface ReplayDeps {
  readonly quarantine: QuarantineStore;
  readonly sink: EventSink;
  readonly quality: QualityConfig;
  readonly now: () => number;
  /** Decrypts a stored (sealed) payload. */
  readonly openPayload: OpenPayload;
  /** The edge's PII protection (IngestDeps.protect): replayed events leave protected as live ones do. */
  readonly protect: (e: NormalizedEvent) => Promise<NormalizedEvent>;
}

/** Replays one entry, optionally with a corrected event in place of the stored payload. */
export async function replayEntry(
  entry: QuarantineEntry,
  deps: ReplayDeps,
  corrected?: unknown,
): Promise<ReplayOutcome> {
  const { id } = entry;
  if (entry.status === 'replayed') return { id, outcome: 'already_replayed' };
  if (corrected === undefined && !entry.replayable) {
    return {
      id,
      outcome: 'not_replayable',
      reason: 'the event was too large to keep; send a corrected event',
    };
  }
  const raw =
    corrected === undefined
      ? JSON.parse(await deps.openPayload(entry.payload))
      : withTypeOf(entry, corrected);
  const ctx = { sourceId: entry.sourceId, receivedAt: Date.parse(entry.receivedAt), sentAt: entry.sentAt };
  const prepared = prepareEvent(raw, ctx, deps.quality);
  const at = new Date(deps.now()).toISOString();
  if (!prepared.ok) {
    await deps.quarantine.recordFailedReplay(id, prepared.issues, at);
    return { id, outcome: 'still_invalid', errors: prepared.issues };
  }
  // Enqueue first: if marking fails, a second replay enqueues again and dedup absorbs it.
  await deps.sink.enqueue([await deps.protect(prepared.event)]);
  await deps.quarantine.markReplayed(id, at);
  return { id, outcome: 'replayed', messageId: prepared.event.messageId };
}

/** A correction of a single-route call (POST /v1/track...) may leave out `type`, as the call did. */
function withTypeOf(entry: QuarantineEntry, corrected: unknown): unknown {
  const isObject = corrected !== null && typeof corrected === 'object' && !Array.isArray(corrected);
  return isObject && !('type' in corrected) && entry.type ? { ...corrected, type: entry.type } : corrected;
}

/** Replays every open entry a query finds, up to `max`. */
export async function replayMatching(
  query: Omit<QuarantineQuery, 'limit' | 'cursor' | 'status'>,
  deps: ReplayDeps,
  max: number,
): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.quarantine.list({ ...query, status: 'open', limit: Math.min(100, max), cursor });
    for (const entry of page.items) {
      if (outcomes.length >= max) return outcomes;
      outcomes.push(await replayEntry(entry, deps));
    }
    cursor = page.nextCursor;
  } while (cursor && outcomes.length < max);
  return outcomes;
}
