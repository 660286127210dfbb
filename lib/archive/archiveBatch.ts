// The ingest consumer: deduplicates a batch of queued events by source and messageId and archives each new event
// exactly once, as one gzip NDJSON object per day partition. At-least-once delivery in, exactly-once
// archive out; see docs/architecture.md ("Exactly once into the archive") for the protocol.
import { randomUUID } from 'node:crypto';
import pMap from 'p-map';
import { parseEnvelope } from '../ingest/envelope.js';
import type { NormalizedEvent } from '../ingest/normalized.js';
import type { Logger } from '../log.js';
import type { QueueRecord } from '../queue/record.js';
import type { ArchiveStore, DedupClaim, DedupStore } from './ports.js';
import { archiveObjectKey, encodeArchiveObject, partitionOf, toArchiveRecord } from './record.js';

export interface ArchiveDeps {
  readonly dedup: DedupStore;
  readonly archive: ArchiveStore;
  readonly log: Logger;
  readonly now: () => number;
  readonly leaseMs: number;
  readonly windowMs: number;
  /** Claims made in parallel; DynamoDB handles far more, this bounds sockets and memory. */
  readonly concurrency?: number;
  readonly newToken?: () => string;
}

export interface ArchiveResult {
  /** Records to leave on the queue (reported as batchItemFailures). */
  readonly failedRecordIds: string[];
  /** Events archived by this call, for callers that pass them on. */
  readonly archived: NormalizedEvent[];
  readonly duplicates: number;
  readonly objects: string[];
}

interface Pending {
  readonly event: NormalizedEvent;
  readonly recordIds: Set<string>;
}

type ClaimOutcome = 'claimed' | 'duplicate' | 'busy';

/** Which events are the same event within a batch: the dedup scope (see DedupClaim). */
const eventKey = (e: NormalizedEvent) => JSON.stringify([e.sourceId, e.messageId]);

export async function archiveBatch(
  records: readonly QueueRecord[],
  deps: ArchiveDeps,
): Promise<ArchiveResult> {
  const failed = new Set<string>();
  const events = new Map<string, Pending>();
  for (const record of records) {
    const parsed = parseEnvelope(record.body);
    if (!parsed.ok) {
      // Not data we can quarantine, but a message nobody can read: let the redrive policy move it
      // to the DLQ after its retries, where an operator will see it.
      deps.log.error('unreadable queue message', { recordId: record.id, reason: parsed.reason });
      failed.add(record.id);
      continue;
    }
    for (const event of parsed.envelope.events) {
      const key = eventKey(event);
      const seen = events.get(key);
      if (seen) seen.recordIds.add(record.id);
      else events.set(key, { event, recordIds: new Set([record.id]) });
    }
  }

  const token = (deps.newToken ?? randomUUID)();
  const now = deps.now();
  const keyByDay = new Map<string, string>();
  const keyOf = (day: string) => {
    const key = keyByDay.get(day) ?? archiveObjectKey(day, now, token);
    keyByDay.set(day, key);
    return key;
  };
  const failRecords = (pending: Iterable<Pending>) => {
    for (const p of pending) for (const id of p.recordIds) failed.add(id);
  };

  // 1. Claim every event; group the claimed ones by the object they will be written to.
  const claimedByKey = new Map<string, { claims: DedupClaim[]; pending: Pending[] }>();
  // Claims whose write failed as far as we know, but which may exist all the same (a lost answer).
  const uncertain: DedupClaim[] = [];
  let duplicates = 0;
  await pMap(
    events.values(),
    async (p) => {
      const claim: DedupClaim = {
        sourceId: p.event.sourceId,
        messageId: p.event.messageId,
        token,
        objectKey: keyOf(partitionOf(p.event)),
        leaseUntil: now + deps.leaseMs,
        expiresAt: now + deps.windowMs,
      };
      let outcome: ClaimOutcome;
      try {
        outcome = await claimEvent(claim, deps, now);
      } catch (error) {
        deps.log.warn('dedup claim failed', { sourceId: claim.sourceId, messageId: claim.messageId, error });
        uncertain.push(claim);
        outcome = 'busy';
      }
      if (outcome === 'duplicate') duplicates++;
      else if (outcome === 'busy') failRecords([p]);
      else {
        const group = claimedByKey.get(claim.objectKey) ?? { claims: [], pending: [] };
        group.claims.push(claim);
        group.pending.push(p);
        claimedByKey.set(claim.objectKey, group);
      }
    },
    { concurrency: deps.concurrency ?? 32 },
  );

  // A claim of ours left behind names an object written without its event: a redelivery would find the
  // object and take the event for archived. Take such claims back, or write none of those objects.
  const unsafeKeys = new Set<string>();
  if (uncertain.length > 0) {
    await deps.dedup.release(uncertain).catch((error: unknown) => {
      deps.log.warn('uncertain claims not released', { claims: uncertain.length, error });
      for (const c of uncertain) unsafeKeys.add(c.objectKey);
    });
  }

  // 2. Write one object per partition, then mark its claims done.
  const archived: NormalizedEvent[] = [];
  const objects: string[] = [];
  const archivedAt = new Date(now).toISOString();
  for (const [key, group] of claimedByKey) {
    if (unsafeKeys.has(key)) {
      // Never written, so these claims can safely be given back.
      failRecords(group.pending);
      await deps.dedup.release(group.claims).catch((error: unknown) => {
        deps.log.warn('claim release failed; the leases will expire', { key, error });
      });
      continue;
    }
    try {
      const body = encodeArchiveObject(group.pending.map((p) => toArchiveRecord(p.event, archivedAt)));
      await deps.archive.put(key, body);
    } catch (error) {
      // The claims stay: a failed PUT may still have been applied. The records come back after the
      // visibility timeout, which outlasts the lease, and the object behind the claim then decides.
      deps.log.error('archive write failed; events stay on the queue', {
        key,
        events: group.claims.length,
        error,
      });
      failRecords(group.pending);
      continue;
    }
    objects.push(key);
    try {
      await deps.dedup.markDone(group.claims);
      archived.push(...group.pending.map((p) => p.event));
    } catch (error) {
      // Archived but not marked: a redelivery will find the object behind the claim and stop there.
      deps.log.warn('marking claims done failed; records will be retried', { key, error });
      failRecords(group.pending);
    }
  }
  return { failedRecordIds: [...failed], archived, duplicates, objects };
}

/** The claim protocol for one event (see DedupClaim). */
async function claimEvent(claim: DedupClaim, deps: ArchiveDeps, now: number): Promise<ClaimOutcome> {
  const existing = await deps.dedup.tryClaim(claim, now);
  if (existing === 'claimed') return 'claimed';
  // Our own claim, written by an attempt whose answer was lost (tokens are unique to a call).
  if (existing.token === claim.token) return 'claimed';
  if (existing.status === 'done') return 'duplicate';
  if (existing.leaseUntil > now) return 'busy';
  // An abandoned claim: its writer died before or after writing the object.
  if (await deps.archive.exists(existing.objectKey)) {
    await deps.dedup.markDone([existing]);
    return 'duplicate';
  }
  return (await deps.dedup.takeOver(claim, existing.token)) ? 'claimed' : 'busy';
}
