// Masked forms of PII for display: enough to recognize a value one already knows ("is this Jane's
// address?"), not enough to learn it. Read APIs show these unless the caller may and asks to reveal.
//
//   email     jane.doe@example.com    -> j***@example.com   (the domain stays: it is rarely personal)
//   phone     +33 6 12 34 56 78       -> +*********78
//   name      Jane van Doe            -> J*** v*** D***
//   birthday  1984-03-07              -> ****-**-**         (fully: the year with any other trait narrows
//                                                            a person down; an age band belongs in a
//                                                            derived trait)
//   address   {street, city, country} -> {street: '***', city: '***', country}  (country, state kept)
//   ids       device, CRM, open ids   -> ab***yz, or *** when 6 characters or fewer
//   other     objects, numbers        -> ***
import { type PiiKind, traitKind } from './catalogue.js';

const STARS = '***';

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return maskId(email);
  return `${firstChar(email.trim())}${STARS}${email.slice(at).trim().toLowerCase()}`;
}

export function maskPhone(phone: string | number): string {
  const text = String(phone).trim();
  const plus = text.startsWith('+') ? '+' : '';
  const digits = text.replace(/\D/g, '');
  if (digits.length < 5) return `${plus}${'*'.repeat(Math.max(digits.length, 3))}`;
  return `${plus}${'*'.repeat(digits.length - 2)}${digits.slice(-2)}`;
}

export function maskName(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  return words.length === 0 ? STARS : words.map((w) => `${firstChar(w)}${STARS}`).join(' ');
}

export function maskBirthday(_birthday: unknown): string {
  return '****-**-**';
}

/** Fields of an address shown (and stored) in clear: regional, needed for segmentation and routing. */
export const CLEAR_ADDRESS_FIELDS: ReadonlySet<string> = new Set(['country', 'state']);

export function maskAddress(address: unknown): unknown {
  if (address === null || typeof address !== 'object' || Array.isArray(address)) return STARS;
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(address)) {
    out[field] = CLEAR_ADDRESS_FIELDS.has(field) && typeof value === 'string' ? value : STARS;
  }
  return out;
}

export function maskId(id: string): string {
  const chars = Array.from(id.trim());
  return chars.length <= 6 ? STARS : `${chars.slice(0, 2).join('')}${STARS}${chars.slice(-2).join('')}`;
}

/** The mask of a value of a kind of PII; values of no known kind show as ab***yz (strings) or ***. */
export function maskByKind(kind: PiiKind | undefined, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  switch (kind) {
    case 'email':
      return maskEmail(String(value));
    case 'phone':
      return maskPhone(typeof value === 'number' ? value : String(value));
    case 'name':
      return maskName(String(value));
    case 'birthday':
      return maskBirthday(value);
    case 'address':
      return maskAddress(value);
    default:
      return typeof value === 'string' ? maskId(value) : STARS;
  }
}

/** The mask of a trait by its name (any alias of lib/pii/catalogue.ts, however spelled). */
export function maskTrait(trait: string, value: unknown): unknown {
  return maskByKind(traitKind(trait)?.kind, value);
}

/** The first character (a whole code point: no half of an emoji or surrogate pair). */
function firstChar(s: string): string {
  return s.codePointAt(0) === undefined ? '' : String.fromCodePoint(s.codePointAt(0) ?? 0);
}
