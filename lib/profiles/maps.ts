// Small value helpers shared by the reducer and the merge: exact money sums, latest-wins comparisons and
// the caps that keep a profile item bounded. Every rule here is deterministic and ignores arrival order.
import type { Region } from './partial.js';

/** Amounts are kept in thousandths: integer sums are exact, so totals do not depend on summing order. */
export const toMilli = (amount: number): number => Math.round(amount * 1000);
export const fromMilli = (milli: number): number => milli / 1000;
export const addMoney = (a: number, b: number): number => fromMilli(toMilli(a) + toMilli(b));
export const subMoney = (a: number, b: number): number => fromMilli(toMilli(a) - toMilli(b));

export const minIso = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined || a <= b ? a : b;
export const maxIso = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined || a >= b ? a : b;

/** A total order on values, for ties between two values stamped with the same time. */
export function tieKey(value: unknown): string {
  return typeof value === 'string' ? `s${value}` : `j${JSON.stringify(value) ?? ''}`;
}

/** Whether (at, value) is later than the current (at, value): time first, then tieKey. */
export function isLater(
  at: string,
  value: unknown,
  current: { at: string; v?: unknown } | undefined,
): boolean {
  if (current === undefined || at > current.at) return true;
  return at === current.at && tieKey(value) > tieKey(current.v);
}

/** The later of two `{ v, at }` stamps (either may be missing). */
export function later<T extends { v: unknown; at: string }>(
  a: T | undefined,
  b: T | undefined,
): T | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return isLater(b.at, b.v, a) ? b : a;
}

/**
 * A map keyed by client data (event names, categories, ids, trait names): an object without a prototype,
 * so that `constructor`, `toString` or `__proto__` are keys like any other. On a plain object `__proto__`
 * is a setter (the entry would be lost) and the others read as inherited functions. Every map of a
 * partial is made here, empty or as a copy; never spread one into `{}`.
 */
export function dict<V>(from?: Readonly<Record<string, V>>): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  return from === undefined ? out : Object.assign(out, from);
}

/**
 * A lookup that sees only the map's own entries: maps read back from storage or built by callers may
 * still be plain objects.
 */
export function get<V>(map: Record<string, V>, key: string): V | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** Whether region `a` is later than `b`: time first, then the larger value. */
export function laterRegion(a: Region, b: Region | undefined): boolean {
  return b === undefined || a.at > b.at || (a.at === b.at && tieKey(a) > tieKey(b));
}

export function increment(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (get(map, key) ?? 0) + by;
}

/** Adds b's counts into a copy of a. */
export function sumCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = dict(a);
  for (const key of Object.keys(b)) out[key] = (get(out, key) ?? 0) + (b[key] ?? 0);
  return out;
}

/**
 * At most `max` keys: the largest counts (ties: the smaller key). With `other`, what is dropped is added
 * to that key, which does not count toward `max`. Returns `map` itself when it is within the cap.
 */
export function capCounts(map: Record<string, number>, max: number, other?: string): Record<string, number> {
  const keys = Object.keys(map);
  const named = other !== undefined && Object.hasOwn(map, other) ? keys.length - 1 : keys.length;
  if (named <= max) return map;
  const ranked = keys
    .filter((k) => k !== other)
    .sort((x, y) => (map[y] ?? 0) - (map[x] ?? 0) || (x < y ? -1 : x > y ? 1 : 0));
  const out = dict<number>();
  let dropped = 0;
  for (let i = 0; i < ranked.length; i++) {
    const key = ranked[i] as string;
    if (i < max) out[key] = map[key] ?? 0;
    else dropped += map[key] ?? 0;
  }
  if (other !== undefined) {
    const total = (get(map, other) ?? 0) + dropped;
    if (total > 0) out[other] = total;
  }
  return out;
}

/**
 * At most `max` entries: those with the highest rank (ties: the smaller key). For maps merged by a
 * per-key maximum whose rank only grows with the merge (latest time), keeping the top entries this way
 * is itself associative. Returns `map` itself when it is within the cap.
 */
export function keepTop<V>(
  map: Record<string, V>,
  max: number,
  rank: (value: V) => number | string,
): Record<string, V> {
  const keys = Object.keys(map);
  const excess = keys.length - max;
  if (excess <= 0) return map;
  // A write adds a few entries at most: dropping the lowest one at a time beats sorting a full ledger.
  if (excess <= 4) return dropLowest(dict(map), excess, rank);
  const ranks = new Map<string, number | string>();
  for (const key of keys) ranks.set(key, rank(map[key] as V));
  keys.sort((x, y) => outranks(ranks.get(x) as number | string, x, ranks.get(y) as number | string, y));
  const out = dict<V>();
  for (let i = 0; i < max; i++) {
    const key = keys[i] as string;
    out[key] = map[key] as V;
  }
  return out;
}

/** Negative when (rx, x) ranks before (ry, y): higher rank first, then the smaller key. */
function outranks(rx: number | string, x: string, ry: number | string, y: string): number {
  if (rx !== ry) return rx > ry ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Deletes the `n` lowest-ranked entries of `map` (which the caller owns) and returns it. */
export function dropLowest<V>(
  map: Record<string, V>,
  n: number,
  rank: (value: V) => number | string,
): Record<string, V> {
  for (let i = 0; i < n; i++) delete map[lowest(map, rank)];
  return map;
}

function lowest<V>(map: Record<string, V>, rank: (value: V) => number | string): string {
  let worst = '';
  let worstRank: number | string | undefined;
  for (const key of Object.keys(map)) {
    const r = rank(map[key] as V);
    if (worstRank === undefined || outranks(r, key, worstRank, worst) > 0) {
      worst = key;
      worstRank = r;
    }
  }
  return worst;
}

/**
 * Map keys taken from event data (strings, or finite numbers as text): trimmed and cut to `max`
 * characters, any text otherwise (maps are dicts, stored as JSON). A blank key names nothing: not kept.
 */
export function keyOf(value: unknown, max: number): string | undefined {
  let s: string;
  if (typeof value === 'string') s = value;
  else if (typeof value === 'number' && Number.isFinite(value)) s = String(value);
  else return undefined;
  if (s.length > max || s.trim() !== s) s = cut(s.trim(), max);
  return s === '' ? undefined : s;
}

/** The first `max` UTF-16 units of `s`, less a trailing half of a surrogate pair. */
function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** Ascending union of two ascending lists of distinct strings, keeping the last `max`. */
export function unionSorted(a: readonly string[], b: readonly string[], max: number): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x < y)) {
      out.push(x as string);
      i++;
    } else if (x === undefined || y < x) {
      out.push(y);
      j++;
    } else {
      out.push(x);
      i++;
      j++;
    }
  }
  return out.length > max ? out.slice(out.length - max) : out;
}
