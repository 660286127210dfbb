// Waits in memory with the DynamoDB adapter's semantics (one pending wait per customer, campaign and
// key; cancel and fire conditional on pending; cloned values), for the back-test and unit tests.
import { NewWait, type Wait, type WaitRef, type WaitStore } from '../../campaigns/waits.js';

const keyOf = (w: Pick<Wait, 'customerId' | 'campaignId' | 'waitKey'>) =>
  JSON.stringify([w.customerId, w.campaignId, w.waitKey]);

export function memoryWaitStore(): WaitStore & { all(): Wait[] } {
  const rows = new Map<string, Wait>();
  // Pending rows by key, and each customer's keys: a back-test replays a week of events, so a cancel
  // reads the customer's rows and a sweep the pending ones, never every wait ever opened.
  const pending = new Map<string, Wait>();
  const byCustomer = new Map<string, Set<string>>();
  const iso = (ms: number) => new Date(ms).toISOString();
  const close = (key: string, row: Wait, status: Wait['status'], now: number) => {
    row.status = status;
    row.closedAt = iso(now);
    pending.delete(key);
  };
  return {
    async open(wait, now) {
      const key = keyOf(wait);
      if (pending.has(key)) return 'already_open';
      const row: Wait = { ...NewWait.parse(wait), status: 'pending', openedAt: iso(now) };
      rows.set(key, row);
      pending.set(key, row);
      const keys = byCustomer.get(row.customerId) ?? new Set<string>();
      keys.add(key);
      byCustomer.set(row.customerId, keys);
      return 'opened';
    },
    async cancel(request, now) {
      const before = iso(Date.parse(request.before));
      let cancelled = 0;
      for (const key of byCustomer.get(request.customerId) ?? []) {
        const row = pending.get(key);
        if (
          row !== undefined &&
          request.campaignIds.includes(row.campaignId) &&
          row.cancelOn.includes(request.event) &&
          row.triggeredAt <= before
        ) {
          close(key, row, 'cancelled', now);
          cancelled++;
        }
      }
      return cancelled;
    },
    async due(now, limit) {
      const at = iso(now);
      return [...pending.values()]
        .filter((row) => row.dueAt <= at)
        .sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0))
        .slice(0, limit)
        .map((row) => structuredClone(row));
    },
    async fire(ref: WaitRef, now) {
      const key = keyOf(ref);
      const row = pending.get(key);
      if (row === undefined || row.triggerKey !== ref.triggerKey) return false;
      close(key, row, 'fired', now);
      return true;
    },
    all: () => [...rows.values()].map((row) => structuredClone(row)),
  };
}
