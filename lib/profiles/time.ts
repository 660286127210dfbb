// Local hour and weekday of an instant in an IANA time zone, for the activity histograms. Formatters are
// cached per zone (building one costs far more than using it); an invalid zone is remembered as such.

const WEEKDAYS: ReadonlyMap<string, number> = new Map(
  ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].map((day, i) => [day, i] as const),
);
/** Zone names come from clients: past this many distinct names the cache starts over. */
const CACHE_MAX = 1_000;

interface Zone {
  /** The zone's canonical name (`asia/shanghai` -> `Asia/Shanghai`). */
  name: string;
  format: Intl.DateTimeFormat;
}

const zones = new Map<string, Zone | null>();

function lookup(name: string): Zone | null {
  let zone = zones.get(name);
  if (zone !== undefined) return zone;
  try {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      weekday: 'short',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    const canonical = format.resolvedOptions().timeZone;
    zone =
      canonical === 'UTC' || canonical === 'Etc/UTC' ? { name: 'UTC', format } : { name: canonical, format };
  } catch {
    zone = null;
  }
  if (zones.size >= CACHE_MAX) zones.clear();
  zones.set(name, zone);
  return zone;
}

/** The canonical name of a valid IANA time zone, else undefined. */
export function validZone(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '' || value.length > 64) return undefined;
  return lookup(value)?.name;
}

/**
 * `hour * 7 + weekday` (weekday Monday = 0) of `ms` in `zone` (a name validZone accepted; UTC when
 * undefined or invalid). One number rather than a pair: this runs for every event.
 */
export function hourWeekday(ms: number, zone: string | undefined): number {
  const z = zone === undefined || zone === 'UTC' ? null : lookup(zone);
  if (z === null) {
    const d = new Date(ms);
    return d.getUTCHours() * 7 + ((d.getUTCDay() + 6) % 7);
  }
  // "Sun, 08": cheaper than formatToParts, which is the fallback should an ICU version format otherwise.
  const text = z.format.format(ms);
  const weekday = WEEKDAYS.get(text.slice(0, 3));
  const hour = Number(text.slice(-2));
  if (weekday !== undefined && hour >= 0 && hour < 24) return hour * 7 + weekday;
  return fromParts(z.format, ms);
}

function fromParts(format: Intl.DateTimeFormat, ms: number): number {
  let weekday = 0;
  let hour = 0;
  for (const part of format.formatToParts(ms)) {
    if (part.type === 'weekday') weekday = WEEKDAYS.get(part.value) ?? 0;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
  }
  return hour * 7 + weekday;
}
