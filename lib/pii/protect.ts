// PII protection at the ingest edge: what leaves the edge (the queue, the archive, the quarantine, the
// profiles downstream) holds no PII in clear. Its identifiers are extracted from the clear values first
// and travel as keyed hashes (lib/pii/identifiers.ts); then, throughout the event:
//
//   traits, context.traits  every kind of the catalogue by name (lib/pii/catalogue.ts: e-mail, phone,
//                           name, birthday, address, however spelled), at any depth -> a token
//                           (lib/pii/cipher.ts); inside an organization's object (company: {name}) only
//                           e-mail and phone names
//   properties, context     e-mail and phone names -> a token (a product's `name` is not a person's)
//   any string anywhere     that is as a whole an e-mail or phone (lib/pii/detect.ts) -> a token;
//                           that holds one in text or in a URL's query string -> that part masked
//   userId, previousId      an e-mail or phone -> `pii:<type>:<keyed hash>` (lib/pii/identifiers.ts)
//   context.ip              cut to its /24 or /48 (lib/pii/ip.ts), or a token, or kept: ProtectDeps.ip
//   context.device, .externalIds  kept: device and CRM ids are identifiers, hashed in `identifiers`
//
// An address object keeps its `country` and `state` in clear beside the token of everything else, so that
// regional segmentation needs no decryption:
//   address: { street: '1 rue X', city: 'Paris', country: 'FR', state: 'IDF' }
//     -> address: { country: 'FR', state: 'IDF', enc: 'enc:v1:…' }   (enc = the object without the two)
// An address that is not an object (a single line of text) becomes a token as a whole.
//
// Protection is idempotent: tokens, masks, pseudonyms and cut IPs are left alone, an address whose only
// other field is an `enc` token is protected already, and identifiers an event carries are kept. null, ''
// and booleans are not PII and stay. Objects nested deeper than MAX_PROTECTED_DEPTH are replaced whole
// (ingestion rejects such events before; this bounds the walk if one gets through).
import type { EventIdentifier, NormalizedEvent } from '../ingest/normalized.js';
import { isEntityObject, type PiiKind, traitKind } from './catalogue.js';
import { isPiiToken, type PiiCipher } from './cipher.js';
import { mayHoldPiiText, redactText, wholePii } from './detect.js';
import { extractIdentifiers, pseudonymousId } from './identifiers.js';
import { type IpPolicy, truncateIp } from './ip.js';
import { CLEAR_ADDRESS_FIELDS, maskByKind } from './mask.js';

/** The field of a protected address that holds the token of its other fields. */
export const ADDRESS_TOKEN_FIELD = 'enc';
export const MAX_PROTECTED_DEPTH = 64;
export const TOO_DEEP = '[REDACTED: nested too deep]';

export interface ProtectDeps {
  readonly cipher: PiiCipher;
  /** The HMAC secret of identifiers (lib/pii/hmac.ts). */
  readonly secret: string;
  readonly junk: ReadonlySet<string>;
  /** What becomes of context.ip (default `truncate`). */
  readonly ip?: IpPolicy;
}

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;

/** Sets an own property, even one named __proto__ (plain assignment would set the prototype instead). */
function setOwn(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

const CONTACT_KINDS: ReadonlySet<PiiKind> = new Set(['email', 'phone']);
/** Context fields left as they are: identifiers (hashed into `identifiers` already). */
const CONTEXT_IDENTIFIERS: ReadonlySet<string> = new Set(['device', 'externalIds']);

/** The kind a key names where every kind counts (a person's traits) or only e-mail and phone do. */
function kindOf(key: string, person: boolean): PiiKind | undefined {
  const kind = traitKind(key)?.kind;
  return kind !== undefined && (person || CONTACT_KINDS.has(kind)) ? kind : undefined;
}

/** Not PII whatever its name: nothing, empty, a yes/no. */
const isBlank = (v: unknown) => v === null || v === undefined || v === '' || typeof v === 'boolean';

/** A value to be replaced by its token once the walk is over (the walk itself is synchronous). */
class Pending {
  constructor(readonly value: unknown) {}
}
const DROP = Symbol('drop');

/**
 * One event's walk: returns each part protected (the same reference when unchanged), with the values to
 * encrypt left in place and listed in `seals`; `sealAll` then encrypts them concurrently.
 */
class Walk {
  readonly seals: { holder: Json | unknown[]; key: string | number; value: unknown }[] = [];

  object(obj: Json, person: boolean, depth: number): Json {
    let out: Json | undefined;
    for (const key of Object.keys(obj)) {
      const value = obj[key];
      const result = this.field(key, value, person, depth);
      if (result === value) continue;
      out ??= { ...obj };
      if (result === DROP) delete out[key];
      else this.place(out, key, result);
    }
    return out ?? obj;
  }

  context(ctx: Json, ip: IpPolicy): Json {
    let out: Json | undefined;
    for (const key of Object.keys(ctx)) {
      if (CONTEXT_IDENTIFIERS.has(key)) continue;
      const value = ctx[key];
      const traits = key === 'traits' ? asObject(value) : undefined;
      const result = traits
        ? this.object(traits, true, 1)
        : key === 'ip'
          ? this.ip(value, ip)
          : this.value(value, false, 1);
      if (result === value) continue;
      out ??= { ...ctx };
      if (result === DROP) delete out[key];
      else this.place(out, key, result);
    }
    return out ?? ctx;
  }

  async sealAll(cipher: PiiCipher): Promise<void> {
    await Promise.all(
      this.seals.map(async ({ holder, key, value }) => {
        const token = await cipher.encrypt(value);
        if (Array.isArray(holder)) holder[key as number] = token;
        else setOwn(holder, String(key), token);
      }),
    );
  }

  private place(out: Json, key: string, result: unknown): void {
    setOwn(out, key, result instanceof Pending ? result.value : result);
    if (result instanceof Pending) this.seals.push({ holder: out, key, value: result.value });
  }

  private field(key: string, value: unknown, person: boolean, depth: number): unknown {
    if (isBlank(value) || isPiiToken(value)) return value;
    const kind = kindOf(key, person);
    const address = kind === 'address' ? asObject(value) : undefined;
    if (address) return this.address(address);
    if (kind !== undefined) return new Pending(value);
    return this.value(value, person && !isEntityObject(key), depth + 1);
  }

  private value(value: unknown, person: boolean, depth: number): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth > MAX_PROTECTED_DEPTH) return TOO_DEEP;
    if (!Array.isArray(value)) return this.object(value as Json, person, depth);
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      const result = this.value(item, person, depth + 1);
      if (result === item) return;
      out ??= [...value];
      out[i] = result instanceof Pending ? result.value : result;
      if (result instanceof Pending) this.seals.push({ holder: out, key: i, value: result.value });
    });
    return out ?? value;
  }

  private text(text: string): unknown {
    if (isPiiToken(text) || !mayHoldPiiText(text)) return text;
    return wholePii(text) !== undefined ? new Pending(text) : redactText(text);
  }

  private ip(value: unknown, policy: IpPolicy): unknown {
    if (policy === 'keep' || isBlank(value) || isPiiToken(value)) return value;
    if (policy === 'encrypt') return new Pending(value);
    // Not an address (a host name, junk): nothing worth keeping that is safe to keep.
    return typeof value === 'string' ? (truncateIp(value) ?? DROP) : DROP;
  }

  private address(address: Json): Json {
    if (addressIsSealed(address)) return address;
    // Whatever is not kept is sealed, an older `enc` token included (openAddress unwraps it again).
    const { kept, rest } = addressParts(address);
    const out = { ...kept };
    setOwn(out, ADDRESS_TOKEN_FIELD, rest);
    this.seals.push({ holder: out, key: ADDRESS_TOKEN_FIELD, value: rest });
    return out;
  }
}

/**
 * Whether an event can hold anything protectEvent acts on. Synchronous and cheap (a character scan per
 * string, lib/pii/detect.ts mayHoldPiiText): the hot path skips protection (and its promise) for events
 * with no traits, IP, device or external ids whose strings cannot hold an e-mail or phone number.
 */
export function mayHoldPii(e: NormalizedEvent): boolean {
  if (e.traits !== undefined) return true;
  if (
    (e.userId !== undefined && mayHoldPiiText(e.userId)) ||
    (e.previousId !== undefined && mayHoldPiiText(e.previousId))
  ) {
    return true;
  }
  const c = e.context;
  if (
    c !== undefined &&
    (c.traits !== undefined || c.device !== undefined || c.externalIds !== undefined || c.ip !== undefined)
  ) {
    return true;
  }
  return mayHoldPiiIn(e.properties, 0) || mayHoldPiiIn(c, 0);
}

function mayHoldPiiIn(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return mayHoldPiiText(value);
  if (value === null || typeof value !== 'object') return false;
  if (depth > MAX_PROTECTED_DEPTH) return true;
  if (Array.isArray(value)) return value.some((v) => mayHoldPiiIn(v, depth + 1));
  for (const key of Object.keys(value)) {
    const v = (value as Json)[key];
    if ((!isBlank(v) && kindOf(key, false) !== undefined) || mayHoldPiiIn(v, depth + 1)) return true;
  }
  return false;
}

/** The event with its identifiers computed and its PII protected; the event itself when unchanged. */
export async function protectEvent(e: NormalizedEvent, deps: ProtectDeps): Promise<NormalizedEvent> {
  const identifiers = merged(e.identifiers, extractIdentifiers(e, deps.secret, deps.junk));
  const walk = new Walk();
  const traits = e.traits && walk.object(e.traits, true, 0);
  const properties = e.properties && walk.object(e.properties, false, 0);
  const context = e.context && walk.context(e.context, deps.ip ?? 'truncate');
  const userId = e.userId && (pseudonymousId(e.userId, deps.secret) ?? e.userId);
  const previousId = e.previousId && (pseudonymousId(e.previousId, deps.secret) ?? e.previousId);
  if (
    traits === e.traits &&
    properties === e.properties &&
    context === e.context &&
    userId === e.userId &&
    previousId === e.previousId &&
    identifiers === e.identifiers
  ) {
    return e;
  }
  await walk.sealAll(deps.cipher);
  const out: NormalizedEvent = { ...e };
  if (traits !== e.traits) out.traits = traits;
  if (properties !== e.properties) out.properties = properties;
  if (context !== e.context) out.context = context;
  if (userId !== e.userId) out.userId = userId;
  if (previousId !== e.previousId) out.previousId = previousId;
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

/** The fields of an address kept in clear (country and state, when text) and the others. */
function addressParts(address: Json): { kept: Json; rest: Json } {
  const kept: Json = {};
  const rest: Json = {};
  for (const field of Object.keys(address)) {
    const value = address[field];
    setOwn(CLEAR_ADDRESS_FIELDS.has(field) && typeof value === 'string' ? kept : rest, field, value);
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

async function openAddress(address: Json, cipher: PiiCipher, depth = 0): Promise<Json> {
  const { kept, rest } = addressParts(address);
  const token = rest[ADDRESS_TOKEN_FIELD];
  if (!isPiiToken(token) || depth > 3) return address;
  const { [ADDRESS_TOKEN_FIELD]: _, ...others } = rest;
  const inner = asObject(await cipher.decrypt(token)) ?? {};
  return { ...(await openAddress(inner, cipher, depth + 1)), ...others, ...kept };
}

/**
 * Traits for a read API: tokens decrypted, and PII shown masked (j***@example.com) unless `reveal` (which
 * the caller grants only to roles allowed to see PII) — every kind of the catalogue, at any depth, and
 * e-mails and phones in any string. Values stored before protection existed are masked alike.
 */
export async function revealTraits(
  traits: Json,
  cipher: PiiCipher,
  options: { readonly reveal: boolean },
): Promise<Json> {
  return revealObject(traits, true, cipher, options.reveal, 0);
}

async function revealObject(obj: Json, person: boolean, cipher: PiiCipher, reveal: boolean, depth: number) {
  const out: Json = { ...obj };
  await Promise.all(
    Object.keys(obj).map(async (key) => {
      setOwn(out, key, await revealField(key, obj[key], person, cipher, reveal, depth));
    }),
  );
  return out;
}

async function revealField(
  key: string | undefined,
  value: unknown,
  person: boolean,
  cipher: PiiCipher,
  reveal: boolean,
  depth: number,
): Promise<unknown> {
  const kind = key === undefined ? undefined : kindOf(key, person);
  const sealed = await openSealed(kind, value, cipher);
  if (sealed) return reveal ? sealed.clear : maskByKind(sealed.kind, sealed.clear);
  if (reveal && !mayHoldTokens(value)) return value;
  if (kind !== undefined && !isBlank(value)) return reveal ? value : maskByKind(kind, value);
  if (typeof value === 'string') return reveal ? value : redactText(value);
  if (value === null || typeof value !== 'object' || depth > MAX_PROTECTED_DEPTH) return value;
  return revealNested(
    value,
    person && (key === undefined || !isEntityObject(key)),
    cipher,
    reveal,
    depth + 1,
  );
}

/** A token or protected address opened, with the kind of PII it holds (by its name, else its shape). */
async function openSealed(
  kind: PiiKind | undefined,
  value: unknown,
  cipher: PiiCipher,
): Promise<{ kind: PiiKind | undefined; clear: unknown } | undefined> {
  const address = kind === 'address' ? asObject(value) : undefined;
  if (address) return { kind, clear: await openAddress(address, cipher) };
  if (!isPiiToken(value)) return undefined;
  const clear = await cipher.decrypt(value);
  return { kind: kind ?? (typeof clear === 'string' ? wholePii(clear) : undefined), clear };
}

function revealNested(value: object, person: boolean, cipher: PiiCipher, reveal: boolean, depth: number) {
  return Array.isArray(value)
    ? Promise.all(value.map((v) => revealField(undefined, v, person, cipher, reveal, depth)))
    : revealObject(value as Json, person, cipher, reveal, depth);
}

/** Whether a value has a token anywhere in it (revealing what has none is the identity). */
function mayHoldTokens(value: unknown): boolean {
  if (typeof value === 'string') return isPiiToken(value);
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(mayHoldTokens);
}

/** The edge's protection as one function of an event, with the secret loaded on first need. */
export function eventProtector(deps: {
  readonly cipher: PiiCipher;
  readonly secret: () => Promise<string>;
  readonly junk: ReadonlySet<string>;
  readonly ip?: IpPolicy;
}): (e: NormalizedEvent) => Promise<NormalizedEvent> {
  return async (e) => protectEvent(e, { ...deps, secret: await deps.secret() });
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
