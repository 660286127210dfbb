// The lapse index: the UTC day of each customer's last visit (any event, as the profile's lastSeen) and last
// order (`Order Completed`), indexed by that day, so the inactivity job reads the one day whose customers
// lapse now ("no visit for 30 days" at midnight UTC reads the day 31 days back) instead of every profile.
// Fed by the campaign-activity consumer from every activity; a row changes at most once a day per customer
// and kind, and a per-container memory of the days already written spares the read of most activities.
// docs/campaigns.md, "Inactivity triggers".
import { z } from 'zod';
import type { Activity } from './activity.js';
import { IsoTime } from './consent.js';
import type { DayIndex } from './dayIndex.js';
import type { LapseKind } from './model.js';
import type { ActivityFacts } from './triggers.js';

export type { LapseKind } from './model.js';

const DAY_MS = 86_400_000;

export const LapseEntry = z.object({
  customerId: z.string().min(1).max(1100),
  /** The UTC day (YYYY-MM-DD) of the latest activity of the kind. */
  day: z.iso.date(),
  /** The start of `day`: what orders changes (a replayed older day never moves the entry back). */
  at: IsoTime,
});
export type LapseEntry = z.infer<typeof LapseEntry>;

/** Whose last visit (or order) was on a day (YYYY-MM-DD). */
export type LapseIndex = DayIndex<LapseKind, LapseEntry>;

/** The lapse entries an activity moves: a visit always, an order for `Order Completed`. */
export function lapsesOf(activity: Pick<Activity, 'customerId' | 'timestamp' | 'event'>): {
  kind: LapseKind;
  entry: LapseEntry;
}[] {
  const day = activity.timestamp.slice(0, 10);
  const entry: LapseEntry = { customerId: activity.customerId, day, at: `${day}T00:00:00.000Z` };
  return [
    { kind: 'visit', entry },
    ...(activity.event === 'Order Completed' ? [{ kind: 'order' as const, entry }] : []),
  ];
}

/**
 * Records activities' lapse days, remembering per container the day last written for a customer and
 * kind: the activities of one customer's day after the first cost nothing. Bounded; when full the oldest
 * memory goes first.
 */
export function lapseRecorder(index: LapseIndex, max = 50_000) {
  const written = new Map<string, string>();
  return async (activity: Pick<Activity, 'customerId' | 'timestamp' | 'event'>): Promise<number> => {
    let set = 0;
    for (const { kind, entry } of lapsesOf(activity)) {
      const key = `${kind}\n${entry.customerId}`;
      const known = written.get(key);
      if (known !== undefined && known >= entry.day) continue;
      if ((await index.set(kind, entry)) === 'set') set++;
      written.delete(key);
      written.set(key, entry.day);
      if (written.size > max) written.delete(written.keys().next().value as string);
    }
    return set;
  };
}

/**
 * The day whose customers lapse, after `days` whole UTC days without an activity of the kind, at the
 * midnight that starts the UTC day of `at`: the day before those `days`. The job runs hourly and reads
 * one only in the hour that begins a UTC day.
 */
export const lapseDayAt = (at: number, days: number): string =>
  new Date(Math.floor(at / DAY_MS) * DAY_MS - (days + 1) * DAY_MS).toISOString().slice(0, 10);

/**
 * An index entry as the pure inactivity trigger reads a customer: the last activity at the end of its
 * day, so the lapse ends at the next midnight plus the campaign's days (inactivityCandidates).
 */
export const factsOf = (kind: LapseKind, entry: LapseEntry): ActivityFacts => {
  const last = `${entry.day}T23:59:59.999Z`;
  return { customerId: entry.customerId, ...(kind === 'visit' ? { lastSeen: last } : { lastOrderAt: last }) };
};
