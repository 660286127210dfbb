// Crash recovery of the claim protocol against the real stores: a consumer that dies after the S3 write,
// one that dies before it leaving its claims behind, and a live lease that keeps a second consumer out.
// The clock is injected, so "after the lease" needs no waiting.
import { afterAll, describe, expect, it } from 'vitest';
import { archiveBatch } from '../../lib/archive/archiveBatch.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { makeEvents, newId, randomDay, recordsOf, sorted } from '../support/archiveFixtures.js';
import {
  archivedCounts,
  archiveHarness,
  archiveWith,
  dedupWith,
  failingTimes,
} from '../support/archiveHarness.js';

const h = archiveHarness();
afterAll(() => h.close());

const LEASE_MS = 2_000;
const idsOf = (events: readonly NormalizedEvent[]) => events.map((e) => e.messageId);
const crash = (what: string) => () => new Error(`injected crash: ${what}`);

function scenario(n = 4) {
  const sourceId = newId('src');
  const day = randomDay();
  const events = makeEvents(sourceId, n, { receivedAt: `${day}T11:00:00.000Z` });
  const records = recordsOf(events, 2);
  return { sourceId, day, events, records, recordIds: sorted(records.map((r) => r.id)) };
}

describe('claim protocol crash recovery', () => {
  it('a crash after the S3 write and before markDone: redelivery finds the object and archives nothing twice', async () => {
    const s = scenario();
    const t0 = Date.now();
    const markDone = failingTimes(1, crash('markDone'), h.dedup.markDone);
    const crashed = await archiveBatch(
      s.records,
      h.deps({ dedup: dedupWith(h.dedup, { markDone }), now: () => t0, leaseMs: LEASE_MS }),
    );
    expect(markDone.calls()).toBe(1);
    expect(sorted(crashed.failedRecordIds)).toEqual(s.recordIds);
    expect(crashed.archived).toEqual([]);
    expect(crashed.objects).toHaveLength(1);
    const [objectKey] = crashed.objects;
    // The object is there, the claims still pending and pointing at it.
    expect(await h.archive.exists(objectKey ?? '')).toBe(true);
    for (const id of idsOf(s.events)) {
      expect(await h.dedupItem(id, s.sourceId)).toMatchObject({
        status: 'pending',
        objectKey,
        leaseUntil: t0 + LEASE_MS,
      });
    }

    // While the lease lives, the redelivery is told to come back later.
    const early = await archiveBatch(s.records, h.deps({ now: () => t0 + LEASE_MS - 1, leaseMs: LEASE_MS }));
    expect(sorted(early.failedRecordIds)).toEqual(s.recordIds);
    expect(early).toMatchObject({ archived: [], duplicates: 0, objects: [] });

    const later = await archiveBatch(s.records, h.deps({ now: () => t0 + LEASE_MS + 1, leaseMs: LEASE_MS }));
    expect(later).toEqual({ failedRecordIds: [], archived: [], duplicates: s.events.length, objects: [] });
    for (const id of idsOf(s.events)) {
      expect(await h.dedupItem(id, s.sourceId)).toMatchObject({ status: 'done', objectKey });
    }

    const counts = archivedCounts(await h.archivedRows(s.sourceId, [s.day]));
    expect(sorted(counts.keys())).toEqual(sorted(idsOf(s.events)));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('a failed S3 write leaves its claims: after the lease, redelivery takes over and archives once', async () => {
    const s = scenario();
    const t0 = Date.now();
    const put = failingTimes(1, crash('put'), h.archive.put);
    const release = failingTimes(1, crash('release'), h.dedup.release);
    const crashed = await archiveBatch(
      s.records,
      h.deps({
        archive: archiveWith(h.archive, { put }),
        dedup: dedupWith(h.dedup, { release }),
        now: () => t0,
        leaseMs: LEASE_MS,
      }),
    );
    expect(put.calls()).toBe(1);
    // A failed PUT may have been applied all the same: its claims are kept, never given back.
    expect(release.calls()).toBe(0);
    expect(sorted(crashed.failedRecordIds)).toEqual(s.recordIds);
    expect(crashed).toMatchObject({ archived: [], objects: [] });
    expect(h.logger.messages('error')).toContain('archive write failed; events stay on the queue');

    const abandoned = await h.dedupItem(s.events[0]?.messageId ?? '', s.sourceId);
    expect(abandoned?.status).toBe('pending');
    expect(await h.archive.exists(abandoned?.objectKey ?? '')).toBe(false);
    expect(await h.archivedRows(s.sourceId, [s.day])).toEqual([]);

    const later = await archiveBatch(s.records, h.deps({ now: () => t0 + LEASE_MS + 1, leaseMs: LEASE_MS }));
    expect(later.failedRecordIds).toEqual([]);
    expect(later.duplicates).toBe(0);
    expect(sorted(idsOf(later.archived))).toEqual(sorted(idsOf(s.events)));
    const [objectKey] = later.objects;
    for (const id of idsOf(s.events)) {
      const item = await h.dedupItem(id, s.sourceId);
      expect(item).toMatchObject({ status: 'done', objectKey });
      expect(item?.token).not.toBe(abandoned?.token);
    }

    const counts = archivedCounts(await h.archivedRows(s.sourceId, [s.day]));
    expect(sorted(counts.keys())).toEqual(sorted(idsOf(s.events)));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  // A claim can be written while its caller sees an error (a timeout, a connection reset): the SDK
  // retries and finds the claim taken (by itself), or the error reaches archiveBatch. Either way the
  // event is not in the object its claim names, so that object must not pass for its archive.
  it.each([
    { mode: 'the retried claim finds its own pending claim', fails: 'none' },
    { mode: 'the claim call fails after the claim was written', fails: 'its record' },
    { mode: 'the claim call fails and the claim cannot be released', fails: 'all' },
  ] as const)('a claim written but not acknowledged ($mode) does not lose the event', async ({ fails }) => {
    const s = scenario(4);
    const t0 = Date.now();
    const lost = s.events[1]?.messageId;
    const dedup = dedupWith(h.dedup, {
      tryClaim: async (claim, now) => {
        const outcome = await h.dedup.tryClaim(claim, now);
        if (claim.messageId !== lost) return outcome;
        expect(outcome).toBe('claimed');
        if (fails === 'none') return h.dedup.tryClaim(claim, now);
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      },
      release:
        fails === 'all'
          ? failingTimes(1, crash('release'), h.dedup.release)
          : (claims) => h.dedup.release(claims),
    });
    const first = await archiveBatch(s.records, h.deps({ dedup, now: () => t0, leaseMs: LEASE_MS }));
    const lostRecord = s.records.find((r) => r.body.includes(`"${lost}"`))?.id ?? 'none';
    const expectedFailures = { none: [], 'its record': [lostRecord], all: s.recordIds }[fails];
    expect(sorted(first.failedRecordIds)).toEqual(sorted(expectedFailures));

    // SQS redelivers whatever failed, after the lease (the worst case for a claim left behind).
    const retry = s.records.filter((r) => first.failedRecordIds.includes(r.id));
    const second = await archiveBatch(retry, h.deps({ now: () => t0 + LEASE_MS + 1, leaseMs: LEASE_MS }));
    expect(second.failedRecordIds).toEqual([]);

    const counts = archivedCounts(await h.archivedRows(s.sourceId, [s.day]));
    expect(sorted(counts.keys())).toEqual(sorted(idsOf(s.events)));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('a take-over written but not acknowledged (the retry finds its own claim) does not lose the event', async () => {
    const s = scenario(4);
    const t0 = Date.now();
    // A consumer dies before its S3 write and leaves its claims behind (as above).
    const crashed = await archiveBatch(
      s.records,
      h.deps({
        archive: archiveWith(h.archive, { put: failingTimes(1, crash('put'), h.archive.put) }),
        dedup: dedupWith(h.dedup, { release: failingTimes(1, crash('release'), h.dedup.release) }),
        now: () => t0,
        leaseMs: LEASE_MS,
      }),
    );
    expect(sorted(crashed.failedRecordIds)).toEqual(s.recordIds);

    // The redelivery takes the claims over; for one of them the answer is lost and the SDK retries.
    const lost = s.events[2]?.messageId;
    const dedup = dedupWith(h.dedup, {
      takeOver: async (claim, previous) => {
        const first = await h.dedup.takeOver(claim, previous);
        return claim.messageId === lost && first ? h.dedup.takeOver(claim, previous) : first;
      },
    });
    const t1 = t0 + LEASE_MS + 1;
    const second = await archiveBatch(s.records, h.deps({ dedup, now: () => t1, leaseMs: LEASE_MS }));
    const retry = s.records.filter((r) => second.failedRecordIds.includes(r.id));
    const third = await archiveBatch(retry, h.deps({ now: () => t1 + LEASE_MS + 1, leaseMs: LEASE_MS }));
    expect(third.failedRecordIds).toEqual([]);

    const counts = archivedCounts(await h.archivedRows(s.sourceId, [s.day]));
    expect(sorted(counts.keys())).toEqual(sorted(idsOf(s.events)));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('while a lease is live, a second consumer reports the records failed without archiving', async () => {
    const s = scenario(3);
    const t0 = Date.now();
    // Consumer A holds its claims and stalls in the S3 write until the test lets it go on.
    let entered!: () => void;
    const writing = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let proceed!: () => void;
    const gate = new Promise<void>((resolve) => {
      proceed = resolve;
    });
    const slowArchive = archiveWith(h.archive, {
      put: async (key, body) => {
        entered();
        await gate;
        await h.archive.put(key, body);
      },
    });
    const a = archiveBatch(s.records, h.deps({ archive: slowArchive, now: () => t0, leaseMs: LEASE_MS }));
    try {
      await writing;
      const b = await archiveBatch(s.records, h.deps({ now: () => t0 + LEASE_MS / 2, leaseMs: LEASE_MS }));
      expect(sorted(b.failedRecordIds)).toEqual(s.recordIds);
      expect(b).toMatchObject({ archived: [], duplicates: 0, objects: [] });
      expect(await h.archivedRows(s.sourceId, [s.day])).toEqual([]);
    } finally {
      proceed();
    }
    const resultA = await a;
    expect(resultA.failedRecordIds).toEqual([]);
    expect(sorted(idsOf(resultA.archived))).toEqual(sorted(idsOf(s.events)));

    // B's redelivery now finds the events done.
    const retryB = await archiveBatch(s.records, h.deps({ now: () => t0 + LEASE_MS / 2, leaseMs: LEASE_MS }));
    expect(retryB).toMatchObject({ failedRecordIds: [], duplicates: s.events.length });
    const counts = archivedCounts(await h.archivedRows(s.sourceId, [s.day]));
    expect(sorted(counts.keys())).toEqual(sorted(idsOf(s.events)));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });
});
