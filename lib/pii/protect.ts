// PII protection at the ingest edge: what leaves the edge (the queue, the archive, the quarantine, the
// profiles downstream) never holds a PII trait in clear. An event's PII traits, in `traits` and in
// `context.traits`, each become a token (lib/pii/cipher.ts); its identifiers are extracted from the clear
// values first and travel as keyed hashes (lib/pii/identifiers.ts).
//
// The PII traits, by name, compared case-insensitively: PII_TRAITS. An `address` object keeps its
// `country` and `state` in clear beside the token of everything else, so that regional segmentation
// needs no decryption:
//   address: { street: '1 rue X', city: 'Paris', country: 'FR', state: 'IDF' }
//     -> address: { country: 'FR', state: 'IDF', enc: 'enc:v1:…' }   (enc = the object without the two)
// An address that is not an object (a single line of text) becomes a token as a whole.
//
// Protection is idempotent: tokens are left alone, an address whose only other field is an `enc` token is
// protected already, and identifiers an event carries are kept. null and '' are not PII and stay.
import type { EventIdentifier, NormalizedEvent } from '../ingest/normalized.js';
import { isPiiToken, type PiiCipher } from './cipher.js';
import { extractIdentifiers } from './identifiers.js';
import { CLEAR_ADDRESS_FIELDS, maskAddress, maskTrait } from './mask.js';

export const PII_TRAITS = [
  'email',
  'phone',
  'name',
  'firstName',
  'lastName',
  'first_name',
  'last_name',
  'birthday',
  'address',
] as const;

const PII_KEYS: ReadonlySet<string> = new Set(PII_TRAITS.map((t) => t.toLowerCase()));
export const isPiiTrait = (key: string): boolean => PII_KEYS.has(key.toLowerCase());
const isAddress = (key: string) => key.length === 7 && key.toLowerCase() === 'address';

/** The field of a protected address that holds the token of its other fields. */
export const ADDRESS_TOKEN_FIELD = 'enc';

export interface ProtectDeps {
  readonly cipher: PiiCipher;
  /** The HMAC secret of identifiers (lib/pii/hmac.ts). */
  readonly secret: string;
  readonly junk: ReadonlySet<string>;
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;

/**
 * Whether an event can hold anything protectEvent acts on. Synchronous and allocation-free: the hot path
 * skips protection (and its promise) for the many events with no traits, device or external ids.
 */
export function mayHoldPii(e: NormalizedEvent): boolean {
  if (e.traits !== undefined) return true;
  const c = e.context;
  return c !== undefined && (c.traits !== undefined || c.device !== undefined || c.externalIds !== undefined);
}

/** The event with its identifiers computed and its PII traits encrypted; the event itself when unchanged. */
export async function protectEvent(e: NormalizedEvent, deps: ProtectDeps): Promise<NormalizedEvent> {
  const identifiers = merged(e.identifiers, extractIdentifiers(e, deps.secret, deps.junk));
  const traits = e.traits && holdsClearPii(e.traits) ? await sealTraits(e.traits, deps.cipher) : e.traits;
  const contextTraits = asObject(e.context?.traits);
  const sealedContextTraits =
    contextTraits && holdsClearPii(contextTraits)
      ? await sealTraits(contextTraits, deps.cipher)
      : contextTraits;
  if (traits === e.traits && sealedContextTraits === contextTraits && identifiers === e.identifiers) return e;
  const out: NormalizedEvent = { ...e };
  if (traits !== e.traits) out.traits = traits;
  if (sealedContextTraits !== contextTraits) out.context = { ...e.context, traits: sealedContextTraits };
  if (identifiers !== undefined) out.identifiers = identifiers;
  return out;
}

function merged(
  existing: EventIdentifier[] | undefined,
  extracted: EventIdentifier[],
): EventIdentifier[] | undefined {
  if (extracted.length === 0) return existing;
  if (!existing || existing.length === 0) return extracted;
  const seen = new Set(existing.map((i) => `${i.type}:${i.hash}`));
  const added = extracted.filter((i) => !seen.has(`${i.type}:${i.hash}`));
  return added.length === 0 ? existing : [...existing, ...added];
}

function holdsClearPii(traits: Json): boolean {
  for (const key in traits) {
    if (isPiiTrait(key) && needsSealing(key, traits[key])) return true;
  }
  return false;
}

function needsSealing(key: string, value: unknown): boolean {
  if (value === null || value === undefined || value === '' || isPiiToken(value)) return false;
  const address = isAddress(key) ? asObject(value) : undefined;
  return address === undefined || !addressIsSealed(address);
}

async function sealTraits(traits: Json, cipher: PiiCipher): Promise<Json> {
  const out: Json = { ...traits };
  await Promise.all(
    Object.entries(traits).map(async ([key, value]) => {
      if (!isPiiTrait(key) || !needsSealing(key, value)) return;
      const address = isAddress(key) ? asObject(value) : undefined;
      out[key] = address ? await sealAddress(address, cipher) : await cipher.encrypt(value);
    }),
  );
  return out;
}

/** The fields of an address kept in clear (country and state, when text) and the others. */
function addressParts(address: Json): { kept: Json; rest: Json } {
  const kept: Json = {};
  const rest: Json = {};
  for (const [field, value] of Object.entries(address)) {
    if (CLEAR_ADDRESS_FIELDS.has(field) && typeof value === 'string') kept[field] = value;
    else rest[field] = value;
  }
  return { kept, rest };
}

function addressIsSealed(address: Json): boolean {
  const fields = Object.keys(addressParts(address).rest);
  return (
    fields.length === 0 ||
    (fields.length === 1 && fields[0] === ADDRESS_TOKEN_FIELD && isPiiToken(address[ADDRESS_TOKEN_FIELD]))
  );
}

async function sealAddress(address: Json, cipher: PiiCipher): Promise<Json> {
  // Whatever is not kept is sealed, an older `enc` token included (openAddress unwraps it again).
  const { kept, rest } = addressParts(address);
  return { ...kept, [ADDRESS_TOKEN_FIELD]: await cipher.encrypt(rest) };
}

async function openAddress(address: Json, cipher: PiiCipher, depth = 0): Promise<Json> {
  const { kept, rest } = addressParts(address);
  const token = rest[ADDRESS_TOKEN_FIELD];
  if (!isPiiToken(token) || depth > 3) return address;
  const { [ADDRESS_TOKEN_FIELD]: _, ...others } = rest;
  const inner = asObject(await cipher.decrypt(token)) ?? {};
  return { ...(await openAddress(inner, cipher, depth + 1)), ...others, ...kept };
}

/**
 * Traits for a read API: tokens decrypted, and PII shown masked (j***@example.com) unless `reveal`
 * (which the caller grants only to roles allowed to see PII). Values stored before protection existed
 * are masked alike.
 */
export async function revealTraits(
  traits: Json,
  cipher: PiiCipher,
  options: { readonly reveal: boolean },
): Promise<Json> {
  const out: Json = { ...traits };
  await Promise.all(
    Object.entries(traits).map(async ([key, value]) => {
      const address = isAddress(key) ? asObject(value) : undefined;
      if (address) {
        const clear = await openAddress(address, cipher);
        out[key] = options.reveal ? clear : maskAddress(clear);
      } else if (isPiiToken(value)) {
        const clear = await cipher.decrypt(value);
        out[key] = options.reveal ? clear : maskTrait(key, clear);
      } else if (isPiiTrait(key) && !options.reveal) {
        out[key] = maskTrait(key, value);
      }
    }),
  );
  return out;
}

/** The edge's protection as one function of an event, with the secret loaded on first need. */
export function eventProtector(deps: {
  readonly cipher: PiiCipher;
  readonly secret: () => Promise<string>;
  readonly junk: ReadonlySet<string>;
}): (e: NormalizedEvent) => Promise<NormalizedEvent> {
  return async (e) => protectEvent(e, { cipher: deps.cipher, secret: await deps.secret(), junk: deps.junk });
}

/**
 * Quarantined payloads are the raw events as sent, PII included: they are stored as one token. Entries
 * written before protection existed hold clear JSON text, which `open` passes through.
 */
export function payloadSeal(cipher: PiiCipher): {
  seal(payload: string): Promise<string>;
  open(stored: string): Promise<string>;
} {
  return {
    seal: (payload) => cipher.encrypt(payload),
    async open(stored) {
      if (!isPiiToken(stored)) return stored;
      const payload = await cipher.decrypt(stored);
      if (typeof payload !== 'string') throw new Error('a sealed quarantine payload did not hold text');
      return payload;
    },
  };
}
