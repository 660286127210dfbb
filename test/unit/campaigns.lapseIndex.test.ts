// The lapse index's pure parts: which entries an activity moves, the day the hourly job reads at a
// midnight, that the trigger then finds exactly that day's customers lapsed, and the recorder's memory.
import { describe, expect, it } from 'vitest';
import type { DayIndex } from '../../lib/campaigns/dayIndex.js';
import {
  factsOf,
  type LapseEntry,
  type LapseKind,
  lapseDayAt,
  lapseRecorder,
  lapsesOf,
} from '../../lib/campaigns/lapseIndex.js';
import { inactivityCandidates } from '../../lib/campaigns/triggers.js';

const DAY = 86_400_000;
const midnight = Date.parse('2026-12-06T00:00:00.000Z');

/** An in-memory index that counts its writes (the DynamoDB one has its own test: dayIndexes.test.ts). */
function memoryIndex() {
  const rows = new Map<string, LapseEntry>();
  const index: DayIndex<LapseKind, LapseEntry> & { writes: number } = {
    writes: 0,
    async set(kind, entry) {
      index.writes++;
      const key = `${kind}/${entry.customerId}`;
      const stored = rows.get(key);
      if (stored !== undefined && stored.at > entry.at) return 'stale';
      rows.set(key, entry);
      return 'set';
    },
    async on(kind, day) {
      return [...rows].filter(([k, e]) => k.startsWith(`${kind}/`) && e.day === day).map(([, e]) => e);
    },
    async confirm(_kind, entries) {
      return [...entries];
    },
  };
  return index;
}

describe('lapsesOf', () => {
  it('moves the visit day for every event and the order day for an order, by the UTC day of the event', () => {
    expect(lapsesOf({ customerId: 'c', timestamp: '2026-12-05T23:59:00.000Z' })).toEqual([
      { kind: 'visit', entry: { customerId: 'c', day: '2026-12-05', at: '2026-12-05T00:00:00.000Z' } },
    ]);
    expect(
      lapsesOf({ customerId: 'c', timestamp: '2026-12-06T00:00:00.000Z', event: 'Order Completed' }).map(
        (l) => `${l.kind}:${l.entry.day}`,
      ),
    ).toEqual(['visit:2026-12-06', 'order:2026-12-06']);
  });
});

describe('lapseDayAt and the inactivity trigger', () => {
  const campaign = {
    id: 'no-order-30',
    trigger: { type: 'inactivity' as const, of: 'order' as const, days: 30 },
    maxEventAgeMinutes: 60,
  };

  it("reads, at a midnight, the day 31 days back: its customers' 30 whole days without an order end then", () => {
    expect(lapseDayAt(midnight, 30)).toBe('2026-11-05');
    // Any time within the day reads the same day.
    expect(lapseDayAt(midnight + DAY - 1, 30)).toBe('2026-11-05');
    const entry = { customerId: 'c', day: '2026-11-05', at: '2026-11-05T00:00:00.000Z' };
    expect(inactivityCandidates(campaign, [factsOf('order', entry)], midnight)).toEqual([
      {
        campaignId: 'no-order-30',
        customerId: 'c',
        triggerKey: 'order-inactive:2026-11-05',
        triggeredAt: '2026-12-05T23:59:59.999Z',
        context: {},
      },
    ]);
    // A day later the lapse is older than the campaign allows: the job, had it been down, sends nothing.
    expect(inactivityCandidates(campaign, [factsOf('order', entry)], midnight + DAY)).toEqual([]);
    // One day fewer has not lapsed yet.
    const later = { ...entry, day: '2026-11-06', at: '2026-11-06T00:00:00.000Z' };
    expect(inactivityCandidates(campaign, [factsOf('order', later)], midnight)).toEqual([]);
  });
});

describe('lapseRecorder', () => {
  it("writes a customer's day once, however many events of that day, and a new day again", async () => {
    const index = memoryIndex();
    const record = lapseRecorder(index);
    for (let i = 0; i < 5; i++)
      await record({ customerId: 'c', timestamp: `2026-12-05T1${i}:00:00.000Z`, event: 'Product Viewed' });
    expect(index.writes).toBe(1);
    await record({ customerId: 'c', timestamp: '2026-12-04T10:00:00.000Z' }); // an older day: known
    expect(index.writes).toBe(1);
    expect(
      await record({ customerId: 'c', timestamp: '2026-12-06T10:00:00.000Z', event: 'Order Completed' }),
    ).toBe(2);
    expect(index.writes).toBe(3);
    expect((await index.on('order', '2026-12-06')).map((e) => e.customerId)).toEqual(['c']);
  });

  it('forgets the oldest customer first when full', async () => {
    const index = memoryIndex();
    const record = lapseRecorder(index, 2);
    for (const c of ['a', 'b', 'c', 'a'])
      await record({ customerId: c, timestamp: '2026-12-05T10:00:00.000Z' });
    // 'a' was forgotten when 'c' came: written again.
    expect(index.writes).toBe(4);
    await record({ customerId: 'c', timestamp: '2026-12-05T11:00:00.000Z' });
    expect(index.writes).toBe(4);
  });
});
