// The extra identifiers of an event, found at the edge in its clear traits and context, for identity
// resolution: each becomes { type, hash (HMAC, lib/pii/hmac.ts), mask }, never the value itself.
//
//   email   traits.email and its aliases, a userId that is an e-mail   trimmed, lower-cased, must look like one
//   phone   traits.phone and its aliases, a userId that is a phone     a leading + and the digits; 7 to 15
//                                                                      digits
// The aliases are the catalogue's own e-mail and phone names at the top level of the traits
// (lib/pii/catalogue.ts: contact_email, emailAddress, mobile, phone_number…); names qualified as someone
// else's (emergency_contact_phone, referrer_email) are protected but never identify the customer.
//   device  context.device.id, context.device.advertisingId  trimmed (UUIDs lower-cased); all-zero ids skipped
//   crm     traits.crm_id | crmId | external_id, context.externalIds[] whose type names a CRM
//   openid  traits.openid | open_id | openId | wechat_openid, context.externalIds[] of an open id type
//
// `traits` are read on identify calls only (a group call's traits describe the group), `context.traits`
// on every call. Values that are junk (the configured junk ids, placeholders such as test@test.com or
// 0000000) are skipped: they would merge every customer who typed them into one.
import type { EventIdentifier, NormalizedEvent } from '../ingest/normalized.js';
import { traitKind } from './catalogue.js';
import { isPiiToken } from './cipher.js';
import { wholePii } from './detect.js';
import { identifierHash } from './hmac.js';
import { maskEmail, maskId, maskPhone } from './mask.js';

export type IdentifierType = 'email' | 'phone' | 'device' | 'crm' | 'openid';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ID_LENGTH = 1024;

export const CRM_TRAITS = ['crm_id', 'crmId', 'external_id'] as const;
const OPENID_TRAITS = ['openid', 'open_id', 'openId', 'wechat_openid'] as const;
const OPENID_TYPES: ReadonlySet<string> = new Set(['wechat_openid', 'openid', 'miniprogram_openid']);
const isCrmType = (type: string) => /crm|salesforce|hubspot/.test(type);

/** Placeholders people and forms type when they will not give an address. */
const JUNK_EMAIL_LOCAL = /^(?:no[-_.]?e?[-_.]?mail|no[-_.]?reply|do[-_.]?not[-_.]?reply|none|null|test)$/;
const JUNK_EMAIL_DOMAINS: ReadonlySet<string> = new Set([
  'test.com',
  'noemail.com',
  'nomail.com',
  'none.com',
]);
const COUNTING = ['0123456789', '1234567890', '9876543210'];

// --- normalization (exported: the identity graph and imports must normalize exactly as the edge does)

export function normalizeEmail(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const email = v.trim().toLowerCase();
  return email.length <= 254 && EMAIL.test(email) ? email : undefined;
}

export function normalizePhone(v: unknown): string | undefined {
  if (typeof v !== 'string' && !(typeof v === 'number' && Number.isSafeInteger(v))) return undefined;
  const text = String(v).trim();
  const digits = text.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return undefined;
  return text.startsWith('+') ? `+${digits}` : digits;
}

/** Device, CRM and open ids: strings or integers, trimmed; UUIDs (IDFA, GAID) compared case-insensitively. */
export function normalizeId(v: unknown): string | undefined {
  if (typeof v !== 'string' && !(typeof v === 'number' && Number.isSafeInteger(v))) return undefined;
  const id = String(v).trim();
  if (id === '' || id.length > MAX_ID_LENGTH) return undefined;
  return UUID.test(id) ? id.toLowerCase() : id;
}

// --- e-mail and phone userIds

/** What a protected userId starts with: `pii:email:<hash>` or `pii:phone:<hash>`. */
export const PSEUDONYM_PREFIX = 'pii:';

/** The type and normalized value of an id that is, as a whole, an e-mail address or a phone number. */
export function piiInId(id: string): { type: 'email' | 'phone'; value: string } | undefined {
  if (id.startsWith(PSEUDONYM_PREFIX)) return undefined;
  const type = wholePii(id);
  const value = type === 'email' ? normalizeEmail(id) : type === 'phone' ? normalizePhone(id) : undefined;
  return type !== undefined && value !== undefined ? { type, value } : undefined;
}

/**
 * The id stored in place of a userId (or previousId) that is an e-mail or phone: `pii:<type>:<hash>`, the
 * keyed hash of its normalized value, so that `Jane@Example.com` and ` jane@example.com` are one user and
 * every event of that user lands on one node; undefined for any other id. The value itself is an
 * identifier of the event (extractIdentifiers), which is how GET /v1/customers/<e-mail> finds the user.
 */
export function pseudonymousId(id: string, secret: string): string | undefined {
  const pii = piiInId(id);
  return pii && `${PSEUDONYM_PREFIX}${pii.type}:${identifierHash(secret, pii.type, pii.value)}`;
}

// --- junk

export function isJunkEmail(email: string, junk: ReadonlySet<string>): boolean {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  return (
    junk.has(email) ||
    JUNK_EMAIL_LOCAL.test(local) ||
    local.startsWith('noemail') ||
    JUNK_EMAIL_DOMAINS.has(domain) ||
    domain.endsWith('.invalid')
  );
}

export function isJunkPhone(phone: string, junk: ReadonlySet<string>): boolean {
  const digits = phone.replace(/\D/g, '');
  return junk.has(phone) || /^(\d)\1+$/.test(digits) || COUNTING.some((c) => c.startsWith(digits));
}

export function isJunkId(id: string, junk: ReadonlySet<string>): boolean {
  const bare = id.replace(/-/g, '');
  return junk.has(id.toLowerCase()) || /^(.)\1+$/.test(bare);
}

// --- extraction

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;

/** The values of the traits the catalogue names as the customer's own e-mail or phone, in key order. */
function ownContacts(traits: Json): ['email' | 'phone', unknown][] {
  return Object.keys(traits).flatMap((key) => {
    const found = traitKind(key);
    return found?.own && (found.kind === 'email' || found.kind === 'phone')
      ? [[found.kind, traits[key]] as ['email' | 'phone', unknown]]
      : [];
  });
}

/** The identifier type an entry of context.externalIds maps to, if any. */
function externalIdType(type: unknown): IdentifierType | undefined {
  if (typeof type !== 'string') return undefined;
  const t = type.toLowerCase();
  if (OPENID_TYPES.has(t)) return 'openid';
  return isCrmType(t) ? 'crm' : undefined;
}

export function extractIdentifiers(
  event: NormalizedEvent,
  secret: string,
  junk: ReadonlySet<string>,
): EventIdentifier[] {
  const found = new Map<string, EventIdentifier>();
  const add = (type: IdentifierType, value: string, mask: string) => {
    const hash = identifierHash(secret, type, value);
    const key = `${type}:${hash}`;
    if (!found.has(key)) found.set(key, { type, hash, mask });
  };
  // Tokens (an event protected before) are skipped: their digits and letters are not identifiers.
  const clear = (v: unknown) => (isPiiToken(v) ? undefined : v);
  const email = (v: unknown) => {
    const e = normalizeEmail(clear(v));
    if (e !== undefined && !isJunkEmail(e, junk)) add('email', e, maskEmail(e));
  };
  const phone = (v: unknown) => {
    const p = normalizePhone(clear(v));
    if (p !== undefined && !isJunkPhone(p, junk)) add('phone', p, maskPhone(p));
  };
  const id = (type: IdentifierType | undefined, v: unknown) => {
    const i = type === undefined ? undefined : normalizeId(clear(v));
    if (type !== undefined && i !== undefined && !isJunkId(i, junk)) add(type, i, maskId(i));
  };

  const context = event.context;
  for (const traits of [event.type === 'identify' ? event.traits : undefined, asObject(context?.traits)]) {
    if (!traits) continue;
    for (const [kind, value] of ownContacts(traits)) (kind === 'email' ? email : phone)(value);
    for (const name of CRM_TRAITS) id('crm', traits[name]);
    for (const name of OPENID_TRAITS) id('openid', traits[name]);
  }
  const byId = event.userId === undefined ? undefined : piiInId(event.userId);
  if (byId?.type === 'email') email(byId.value);
  if (byId?.type === 'phone') phone(byId.value);
  const device = asObject(context?.device);
  id('device', device?.id);
  id('device', device?.advertisingId);
  const externalIds = context?.externalIds;
  for (const entry of Array.isArray(externalIds) ? externalIds : []) {
    const e = asObject(entry);
    id(externalIdType(e?.type), e?.id);
  }
  return [...found.values()];
}
