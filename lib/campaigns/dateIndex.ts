// The date index: which customers have a yearly date (birthday, account creation) on a month and day, so
// the hourly date job reads a day's few customers instead of every profile. Birthdays reach Precis
// sealed (lib/pii/protect.ts), so the index is fed by the campaign-activity consumer, which may decrypt:
// an event carrying a date trait (identify `traits`, any call's `context.traits`) travels on the queue
// with the trait's token (QueuedActivity.dates), and recordDates keeps the latest value per customer.
// What the index holds in clear is the month and day, never a birth year (data minimization: the year is
// kept only for `createdAt`, which is no PII and needs it: no anniversary on the joining day), and the
// time zone of the event that set it. docs/campaigns.md, "Date triggers".
import { z } from 'zod';
import { CATALOGUE, normalizeKey } from '../pii/catalogue.js';
import { isPiiToken, type PiiCipher, PiiTokenError } from '../pii/cipher.js';
import { validZone } from '../profiles/time.js';
import { IsoTime } from './consent.js';
import { type MonthDay, parseMonthDay } from './dates.js';
import type { DayIndex } from './dayIndex.js';
import { DATE_TRAITS, type DateTrait } from './model.js';

const ALIASES: Readonly<Record<DateTrait, readonly string[]>> = {
  // The PII catalogue's birthday names: what protect.ts seals is what the index reads.
  birthday: CATALOGUE.birthday,
  createdAt: ['created_at', 'member_since', 'signup_date', 'signed_up_at', 'joined_at', 'registered_at'],
};
const TRAIT_OF = new Map<string, DateTrait>(
  DATE_TRAITS.flatMap((t) => ALIASES[t].map((alias) => [normalizeKey(alias), t] as const)),
);

/**
 * The date trait a key names, memoized as the PII catalogue's lookups are (lib/pii/catalogue.ts): this
 * runs for every trait key of every event the profiles consumer publishes. Once full it stops learning.
 */
const seen = new Map<string, DateTrait | null>();
const SEEN_MAX = 10_000;
function dateTraitOf(key: string): DateTrait | undefined {
  const known = seen.get(key);
  if (known !== undefined) return known ?? undefined;
  const found = key.length <= 64 ? TRAIT_OF.get(normalizeKey(key)) : undefined;
  if (seen.size < SEEN_MAX) seen.set(key, found ?? null);
  return found;
}

/** A date trait an event carried: the value as it travels (a sealed token for a birthday). */
export const CarriedDate = z.object({
  trait: z.enum(DATE_TRAITS),
  value: z.string().min(1).max(4096),
  /** The event's IANA `context.timezone`, when valid. */
  zone: z.string().max(64).optional(),
  /** The event's time: the latest value by event time wins. */
  at: IsoTime,
});
export type CarriedDate = z.infer<typeof CarriedDate>;

interface DatedEvent {
  readonly timestamp: string;
  readonly traits?: unknown;
  readonly context?: unknown;
}

const record = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** The date traits of an event (top-level keys of `traits`, then `context.traits`; the first of a trait wins). */
export function datesOf(event: DatedEvent): CarriedDate[] {
  const at = IsoTime.safeParse(event.timestamp);
  if (!at.success) return [];
  const context = record(event.context);
  const zone = validZone(context?.timezone);
  const found = new Map<DateTrait, CarriedDate>();
  for (const traits of [record(event.traits), record(context?.traits)]) {
    for (const [key, value] of Object.entries(traits ?? {})) {
      const trait = dateTraitOf(key);
      if (trait === undefined || found.has(trait) || typeof value !== 'string' || value === '') continue;
      if (value.length > 4096) continue;
      found.set(trait, { trait, value, at: at.data, ...(zone !== undefined ? { zone } : {}) });
    }
  }
  return [...found.values()];
}

/** `MM-DD`: the index's partition of a date. */
export const monthDayKey = (md: Pick<MonthDay, 'month' | 'day'>): string =>
  `${String(md.month).padStart(2, '0')}-${String(md.day).padStart(2, '0')}`;

/** One customer's date of a trait, as stored. */
export const DatedEntry = z.object({
  customerId: z.string().min(1).max(1100),
  monthDay: z.string().regex(/^\d{2}-\d{2}$/),
  /** Only for traits that are not PII (createdAt). */
  year: z.number().int().optional(),
  zone: z.string().max(64).optional(),
  at: IsoTime,
});
export type DatedEntry = z.infer<typeof DatedEntry>;

/** Who has a date of a trait on a month and day (MM-DD). */
export type DateIndex = DayIndex<DateTrait, DatedEntry>;

export interface RecordDatesDeps {
  readonly index: DateIndex;
  readonly cipher: PiiCipher;
}

export interface DatesRecorded {
  readonly set: number;
  /** Values that are no date (or a token that does not open): left out of the index. */
  readonly unreadable: number;
}

/** The clear value; undefined for a token that can never open (tampered, unknown key). A KMS outage throws. */
async function opened(value: string, cipher: PiiCipher): Promise<unknown> {
  if (!isPiiToken(value)) return value;
  try {
    return await cipher.decrypt(value);
  } catch (e) {
    if (e instanceof PiiTokenError) return undefined;
    throw e;
  }
}

/**
 * Indexes the dates an activity carried for its customer. The clear value lives only in this function:
 * what is stored is the month and day (and the year of a createdAt).
 */
export async function recordDates(
  customerId: string,
  dates: readonly CarriedDate[],
  deps: RecordDatesDeps,
): Promise<DatesRecorded> {
  let set = 0;
  let unreadable = 0;
  for (const date of dates) {
    const md = parseMonthDay(await opened(date.value, deps.cipher));
    if (md === undefined) {
      unreadable++;
      continue;
    }
    const entry: DatedEntry = {
      customerId,
      monthDay: monthDayKey(md),
      at: date.at,
      ...(date.trait !== 'birthday' && md.year !== undefined ? { year: md.year } : {}),
      ...(date.zone !== undefined ? { zone: date.zone } : {}),
    };
    if ((await deps.index.set(date.trait, entry)) === 'set') set++;
  }
  return { set, unreadable };
}
