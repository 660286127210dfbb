// The daily quarantine report's counting: every page of the day, reasons counted once per entry and
// code, per source, open versus replayed.
import { describe, expect, it } from 'vitest';
import type { QuarantineEntry, QuarantinePage, QuarantineQuery } from '../../lib/quarantine/model.js';
import { buildQuarantineReport, previousDay, quarantineReportKey } from '../../lib/quarantine/report.js';

const entry = (
  id: string,
  sourceId: string,
  codes: string[],
  status: QuarantineEntry['status'] = 'open',
): QuarantineEntry => ({
  id,
  sourceId,
  status,
  reasons: codes.map((code, i) => ({ path: `properties.x${i}`, code, message: 'm' })),
  payload: '{}',
  replayable: true,
  receivedAt: '2026-11-21T10:00:00.000Z',
  quarantinedAt: '2026-11-21T10:00:00.000Z',
  replayAttempts: 0,
});

/** A store that serves the entries two at a time and records the queries it got. */
function pagedStore(entries: QuarantineEntry[]) {
  const queries: QuarantineQuery[] = [];
  return {
    queries,
    async list(q: QuarantineQuery): Promise<QuarantinePage> {
      queries.push(q);
      const start = q.cursor ? Number(q.cursor) : 0;
      const next = start + 2;
      return {
        items: entries.slice(start, next),
        nextCursor: next < entries.length ? String(next) : undefined,
      };
    },
  };
}

describe('buildQuarantineReport', () => {
  it('counts every entry of the day across pages, by reason and by source', async () => {
    const store = pagedStore([
      entry('a', 'web', ['negative_amount', 'negative_amount', 'junk_id']),
      entry('b', 'web', ['junk_id'], 'replayed'),
      entry('c', 'pos', ['timestamp_in_future']),
      entry('d', 'web', ['negative_amount']),
      entry('e', 'pos', ['required']),
    ]);
    const report = await buildQuarantineReport('2026-11-21', store, Date.parse('2026-11-22T00:15:00Z'));
    expect(store.queries.map((q) => [q.fromDay, q.toDay, q.cursor])).toEqual([
      ['2026-11-21', '2026-11-21', undefined],
      ['2026-11-21', '2026-11-21', '2'],
      ['2026-11-21', '2026-11-21', '4'],
    ]);
    expect(report).toEqual({
      day: '2026-11-21',
      generatedAt: '2026-11-22T00:15:00.000Z',
      total: 5,
      open: 4,
      replayed: 1,
      // Entry a has two negative amounts: one entry, counted once for that code.
      byReason: { negative_amount: 2, junk_id: 2, timestamp_in_future: 1, required: 1 },
      bySource: {
        web: { total: 3, byReason: { negative_amount: 2, junk_id: 2 } },
        pos: { total: 2, byReason: { timestamp_in_future: 1, required: 1 } },
      },
    });
  });

  it('reports an empty day as zeros', async () => {
    const report = await buildQuarantineReport('2026-11-21', pagedStore([]), 0);
    expect(report).toMatchObject({ total: 0, open: 0, replayed: 0, byReason: {}, bySource: {} });
  });

  it('names the day before and keys the report by it', () => {
    expect(previousDay(Date.parse('2026-01-01T00:15:00Z'))).toBe('2025-12-31');
    expect(quarantineReportKey('2025-12-31')).toBe('reports/quarantine/dt=2025-12-31.json');
  });
});
