// Exactly-once archive under at-least-once delivery, against the real dedup table and archive bucket:
// redelivered batches, concurrent consumers racing for the same messageIds, and the dedup window.
import { afterAll, describe, expect, it } from 'vitest';
import { type ArchiveResult, archiveBatch } from '../../lib/archive/archiveBatch.js';
import type { DedupRecord } from '../../lib/archive/ports.js';
import { parseEnvelope } from '../../lib/ingest/envelope.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import type { QueueRecord } from '../../lib/queue/record.js';
import {
  DAY_MS,
  makeEvent,
  makeEvents,
  newId,
  randomDay,
  recordOf,
  recordsOf,
  sorted,
} from '../support/archiveFixtures.js';
import { archivedCounts, archiveHarness, archiveWith, dedupWith } from '../support/archiveHarness.js';

const h = archiveHarness();
afterAll(() => h.close());

const idsOf = (events: readonly NormalizedEvent[]) => events.map((e) => e.messageId);

function messageIdsIn(record: QueueRecord): string[] {
  const parsed = parseEnvelope(record.body);
  if (!parsed.ok) throw new Error(`test record ${record.id} is not an envelope: ${parsed.reason}`);
  return idsOf(parsed.envelope.events);
}

describe('archiveBatch under redelivery', () => {
  it('archives each event once and counts redelivered events as duplicates', async () => {
    const sourceId = newId('src');
    const [day1, day2] = [randomDay(), randomDay()] as const;
    const first = [
      ...makeEvents(sourceId, 4, { receivedAt: `${day1}T08:00:00.000Z` }),
      ...makeEvents(sourceId, 2, { receivedAt: `${day2}T09:30:00.000Z`, event: 'Product Viewed' }),
    ];
    const records = recordsOf(first, 2);

    const once = await archiveBatch(records, h.deps());
    expect(once.failedRecordIds).toEqual([]);
    expect(once.duplicates).toBe(0);
    expect(sorted(idsOf(once.archived))).toEqual(sorted(idsOf(first)));
    // One object per day partition.
    expect(once.objects).toHaveLength(new Set([day1, day2]).size);

    // SQS redelivers the very same messages.
    const again = await archiveBatch(records, h.deps());
    expect(again).toEqual<ArchiveResult>({ failedRecordIds: [], archived: [], duplicates: 6, objects: [] });

    // A later batch mixing redelivered events with new ones (one event in two of its records).
    const fresh = makeEvents(sourceId, 3, { receivedAt: `${day1}T10:00:00.000Z` });
    const [old1, old2] = first as [NormalizedEvent, NormalizedEvent, ...NormalizedEvent[]];
    const [new1, new2, new3] = fresh as [NormalizedEvent, NormalizedEvent, NormalizedEvent];
    const mixed = [recordOf([old1, new1]), recordOf([new2, old2]), recordOf([new3]), recordOf([new3])];
    const third = await archiveBatch(mixed, h.deps());
    expect(third.failedRecordIds).toEqual([]);
    expect(third.duplicates).toBe(2);
    expect(sorted(idsOf(third.archived))).toEqual(sorted(idsOf(fresh)));

    const rows = await h.archivedRows(sourceId, [day1, day2]);
    const counts = archivedCounts(rows);
    expect(sorted(counts.keys())).toEqual(sorted(idsOf([...first, ...fresh])));
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    // The rows are the events, in the documented format.
    const row = rows.find((r) => r.message_id === new1.messageId);
    expect(row).toMatchObject({
      schema_version: 2,
      type: 'track',
      event: new1.event,
      user_id: new1.userId,
      source_id: sourceId,
      received_at: new1.receivedAt,
      properties: JSON.stringify(new1.properties),
    });
    expect(row?.key.startsWith(`raw/dt=${day1}/`)).toBe(true);

    // Every claim ended done.
    for (const id of idsOf([...first, ...fresh]))
      expect((await h.dedupItem(id, sourceId))?.status).toBe('done');
  });

  it('fails only the records that cannot be read, and archives the rest', async () => {
    const sourceId = newId('src');
    const day = randomDay();
    const events = makeEvents(sourceId, 3, { receivedAt: `${day}T12:00:00.000Z` });
    const good = recordsOf(events, 1);
    const notJson: QueueRecord = { id: newId('rec'), body: 'this is not json {' };
    const notEnvelope: QueueRecord = { id: newId('rec'), body: JSON.stringify({ v: 2, events: [] }) };

    const result = await archiveBatch([notJson, ...good, notEnvelope], h.deps());

    expect(sorted(result.failedRecordIds)).toEqual(sorted([notJson.id, notEnvelope.id]));
    expect(sorted(idsOf(result.archived))).toEqual(sorted(idsOf(events)));
    expect(h.logger.messages('error')).toContain('unreadable queue message');
    const counts = archivedCounts(await h.archivedRows(sourceId, [day]));
    expect(sorted(counts.keys())).toEqual(sorted(idsOf(events)));
  });
});

describe('archiveBatch with concurrent consumers', () => {
  it('archives overlapping messageIds exactly once across racing calls and redeliveries', async () => {
    const sourceId = newId('src');
    const day = randomDay();
    const at = `${day}T15:00:00.000Z`;
    const common = makeEvents(sourceId, 3, { receivedAt: at });
    const pool = makeEvents(sourceId, 16, { receivedAt: at });
    const CALLS = 12;
    // Every call carries the common events plus a window of the pool that overlaps its neighbours'.
    const batches = Array.from({ length: CALLS }, (_, i) => {
      const window = Array.from({ length: 5 }, (_, j) => pool[(i + j) % pool.length]).filter(
        (e): e is NormalizedEvent => e !== undefined,
      );
      return recordsOf([...common, ...window], 2);
    });

    // A slow (but working) S3 write keeps claims pending long enough for the others to find them busy.
    const archive = archiveWith(h.archive, {
      put: async (key, body) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await h.archive.put(key, body);
      },
    });
    const run = async (records: QueueRecord[]) => {
      const busy = new Set<string>();
      const dedup = dedupWith(h.dedup, {
        tryClaim: async (claim, now) => {
          const outcome = await h.dedup.tryClaim(claim, now);
          if (outcome !== 'claimed' && outcome.status === 'pending') busy.add(claim.messageId);
          return outcome;
        },
      });
      // The lease outlives the test: a pending claim is always someone else's live work here.
      const result = await archiveBatch(records, h.deps({ dedup, archive, leaseMs: 600_000 }));
      return { records, result, busy };
    };

    const archived: string[] = [];
    const failuresPerRound: number[] = [];
    let pending: QueueRecord[][] = batches;
    for (let round = 1; pending.length > 0; round++) {
      if (round > 10) throw new Error(`records still failing after 10 rounds: ${pending.flat().length}`);
      const runs = await Promise.all(pending.map(run));
      for (const { records, result, busy } of runs) {
        // A record fails exactly when one of its events was claimed by another live call.
        const expected = records.filter((r) => messageIdsIn(r).some((id) => busy.has(id))).map((r) => r.id);
        expect(sorted(result.failedRecordIds)).toEqual(sorted(expected));
        // Each distinct event of the batch was archived, a duplicate, or busy.
        const distinct = new Set(records.flatMap(messageIdsIn));
        expect(result.archived.length + result.duplicates + busy.size).toBe(distinct.size);
        archived.push(...idsOf(result.archived));
      }
      failuresPerRound.push(runs.reduce((n, r) => n + r.result.failedRecordIds.length, 0));
      // SQS redelivers the failed records (same message ids and bodies), one batch per failed call.
      pending = runs
        .map(({ records, result }) => records.filter((r) => result.failedRecordIds.includes(r.id)))
        .filter((records) => records.length > 0);
    }

    expect(failuresPerRound[0]).toBeGreaterThan(0);
    expect(failuresPerRound.at(-1)).toBe(0);
    const all = sorted(new Set(idsOf([...common, ...pool])));
    expect(sorted(archived)).toEqual(all);
    const counts = archivedCounts(await h.archivedRows(sourceId, [day]));
    expect(sorted(counts.keys())).toEqual(all);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('the dedup window', () => {
  it('holds a messageId for at least 30 days, and lets it through again after the window', async () => {
    const sourceId = newId('src');
    const day = randomDay();
    const event = makeEvent(sourceId, { receivedAt: `${day}T06:00:00.000Z` });
    const record = recordOf([event]);
    const windowMs = h.config.dedupWindowDays * DAY_MS;
    const t0 = Date.now();

    const first = await archiveBatch([record], h.deps({ now: () => t0, windowMs }));
    expect(idsOf(first.archived)).toEqual([event.messageId]);

    const item = await h.dedupItem(event.messageId, sourceId);
    expect(item?.status).toBe('done');
    // Stored in epoch seconds for the table's TTL.
    expect(item?.expiresAt).toBe(Math.floor((t0 + windowMs) / 1000));
    expect((item?.expiresAt ?? 0) * 1000 - t0).toBeGreaterThanOrEqual(30 * DAY_MS - 1000);

    const day29 = await archiveBatch([record], h.deps({ now: () => t0 + 29 * DAY_MS, windowMs }));
    expect(day29).toMatchObject({ failedRecordIds: [], archived: [], duplicates: 1 });

    // Past the window the messageId counts as new (TTL deletion may lag; the claim condition does not).
    const t36 = t0 + 36 * DAY_MS;
    const day36 = await archiveBatch([record], h.deps({ now: () => t36, windowMs }));
    expect(day36).toMatchObject({ failedRecordIds: [], duplicates: 0 });
    expect(idsOf(day36.archived)).toEqual([event.messageId]);
    const renewed = await h.dedupItem(event.messageId, sourceId);
    expect(renewed).toMatchObject<Partial<DedupRecord>>({
      status: 'done',
      expiresAt: Math.floor((t36 + windowMs) / 1000),
    });

    const rows = await h.archivedRows(sourceId, [day]);
    expect(rows.map((r) => r.archived_at).sort()).toEqual(
      [new Date(t0).toISOString(), new Date(t36).toISOString()].sort(),
    );
  });
});

describe('the dedup scope', () => {
  it('is the source: one messageId from two sources is two events, from one source one', async () => {
    // Segment scopes messageIds to the source; two apps may well number their events alike.
    const [web, pos] = [newId('src-web'), newId('src-pos')];
    const day = randomDay();
    const messageId = newId('shared');
    const at = { receivedAt: `${day}T07:00:00.000Z`, messageId };
    const fromWeb = makeEvent(web, { ...at, event: 'Product Viewed' });
    const fromPos = makeEvent(pos, { ...at, event: 'Order Completed' });

    // In separate batches, and (another pair) in the same SQS record.
    const first = await archiveBatch([recordOf([fromWeb])], h.deps());
    const second = await archiveBatch([recordOf([fromPos])], h.deps());
    expect([first.archived, second.archived]).toEqual([[fromWeb], [fromPos]]);
    const pair = { receivedAt: `${day}T08:00:00.000Z`, messageId: newId('shared') };
    const together = [makeEvent(web, pair), makeEvent(pos, pair)];
    const both = await archiveBatch([recordOf(together)], h.deps());
    expect(both).toMatchObject({ failedRecordIds: [], duplicates: 0 });
    expect(both.archived.map((e) => e.sourceId).sort()).toEqual([web, pos].sort());

    // Redelivered, each is a duplicate of itself only.
    const again = await archiveBatch([recordOf([fromWeb, fromPos]), recordOf(together)], h.deps());
    expect(again).toMatchObject({ failedRecordIds: [], archived: [], duplicates: 4 });

    for (const source of [web, pos]) {
      const rows = await h.archivedRows(source, [day]);
      expect(sorted(rows.map((r) => r.message_id))).toEqual(sorted([messageId, pair.messageId]));
      expect((await h.dedupItem(messageId, source))?.status).toBe('done');
    }
    expect(rows(await h.archivedRows(web, [day]), messageId)).toMatchObject([{ event: 'Product Viewed' }]);
    expect(rows(await h.archivedRows(pos, [day]), messageId)).toMatchObject([{ event: 'Order Completed' }]);
  });
});

const rows = <R extends { message_id: string }>(all: R[], messageId: string) =>
  all.filter((r) => r.message_id === messageId);
