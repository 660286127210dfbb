// E-mail addresses and phone numbers found by their shape, wherever they sit: in a trait or property that
// the catalogue does not name, inside free text, in a URL or its (percent-encoded) query string.
//
// E-mail: local@domain.tld, letters of any script, a TLD of 2+ letters (`user@localhost` is not one).
// Phone: 8 to 15 digits (E.164's maximum) written as people write phone numbers, so that ids and amounts
// are not taken for them:
//   - a leading +: `+33 6 12 34 56 78`, `+33612345678`, `+1 (415) 555-0100`, `+44 (0)20 7946 0958`;
//   - or an area code in parentheses: `(415) 555-0100`;
//   - or three or more groups split by spaces, dots or hyphens: `06 12 34 56 78`, `415-555-0100`.
// Not phones: bare digit runs (`0612345678`, `12345678`: order ids, amounts, timestamps look the same),
// dates (`2024-01-15`, `15.01.2024`), IPv4 addresses, thousands-grouped amounts (`12 345 678`, `12.345.678`,
// unless they start with a trunk 0), digits glued to letters or to other digits by a dot or hyphen
// (`ORD-2024-0001-2345`, UUIDs, `Chrome/83.0.4103.106`), card numbers (16 digits). A bare national number
// is therefore found only under a phone-named key (lib/pii/catalogue.ts): the documented limit.
import { traitKind } from './catalogue.js';
import { maskEmail, maskPhone } from './mask.js';

export type ValueKind = 'email' | 'phone';

export interface PiiMatch {
  readonly kind: ValueKind;
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

const LOCAL = String.raw`[\p{L}\p{N}._%+'-]`;
const EMAIL = String.raw`${LOCAL}+@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,24}`;
const EMAIL_IN_TEXT = new RegExp(String.raw`(?<!${LOCAL})${EMAIL}(?![\p{L}\p{N}-]|\.[\p{L}\p{N}])`, 'gu');

const SEP = String.raw`[ .\-\u00a0]`;
const INTL = String.raw`\+\d{1,4}(?:${SEP}?(?:\(\d{1,5}\)|\d{1,5})){1,7}`;
const PAREN = String.raw`\(\d{1,5}\)${SEP}?(?:\d{2,5}${SEP}){0,5}\d{2,5}`;
const GROUPED = String.raw`\d{1,5}${SEP}(?:\d{2,5}${SEP}){1,5}\d{2,5}`;
// Not inside a word or a number (`ORD-2024-…`, `1.2.3`), and only whole: never the first groups of a
// longer run of digits, which would leave the rest of a card or account number behind as a "phone".
const PHONE_IN_TEXT = new RegExp(
  String.raw`(?=[+(\d])(?<![\p{L}\p{N}_+@]|[\p{L}\p{N}][.\-])(?:${INTL}|${PAREN}|${GROUPED})(?![\p{L}\p{N}_@]|${SEP}?\p{N})`,
  'gu',
);
const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
const IPV4 = new RegExp(String.raw`^${OCTET}(?:\.${OCTET}){3}$`);
const DATE =
  /^(?:\d{4}[-./ \u00a0]\d{1,2}[-./ \u00a0]\d{1,2}|\d{1,2}[-./ \u00a0]\d{1,2}[-./ \u00a0]\d{4})(?!\d)/;
const THOUSANDS = /^[1-9]\d{0,2}([ .\u00a0])\d{3}(?:\1\d{3})*$/;

function digitCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

function isPhone(text: string): boolean {
  const digits = digitCount(text);
  if (digits < 8 || digits > 15) return false;
  if (text.startsWith('+')) return true;
  return !IPV4.test(text) && !DATE.test(text) && !THOUSANDS.test(text);
}

const mayHoldEmail = (text: string) => text.includes('@') || text.includes('%40');
/** A phone needs 8 digits and a +, a parenthesis or a separator; `=` for a query value named `phone`. */
const mayHoldPhone = (text: string) => digitCount(text) >= 8 && /[+( .\-\u00a0=]/.test(text);

/**
 * Whether a string can hold an e-mail or phone at all: the cheap test run on every string of every event
 * before any regular expression (ids such as `2053013555631882655` stop here).
 */
export function mayHoldPiiText(text: string): boolean {
  return mayHoldEmail(text) || mayHoldPhone(text);
}

/** The e-mail addresses and phone numbers in a text, in order, never overlapping. */
export function findPii(text: string): PiiMatch[] {
  const found: PiiMatch[] = [];
  if (text.includes('@')) {
    for (const m of text.matchAll(EMAIL_IN_TEXT)) {
      found.push({ kind: 'email', start: m.index, end: m.index + m[0].length, text: m[0] });
    }
  }
  if (!mayHoldPhone(text)) return found;
  const emails = found.length;
  for (const m of text.matchAll(PHONE_IN_TEXT)) {
    const start = m.index;
    const end = start + m[0].length;
    const inEmail = found.slice(0, emails).some((e) => start < e.end && end > e.start);
    if (!inEmail && isPhone(m[0])) found.push({ kind: 'phone', start, end, text: m[0] });
  }
  return found.sort((a, b) => a.start - b.start);
}

/** 'email' or 'phone' when the whole value (trimmed) is one, else undefined. */
export function wholePii(text: string): ValueKind | undefined {
  const trimmed = text.trim();
  // Characters no e-mail or phone holds: URLs and sentences are settled without a regular expression.
  if (/[/?=&#:;,<>"]/.test(trimmed)) return undefined;
  const [only, ...more] = findPii(trimmed);
  return only && more.length === 0 && only.start === 0 && only.end === trimmed.length ? only.kind : undefined;
}

export const maskValue = (kind: ValueKind, value: string): string =>
  kind === 'email' ? maskEmail(value) : maskPhone(value);

function maskMatches(text: string): string {
  const matches = findPii(text);
  if (matches.length === 0) return text;
  let out = '';
  let at = 0;
  for (const m of matches) {
    out += text.slice(at, m.start) + maskValue(m.kind, m.text);
    at = m.end;
  }
  return out + text.slice(at);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// A query parameter: at the start of the text (a bare `search`), or after ?, &, ; or #.
const QUERY_PARAM = /(^|[?&;#])([^=&#;?]*)=([^&#;]*)/g;

/** Query values (percent-decoded, `+` read both as itself and as a space) that are or hold PII, masked. */
function redactQuery(text: string): string {
  return text.replace(QUERY_PARAM, (whole, sep: string, key: string, value: string) => {
    const kind = traitKind(safeDecode(key))?.kind;
    if (kind !== 'email' && kind !== 'phone' && !mayHoldPiiText(value)) return whole;
    const asSent = safeDecode(value);
    const clear = findPii(asSent).length > 0 ? asSent : safeDecode(value.replace(/\+/g, ' '));
    let masked: string | undefined;
    if ((kind === 'email' || kind === 'phone') && clear.trim() !== '') masked = maskValue(kind, clear);
    else if (findPii(clear).length > 0) masked = maskMatches(clear);
    return masked === undefined ? whole : `${sep}${key}=${encodeURIComponent(masked)}`;
  });
}

/**
 * The text with each e-mail address and phone number replaced by its mask (`j***@example.com`,
 * `+*********78`), in URLs' query strings too. Masking, not encryption: a sentence or a URL is not where
 * Precis keeps PII; the mask still shows an analyst that one was there. Idempotent.
 */
export function redactText(text: string): string {
  if (!mayHoldPiiText(text)) return text;
  let out = maskMatches(text.includes('=') ? redactQuery(text) : text);
  // Anything left that decoding reveals (an e-mail percent-encoded in a path): the decoded text, masked.
  if (out.includes('%')) {
    const decoded = safeDecode(out);
    if (decoded !== out && findPii(decoded).length > 0) out = maskMatches(decoded);
  }
  return out;
}
