// Waits in memory with the DynamoDB adapter's semantics (one pending wait per customer, campaign and
// key; cancel and fire conditional on pending; cloned values), for the back-test and unit tests.
import { NewWait, type Wait, type WaitRef, type WaitStore } from '../../campaigns/waits.js';

const keyOf = (w: Pick<Wait, 'customerId' | 'campaignId' | 'waitKey'>) =>
  JSON.stringify([w.customerId, w.campaignId, w.waitKey]);

export function memoryWaitStore(): WaitStore & { all(): Wait[] } {
  const rows = new Map<string, Wait>();
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    async open(wait, now) {
      const key = keyOf(wait);
      if (rows.get(key)?.status === 'pending') return 'already_open';
      rows.set(key, { ...NewWait.parse(wait), status: 'pending', openedAt: iso(now) });
      return 'opened';
    },
    async cancel(request, now) {
      const before = iso(Date.parse(request.before));
      let cancelled = 0;
      for (const row of rows.values()) {
        if (
          row.customerId === request.customerId &&
          row.status === 'pending' &&
          request.campaignIds.includes(row.campaignId) &&
          row.cancelOn.includes(request.event) &&
          row.triggeredAt <= before
        ) {
          row.status = 'cancelled';
          row.closedAt = iso(now);
          cancelled++;
        }
      }
      return cancelled;
    },
    async due(now, limit) {
      const at = iso(now);
      return [...rows.values()]
        .filter((row) => row.status === 'pending' && row.dueAt <= at)
        .sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0))
        .slice(0, limit)
        .map((row) => structuredClone(row));
    },
    async fire(ref: WaitRef, now) {
      const row = rows.get(keyOf(ref));
      if (row?.status !== 'pending' || row.triggerKey !== ref.triggerKey) return false;
      row.status = 'fired';
      row.closedAt = iso(now);
      return true;
    },
    all: () => [...rows.values()].map((row) => structuredClone(row)),
  };
}
