// The quarantine store and replay against the real quarantine table and a real queue: idempotent puts,
// newest-first listing with cursors across days and filters, and replays after a rule change, with a
// corrected event, of events still invalid, and over a filter.
import type { Message } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { quarantineTable } from '../../lib/adapters/dynamodb/quarantineTable.js';
import { eventQueue } from '../../lib/adapters/sqs/eventQueue.js';
import { createSqs } from '../../lib/aws/clients.js';
import type { QualityConfig } from '../../lib/config.js';
import { parseEnvelope } from '../../lib/ingest/envelope.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { prepareEvent } from '../../lib/ingest/route.js';
import { encodeQuarantineCursor } from '../../lib/quarantine/cursor.js';
import { type QuarantineEntry, type QuarantineQuery, quarantineEntryOf } from '../../lib/quarantine/model.js';
import { type ReplayDeps, replayEntry, replayMatching } from '../../lib/quarantine/replay.js';
import { DAY_MS, newId, randomDay, sorted } from '../support/archiveFixtures.js';
import { archiveHarness } from '../support/archiveHarness.js';
import { createTestQueue, receiveMessages } from '../support/archiveQueues.js';
import { testConfig } from '../support/provided.js';

const h = archiveHarness();
const sqs = createSqs(h.config);
const store = quarantineTable(h.dynamo, h.config.tables.quarantine, h.config.quarantineRetentionDays);
afterAll(() => {
  h.close();
  sqs.destroy();
});

const HOUR_MS = 3_600_000;
/** The rules as deployed, and after raising the amount limit (the fix an operator would make). */
const strict = h.config.quality;
const relaxed = testConfig({ PRECIS_MAX_AMOUNT: '10000000' }).quality;

type RawEvent = Record<string, unknown>;
const order = (revenue: number): RawEvent => ({
  type: 'track',
  event: 'Order Completed',
  messageId: newId('msg'),
  userId: newId('user'),
  properties: { revenue, currency: 'EUR' },
});

/** The entry ingest would write for a raw event the rules reject, quarantined at `at`. */
function quarantined(raw: RawEvent, sourceId: string, at: number, quality: QualityConfig = strict) {
  const prepared = prepareEvent(raw, { sourceId, receivedAt: at }, quality);
  if (prepared.ok) throw new Error('test event was expected to be rejected');
  return quarantineEntryOf(
    { raw, issues: prepared.issues, messageId: prepared.messageId, sourceId, receivedAt: at },
    at,
  );
}

const dayStart = (day: string) => Date.parse(`${day}T00:00:00.000Z`);
const nextDay = (day: string) => new Date(dayStart(day) + DAY_MS).toISOString().slice(0, 10);

/** Every page of a query, following cursors (at most `maxPages`). */
async function listAll(query: Omit<QuarantineQuery, 'cursor'>, maxPages = 20) {
  const pages: QuarantineEntry[][] = [];
  let cursor: string | undefined;
  do {
    if (pages.length === maxPages) throw new Error(`still paging after ${maxPages} pages`);
    const page = await store.list({ ...query, cursor });
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return { pages, items: pages.flat() };
}

const newestFirst = (entries: readonly QuarantineEntry[]) =>
  [...entries].sort((a, b) => b.quarantinedAt.localeCompare(a.quarantinedAt)).map((e) => e.id);

function eventsOf(messages: readonly Message[]): NormalizedEvent[] {
  return messages.flatMap((m) => {
    const parsed = parseEnvelope(m.Body ?? '');
    if (!parsed.ok) throw new Error(`queued message is not an envelope: ${parsed.reason}`);
    return parsed.envelope.events;
  });
}

describe('quarantine store', () => {
  it('keeps one entry per bad event, and its first status, however often it is sent', async () => {
    const sourceId = newId('src');
    const day = randomDay();
    const raw = order(5_000_000);
    const first = quarantined(raw, sourceId, dayStart(day) + 9 * HOUR_MS);

    await store.put([first, first]);
    expect(await store.get(first.id)).toEqual(first);
    const replayedAt = new Date(dayStart(day) + 10 * HOUR_MS).toISOString();
    await store.markReplayed(first.id, replayedAt);

    // The client sends the same bad event again an hour later.
    const again = quarantined(raw, sourceId, dayStart(day) + 11 * HOUR_MS);
    expect(again.id).toBe(first.id);
    await store.put([again]);

    expect(await store.get(first.id)).toEqual({
      ...first,
      status: 'replayed',
      replayedAt,
      replayAttempts: 1,
    });
    const listed = await store.list({ fromDay: day, toDay: day, sourceId, limit: 50 });
    expect(listed.items.map((e) => e.id)).toEqual([first.id]);
    expect(await store.get(`q_${newId('missing')}`)).toBeUndefined();
  });

  it('lists newest first across days with cursors, and filters by status, reason and source', async () => {
    const sourceId = newId('src');
    const otherSource = newId('src');
    const day1 = randomDay();
    const day2 = nextDay(day1);
    const at = (day: string, hour: number) => dayStart(day) + hour * HOUR_MS;
    const absurd = [9, 11, 13].map((hour) => quarantined(order(5_000_000), sourceId, at(day1, hour)));
    const negative = [
      quarantined(order(-5), sourceId, at(day1, 10)),
      quarantined(order(-1), sourceId, at(day2, 8)),
      quarantined(order(-2), sourceId, at(day2, 15)),
    ];
    const junk = quarantined({ ...order(3), userId: 'undefined' }, sourceId, at(day2, 12));
    const others = [
      quarantined(order(-7), otherSource, at(day1, 12)),
      quarantined(order(-8), otherSource, at(day2, 9)),
    ];
    const mine = [...absurd, ...negative, junk];
    await store.put([...mine, ...others]);
    const [replayed1, replayed2] = [absurd[1], negative[2]] as [QuarantineEntry, QuarantineEntry];
    const replayedAt = new Date(at(day2, 20)).toISOString();
    await store.markReplayed(replayed1.id, replayedAt);
    await store.markReplayed(replayed2.id, replayedAt);

    const range = { fromDay: day1, toDay: day2 };
    const all = await listAll({ ...range, sourceId, limit: 3 });
    expect(all.pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(all.items.map((e) => e.id)).toEqual(newestFirst(mine));

    const byStatus = await listAll({ ...range, sourceId, status: 'replayed', limit: 50 });
    expect(byStatus.items.map((e) => e.id)).toEqual(newestFirst([replayed1, replayed2]));
    expect(byStatus.items.every((e) => e.status === 'replayed' && e.replayedAt === replayedAt)).toBe(true);

    const byReason = await listAll({ ...range, sourceId, reason: 'negative_amount', limit: 2 });
    expect(byReason.items.map((e) => e.id)).toEqual(newestFirst(negative));
    const openAbsurd = await listAll({
      ...range,
      sourceId,
      reason: 'absurd_amount',
      status: 'open',
      limit: 50,
    });
    expect(sorted(openAbsurd.items.map((e) => e.id))).toEqual(
      sorted([absurd[0], absurd[2]].map((e) => e?.id ?? '')),
    );
    const junkOnly = await listAll({ ...range, sourceId, reason: 'junk_id', limit: 50 });
    expect(junkOnly.items.map((e) => e.id)).toEqual([junk.id]);

    const bySource = await listAll({ ...range, sourceId: otherSource, limit: 1 });
    expect(bySource.items.map((e) => e.id)).toEqual(newestFirst(others));

    const lastDay = await listAll({ fromDay: day2, toDay: day2, sourceId, limit: 50 });
    expect(lastDay.items.map((e) => e.id)).toEqual(newestFirst([...negative.slice(1), junk]));
  });

  it('refuses a cursor whose day is outside the range instead of walking to it day by day', async () => {
    const day = randomDay();
    const forged = encodeQuarantineCursor({ day: '9999-12-31' });
    await expect(store.list({ fromDay: day, toDay: day, limit: 5, cursor: forged })).rejects.toThrow(
      /outside/,
    );
  });
});

describe('quarantine replay', () => {
  const depsFor = (queueName: string, quality: QualityConfig): ReplayDeps => ({
    quarantine: store,
    sink: eventQueue(sqs, queueName),
    quality,
    now: Date.now,
    // The entries here are stored unsealed and hold no PII; protection has its own tests (pii*.test.ts).
    openPayload: async (payload) => payload,
    protect: async (e) => e,
  });

  it('replays an entry once the rule is relaxed; a second replay is refused; invalid stays invalid', async () => {
    const queue = await createTestQueue(sqs);
    const sourceId = newId('src');
    const day = randomDay();
    const receivedAt = dayStart(day) + 14 * HOUR_MS;
    const raw = order(5_000_000);
    const entry = quarantined(raw, sourceId, receivedAt);
    const negative = quarantined(order(-3), sourceId, receivedAt + 1000);
    await store.put([entry, negative]);

    // Under the same rules the event is still invalid: the attempt is recorded, the entry stays open.
    const before = await replayEntry(entry, depsFor(queue.name, strict));
    expect(before).toMatchObject({ id: entry.id, outcome: 'still_invalid' });
    expect(before.outcome === 'still_invalid' && before.errors.map((e) => e.code)).toEqual(['absurd_amount']);
    const afterFirst = await store.get(entry.id);
    expect(afterFirst).toMatchObject({ status: 'open', replayAttempts: 1 });
    expect(afterFirst?.lastReplayAt).toBeDefined();

    const relaxedDeps = depsFor(queue.name, relaxed);
    const replayed = await replayEntry(afterFirst ?? entry, relaxedDeps);
    expect(replayed).toEqual({ id: entry.id, outcome: 'replayed', messageId: raw.messageId });
    const [event, ...more] = eventsOf(await receiveMessages(sqs, queue.url, 1));
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      messageId: raw.messageId,
      sourceId,
      event: 'Order Completed',
      receivedAt: new Date(receivedAt).toISOString(),
      properties: { revenue: 5_000_000 },
    });
    const afterReplay = await store.get(entry.id);
    expect(afterReplay).toMatchObject({ status: 'replayed', replayAttempts: 2 });
    expect(afterReplay?.replayedAt).toBeDefined();

    const twice = await replayEntry(afterReplay ?? entry, relaxedDeps);
    expect(twice).toEqual({ id: entry.id, outcome: 'already_replayed' });

    // A negative amount is invalid under any limit: its reasons are recorded again, attempts counted.
    const stillBad = await replayEntry(negative, relaxedDeps);
    expect(stillBad.outcome).toBe('still_invalid');
    const negativeAfter = await store.get(negative.id);
    expect(negativeAfter).toMatchObject({ status: 'open', replayAttempts: 1 });
    expect(negativeAfter?.reasons.map((r) => r.code)).toEqual(['negative_amount']);

    // Nothing else was enqueued by the refused and invalid replays.
    expect(await receiveMessages(sqs, queue.url, 0)).toEqual([]);
  });

  it('replays a corrected event in place of the stored one', async () => {
    const queue = await createTestQueue(sqs);
    const sourceId = newId('src');
    const raw = order(-40);
    const entry = quarantined(raw, sourceId, dayStart(randomDay()) + 9 * HOUR_MS);
    await store.put([entry]);

    const corrected = { ...raw, properties: { revenue: 40, currency: 'EUR' } };
    const outcome = await replayEntry(entry, depsFor(queue.name, strict), corrected);
    expect(outcome).toEqual({ id: entry.id, outcome: 'replayed', messageId: raw.messageId });

    const events = eventsOf(await receiveMessages(sqs, queue.url, 1));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ messageId: raw.messageId, sourceId, properties: { revenue: 40 } });
    expect(await store.get(entry.id)).toMatchObject({ status: 'replayed', replayAttempts: 1 });
  });

  it('replays the open entries a filter finds, at most `max` per call', async () => {
    const queue = await createTestQueue(sqs);
    const sourceId = newId('src');
    const day1 = randomDay();
    const day2 = nextDay(day1);
    const absurd = [
      quarantined(order(2_000_000), sourceId, dayStart(day1) + 8 * HOUR_MS),
      quarantined(order(3_000_000), sourceId, dayStart(day1) + 20 * HOUR_MS),
      quarantined(order(4_000_000), sourceId, dayStart(day2) + 6 * HOUR_MS),
    ];
    const negative = [
      quarantined(order(-1), sourceId, dayStart(day1) + 9 * HOUR_MS),
      quarantined(order(-2), sourceId, dayStart(day2) + 7 * HOUR_MS),
    ];
    await store.put([...absurd, ...negative]);

    const deps = depsFor(queue.name, relaxed);
    const query = { fromDay: day1, toDay: day2, sourceId, reason: 'absurd_amount' };
    const firstRun = await replayMatching(query, deps, 2);
    const secondRun = await replayMatching(query, deps, 2);
    const thirdRun = await replayMatching(query, deps, 2);
    expect(firstRun.map((o) => o.outcome)).toEqual(['replayed', 'replayed']);
    // Newest first: the run stops at `max`, and the next run picks up what is still open.
    expect(firstRun.map((o) => o.id)).toEqual(newestFirst(absurd).slice(0, 2));
    expect(secondRun.map((o) => [o.id, o.outcome])).toEqual([[newestFirst(absurd)[2], 'replayed']]);
    expect(thirdRun).toEqual([]);

    const events = eventsOf(await receiveMessages(sqs, queue.url, absurd.length));
    expect(sorted(events.map((e) => e.messageId))).toEqual(sorted(absurd.map((e) => e.messageId ?? '')));
    const open = await listAll({ fromDay: day1, toDay: day2, sourceId, status: 'open', limit: 50 });
    expect(open.items.map((e) => e.id)).toEqual(newestFirst(negative));
  });
});
