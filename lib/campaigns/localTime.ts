// Calendar arithmetic in a customer's IANA zone for the send decision: local dates (caps count calendar
// days), wall times (quiet hours, send hours) and the instant of a local wall time, DST included.
// Intl is the only source of zone rules. It is slow next to the decision's budget (a formatToParts is
// ~10 µs, the decision's goal 20 µs in all), so a zone's UTC offset is cached per UTC day: a day whose
// offset is the same at its first and last second has that offset throughout (no zone changes its offset
// and back within one day); on the rare transition days the transition is found once, to the second.
import { validZone } from '../profiles/time.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Quiet hours as local wall times, `[start, end)`; `end` before `start` crosses midnight (21:00-08:00). */
export interface QuietHours {
  readonly start: string;
  readonly end: string;
}

/** A customer's zone if valid (canonical name), else the stage default; UTC if that is invalid too. */
export function zoneOr(zone: string | undefined, fallback: string): string {
  return validZone(zone) ?? validZone(fallback) ?? 'UTC';
}

const formats = new Map<string, Intl.DateTimeFormat>();
/** A UTC day on which the zone's offset changes (once: no zone changes twice in a day). */
interface Transition {
  readonly at: number;
  readonly before: number;
  readonly after: number;
}
/** Offsets per zone and UTC day number, or the day's transition. */
const offsets = new Map<string, Map<number, number | Transition>>();
/** Zones are canonical names (validZone): a few hundred at most; day entries are bounded per zone. */
const DAYS_PER_ZONE = 4_096;

function format(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
      era: 'short',
    });
    formats.set(zone, f);
  }
  return f;
}

/** The offset at `ms` asked of Intl (to the second; local wall time = ms + offset). */
function exactOffset(ms: number, zone: string): number {
  const p = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0, bc: false };
  for (const part of format(zone).formatToParts(ms)) {
    if (part.type === 'era') p.bc = part.value === 'BC' || part.value === 'B';
    else if (part.type in p) (p as Record<string, number | boolean>)[part.type] = Number(part.value);
  }
  const year = p.bc ? 1 - p.year : p.year;
  const wall = Date.UTC(year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const fixed = year >= 0 && year < 100 ? new Date(wall).setUTCFullYear(year) : wall;
  return fixed - Math.floor(ms / 1000) * 1000;
}

/** Milliseconds to add to `ms` for the wall time in `zone` (a canonical zone, see zoneOr). */
export function offsetAt(ms: number, zone: string): number {
  if (zone === 'UTC') return 0;
  let days = offsets.get(zone);
  if (days === undefined) {
    days = new Map();
    offsets.set(zone, days);
  }
  const day = Math.floor(ms / DAY);
  let offset = days.get(day);
  if (offset === undefined) {
    offset = dayOffset(day * DAY, zone);
    if (days.size >= DAYS_PER_ZONE) days.clear();
    days.set(day, offset);
  }
  if (typeof offset === 'number') return offset;
  return ms < offset.at ? offset.before : offset.after;
}

/** The offset of the UTC day starting at `start`, or its transition (found to the second, once). */
function dayOffset(start: number, zone: string): number | Transition {
  const before = exactOffset(start, zone);
  const after = exactOffset(start + DAY - 1000, zone);
  if (before === after) return before;
  let lo = start;
  let hi = start + DAY - 1000;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (exactOffset(mid, zone) === before) lo = mid;
    else hi = mid;
  }
  return { at: hi, before, after };
}

/** The local wall time of `ms` as if it were UTC (epoch ms of the same wall clock in UTC). */
const wall = (ms: number, zone: string) => ms + offsetAt(ms, zone);
/** Milliseconds since local midnight. */
const sinceMidnight = (ms: number, zone: string) => {
  const w = wall(ms, zone) % DAY;
  return w < 0 ? w + DAY : w;
};

/** The local calendar date (YYYY-MM-DD) of `ms` in `zone`. */
export function localDate(ms: number, zone: string): string {
  return dayName(Math.floor(wall(ms, zone) / DAY));
}

/** Minutes since local midnight (hour * 60 + minute) of `ms` in `zone`. */
export function localMinutes(ms: number, zone: string): number {
  return Math.floor(sinceMidnight(ms, zone) / MINUTE);
}

/** The local hour (0-23) of `ms` in `zone`. */
export function localHour(ms: number, zone: string): number {
  return Math.floor(sinceMidnight(ms, zone) / HOUR);
}

/** `date` (YYYY-MM-DD) plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  return dayName(dayNumber(date) + days);
}

/** HH:MM as minutes since midnight. */
export function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/**
 * The instant at which the wall clock in `zone` reads `minutes` after midnight of `date`. In a DST gap
 * (02:30 on a spring-forward day in New York) the wall time never occurs: the first valid instant after
 * it, the transition itself (03:00). In an overlap (01:30 on a fall-back day) it occurs twice: the first
 * occurrence, or the second with `later`.
 */
export function instantAt(date: string, minutes: number, zone: string, later = false): number {
  const local = dayNumber(date) * DAY + minutes * MINUTE;
  // Any transition near `local` lies between the offsets a day either side (offsets span -12 h..+14 h).
  const before = offsetAt(local - DAY, zone);
  const after = offsetAt(local + DAY, zone);
  const a = local - before;
  const b = local - after;
  const aOk = a + offsetAt(a, zone) === local;
  const bOk = b + offsetAt(b, zone) === local;
  if (aOk && bOk) return later ? Math.max(a, b) : Math.min(a, b);
  if (aOk) return a;
  if (bOk) return b;
  // A gap: the offset grows from `before` to `after` between b and a; the transition is the first
  // instant whose offset is no longer `before` (found to the second).
  let lo = Math.min(a, b);
  let hi = Math.max(a, b);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(mid, zone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The instant of the next local midnight after `ms` (the start of the next calendar day in `zone`). */
export function nextLocalMidnight(ms: number, zone: string): number {
  return instantAt(addDays(localDate(ms, zone), 1), 0, zone);
}

/** Whether `ms` is inside `quiet` in `zone`. Equal start and end mean no quiet hours. */
export function inQuietHours(ms: number, quiet: QuietHours, zone: string): boolean {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return false;
  const m = localMinutes(ms, zone);
  return start < end ? m >= start && m < end : m >= start || m < end;
}

/**
 * The first instant at or after `ms` outside `quiet`: `ms` itself when it is outside, else the end of the
 * quiet period it is in (on a DST day: the transition when the end falls in a gap; when it falls in an
 * overlap, its first occurrence after `ms`).
 */
export function quietHoursEnd(ms: number, quiet: QuietHours, zone: string): number {
  if (!inQuietHours(ms, quiet, zone)) return ms;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const today = localDate(ms, zone);
  // Crossing midnight and past the start: the period ends tomorrow.
  const date = start > end && localMinutes(ms, zone) >= start ? addDays(today, 1) : today;
  const first = instantAt(date, end, zone);
  if (first > ms) return first;
  // A fall-back overlap: ms is in the repeated hour, after the end's first occurrence.
  const second = instantAt(date, end, zone, true);
  return Math.max(second, ms);
}

// Dates as strings and UTC day numbers both ways, cached: formatting and parsing them cost more than the
// rest of a decision's date work.
const dayNames = new Map<number, string>();
const dayNumbers = new Map<string, number>();

function dayName(day: number): string {
  let name = dayNames.get(day);
  if (name === undefined) {
    name = new Date(day * DAY).toISOString().slice(0, 10);
    if (dayNames.size >= DAYS_PER_ZONE) dayNames.clear();
    dayNames.set(day, name);
  }
  return name;
}

function dayNumber(date: string): number {
  let day = dayNumbers.get(date);
  if (day === undefined) {
    const ms = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
    day = Math.floor(ms / DAY);
    if (dayNumbers.size >= DAYS_PER_ZONE) dayNumbers.clear();
    dayNumbers.set(date, day);
  }
  return day;
}
