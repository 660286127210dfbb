// The port of a per-customer day index: one current value per customer and name (a birthday's month and
// day, the day of the last visit), and index rows by that day, so a scheduled job reads one day's
// customers instead of every profile. The date index (dateIndex.ts) and the lapse index (lapseIndex.ts)
// are two uses of it; lib/adapters/dynamodb/dayIndexTable.ts stores both in the messaging table.

/** What every entry has: whose it is, and the time that orders its changes (the latest wins). */
export interface DayEntry {
  readonly customerId: string;
  /** ISO-8601 UTC: a value older than the stored one is refused. */
  readonly at: string;
}

export interface DayIndex<N extends string, E extends DayEntry> {
  /**
   * Keeps the customer's entry of `name` if `entry.at` is not older than the stored one (and moves its
   * index row when the day changed): 'stale' when a later value is stored. Idempotent.
   */
  set(name: N, entry: E): Promise<'set' | 'stale'>;
  /**
   * The customers whose entry of `name` falls on `day`, as the index says: a row may be outdated (a value
   * changed while a crash left its old row behind); `confirm` before acting on one.
   */
  on(name: N, day: string): Promise<E[]>;
  /**
   * The entries the customers' current values confirm (same day), as currently stored (their other fields
   * may have changed); index rows the current values contradict are removed.
   */
  confirm(name: N, entries: readonly E[]): Promise<E[]>;
}
