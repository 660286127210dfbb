// Date triggers (pure): a yearly date trait (birthday, createdAt) at a local time in the customer's
// zone. Feb 29 falls on Feb 28 in other years. An hourly job asks which customers' moments fall in the
// hour just begun; the trigger key is the trait and the local year, so a re-run (or an overlapping
// window) sends once per customer per year.
import { addDays, instantAt, localDate, minutesOf, zoneOr } from './localTime.js';
import type { CampaignDefinition } from './model.js';
import type { Candidate } from './triggers.js';

export interface MonthDay {
  /** The year the date carries (a birth or join year), when it has one. */
  year?: number;
  month: number;
  day: number;
}

/** A customer and the clear values of its date traits (birthdays are PII: the caller decrypts them). */
export interface DatedCustomer {
  customerId: string;
  /** IANA zone from the profile; the stage's zone when absent or invalid. */
  timezone?: string;
  dates: Record<string, unknown>;
}

const FULL = /^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])/;
const NO_YEAR = /^-{0,2}(\d{2})-(\d{2})$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The month and day of a date trait: `YYYY-MM-DD` (a date-time's date part), `MM-DD` or ISO 8601's
 * `--MM-DD`. Undefined for anything else or an impossible date (Feb 30; Feb 29 of a common year).
 */
export function parseMonthDay(value: unknown): MonthDay | undefined {
  if (typeof value !== 'string') return undefined;
  const full = FULL.exec(value.trim());
  const short = full ? undefined : NO_YEAR.exec(value.trim());
  const [month, day] = full
    ? [Number(full[2]), Number(full[3])]
    : short
      ? [Number(short[1]), Number(short[2])]
      : [0, 0];
  if (month < 1 || month > 12 || day < 1 || day > (DAYS_IN_MONTH[month - 1] ?? 0)) return undefined;
  if (!full) return { month, day };
  const year = Number(full[1]);
  if (month === 2 && day === 29 && !isLeap(year)) return undefined;
  return { year, month, day };
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const pad = (n: number) => String(n).padStart(2, '0');

/** The date (YYYY-MM-DD) the yearly date falls on in `year`: Feb 29 is Feb 28 in a common year. */
export function occurrenceDate(md: MonthDay, year: number): string {
  const day = md.month === 2 && md.day === 29 && !isLeap(year) ? 28 : md.day;
  return `${String(year).padStart(4, '0')}-${pad(md.month)}-${pad(day)}`;
}

/** The first instant after `after` at which it is `at` (HH:MM) on the yearly date in `zone`. */
export function nextOccurrence(md: MonthDay, at: string, zone: string, after: number): number {
  const year = Number(localDate(after, zone).slice(0, 4));
  for (let y = year; ; y++) {
    const instant = instantAt(occurrenceDate(md, y), minutesOf(at), zone);
    if (instant > after) return instant;
  }
}

/**
 * Candidates whose moment (the trait's date at the trigger's local time in their zone) is in
 * `[windowStart, windowEnd)`. Not in the date's own year: a birthday in the birth year or a membership's
 * first day is no anniversary.
 */
export function dueDateTriggers(
  campaign: Pick<CampaignDefinition, 'id' | 'trigger'>,
  customers: readonly DatedCustomer[],
  windowStart: number,
  windowEnd: number,
  defaultZone: string,
): Candidate[] {
  const trigger = campaign.trigger;
  if (trigger.type !== 'date' || windowEnd <= windowStart) return [];
  const minutes = minutesOf(trigger.at);
  const candidates: Candidate[] = [];
  for (const customer of customers) {
    const md = parseMonthDay(customer.dates[trigger.trait]);
    if (md === undefined) continue;
    const zone = zoneOr(customer.timezone, defaultZone);
    // The local years the window touches, a day either side for zones far from UTC.
    const first = Number(localDate(windowStart, zone).slice(0, 4));
    const last = Number(addDays(localDate(windowEnd, zone), 1).slice(0, 4));
    for (let year = first; year <= last; year++) {
      if (md.year !== undefined && year <= md.year) continue;
      const instant = instantAt(occurrenceDate(md, year), minutes, zone);
      if (instant < windowStart || instant >= windowEnd) continue;
      candidates.push({
        campaignId: campaign.id,
        customerId: customer.customerId,
        triggerKey: `${trigger.trait}:${year}`,
        triggeredAt: new Date(instant).toISOString(),
        context: { date: occurrenceDate(md, year) },
      });
    }
  }
  return candidates;
}
