// PII protection of events at the edge (lib/pii/protect.ts) and its wiring into ingest(): no clear PII in
// what leaves the edge, idempotence, masked versus revealed reads, sealed quarantine payloads, and the
// hot path skipping protection for events that cannot hold PII. Storage is in memory.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.js';
import { StorageUnavailable } from '../../lib/errors.js';
import { type IngestDeps, ingest } from '../../lib/ingest/ingest.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { createPiiCipher, isPiiToken } from '../../lib/pii/cipher.js';
import { identifierHash } from '../../lib/pii/hmac.js';
import { type DataKeyStore, localKeyProvider } from '../../lib/pii/keys.js';
import {
  eventProtector,
  mayHoldPii,
  payloadSeal,
  protectEvent,
  revealTraits,
} from '../../lib/pii/protect.js';
import { type QuarantineEntry, quarantineId } from '../../lib/quarantine/model.js';
import { normalizedEvent, RECEIVED_AT } from './factories.js';

const SECRET = 'unit-test-hmac-secret-0123456789';
const junk = parseConfig({}).quality.junkIds;

function memoryCipher() {
  const keys = new Map<string, Buffer>();
  const store: DataKeyStore = {
    put: async (keyId, encrypted) => void keys.set(keyId, encrypted),
    get: async (keyId) => keys.get(keyId),
  };
  const cipher = createPiiCipher({ provider: localKeyProvider(randomBytes(32)), store });
  let encryptions = 0;
  return {
    cipher: {
      encrypt: (v: unknown) => {
        encryptions++;
        return cipher.encrypt(v);
      },
      decrypt: (t: string) => cipher.decrypt(t),
    },
    encryptions: () => encryptions,
  };
}

const CLEAR = {
  email: 'jane.doe@example.com',
  phone: '+33 6 12 34 56 78',
  name: 'Jane Doe',
  firstName: 'Jane',
  last_name: 'Doe-Smith',
  birthday: '1984-03-07',
  street: '1 rue de la Paix',
};

const identifyJane = (): NormalizedEvent =>
  normalizedEvent({
    type: 'identify',
    event: undefined,
    properties: undefined,
    traits: {
      email: CLEAR.email,
      phone: CLEAR.phone,
      name: CLEAR.name,
      firstName: CLEAR.firstName,
      last_name: CLEAR.last_name,
      birthday: CLEAR.birthday,
      address: { street: CLEAR.street, city: 'Paris', postalCode: '75002', country: 'FR', state: 'IDF' },
      plan: 'gold',
      logins: 12,
    },
    context: {
      ip: '203.0.113.7',
      traits: { email: CLEAR.email, Phone: CLEAR.phone },
      device: { id: 'dev-5f3a9c21' },
    },
  });

describe('protectEvent', () => {
  it('leaves no clear PII anywhere in the event, keeps the rest, and adds hashed identifiers', async () => {
    const { cipher } = memoryCipher();
    const e = identifyJane();
    const before = structuredClone(e);
    const out = await protectEvent(e, { cipher, secret: SECRET, junk });

    const json = JSON.stringify(out);
    for (const clear of [...Object.values(CLEAR), 'Paris', '75002', '12 34 56 78', 'Jane']) {
      expect(json).not.toContain(clear);
    }
    expect(e).toEqual(before);
    expect(out.traits).toMatchObject({ plan: 'gold', logins: 12 });
    for (const key of ['email', 'phone', 'name', 'firstName', 'last_name', 'birthday']) {
      expect(isPiiToken(out.traits?.[key])).toBe(true);
    }
    const address = out.traits?.address as Record<string, unknown>;
    expect(Object.keys(address).sort()).toEqual(['country', 'enc', 'state']);
    expect(address).toMatchObject({ country: 'FR', state: 'IDF' });
    expect(await cipher.decrypt(String(address.enc))).toEqual({
      street: CLEAR.street,
      city: 'Paris',
      postalCode: '75002',
    });
    const contextTraits = (out.context?.traits ?? {}) as Record<string, unknown>;
    expect(isPiiToken(contextTraits.email) && isPiiToken(contextTraits.Phone)).toBe(true);
    // The IP is truncated to its /24 by default (see the catalogue tests below).
    expect(out.context).toMatchObject({ ip: '203.0.113.0', device: { id: 'dev-5f3a9c21' } });
    expect(out.identifiers).toEqual([
      { type: 'email', hash: identifierHash(SECRET, 'email', CLEAR.email), mask: 'j***@example.com' },
      { type: 'phone', hash: identifierHash(SECRET, 'phone', '+33612345678'), mask: '+*********78' },
      { type: 'device', hash: identifierHash(SECRET, 'device', 'dev-5f3a9c21'), mask: 'de***21' },
    ]);
    expect(await cipher.decrypt(String(out.traits?.email))).toBe(CLEAR.email);
  });

  it('is idempotent: a protected event comes back as it is, its identifiers kept', async () => {
    const { cipher, encryptions } = memoryCipher();
    const once = await protectEvent(identifyJane(), { cipher, secret: SECRET, junk });
    const count = encryptions();
    const twice = await protectEvent(once, { cipher, secret: SECRET, junk });
    expect(twice).toBe(once);
    expect(encryptions()).toBe(count);
  });

  it('returns events without PII unchanged, and encrypts nothing for identifier-only context', async () => {
    const { cipher, encryptions } = memoryCipher();
    const deps = { cipher, secret: SECRET, junk };
    const plain = normalizedEvent({ context: { channel: 'web', sessionId: 's1' } });
    expect(await protectEvent(plain, deps)).toBe(plain);
    const countryOnly = normalizedEvent({
      type: 'identify',
      traits: { address: { country: 'GB' }, email: null },
    });
    expect(await protectEvent(countryOnly, deps)).toBe(countryOnly);
    const device = normalizedEvent({
      context: { device: { advertisingId: 'a1b2c3d4-e5f6-4a1b-8c2d-3e4f5a6b7c8d' } },
    });
    const withIds = await protectEvent(device, deps);
    expect(withIds.identifiers?.map((i) => i.type)).toEqual(['device']);
    expect(withIds.context).toBe(device.context);
    expect(encryptions()).toBe(0);
  });

  it('seals a one-line address whole, and re-seals an address a client extended', async () => {
    const { cipher } = memoryCipher();
    const deps = { cipher, secret: SECRET, junk };
    const line = await protectEvent(
      normalizedEvent({ type: 'identify', traits: { address: '1 rue de la Paix, Paris' } }),
      deps,
    );
    expect(isPiiToken(line.traits?.address)).toBe(true);

    const first = await protectEvent(identifyJane(), deps);
    const extended = {
      ...first,
      traits: { ...first.traits, address: { ...(first.traits?.address as object), floor: '3rd' } },
    };
    const resealed = await protectEvent(extended, deps);
    expect(JSON.stringify(resealed)).not.toContain('3rd');
    const revealed = await revealTraits(resealed.traits ?? {}, cipher, { reveal: true });
    expect(revealed.address).toEqual({
      street: CLEAR.street,
      city: 'Paris',
      postalCode: '75002',
      floor: '3rd',
      country: 'FR',
      state: 'IDF',
    });
  });

  it('mayHoldPii lets through events with traits, ids, an IP, or e-mail- or phone-like strings', () => {
    expect(mayHoldPii(normalizedEvent())).toBe(false);
    expect(
      mayHoldPii(normalizedEvent({ context: { channel: 'web', page: { url: 'https://x.io/?q=1' } } })),
    ).toBe(false);
    expect(mayHoldPii(normalizedEvent({ context: { channel: 'web', ip: '1.2.3.4' } }))).toBe(true);
    expect(mayHoldPii(normalizedEvent({ userId: 'jane@example.com' }))).toBe(true);
    expect(mayHoldPii(normalizedEvent({ properties: { items: [{ note: 'call +33612345678' }] } }))).toBe(
      true,
    );
    expect(mayHoldPii(normalizedEvent({ properties: { phone: 612345678 } }))).toBe(true);
    expect(
      mayHoldPii(normalizedEvent({ context: { page: { url: 'https://x.io/?email=jane%40example.com' } } })),
    ).toBe(true);
    expect(mayHoldPii(normalizedEvent({ type: 'identify', traits: {} }))).toBe(true);
    expect(mayHoldPii(normalizedEvent({ context: { traits: {} } }))).toBe(true);
    expect(mayHoldPii(normalizedEvent({ context: { device: {} } }))).toBe(true);
    expect(mayHoldPii(normalizedEvent({ context: { externalIds: [] } }))).toBe(true);
  });
});

/** `root` with `value` set at `path`, creating objects on the way (own properties only: `__proto__` too). */
function withValueAt(root: Record<string, unknown>, path: readonly string[], value: unknown) {
  let at = root;
  for (const [i, k] of path.entries()) {
    const last = i === path.length - 1;
    // Read own properties only: `toString` or `__proto__` must not reach Object.prototype.
    const next = Object.hasOwn(at, k) ? at[k] : undefined;
    const child = last ? value : next !== null && typeof next === 'object' ? next : {};
    Object.defineProperty(at, k, { value: child, writable: true, enumerable: true, configurable: true });
    if (!last) at = child as Record<string, unknown>;
  }
  return root;
}

describe('the catalogue of aliases, PII values anywhere, and IPs', () => {
  const deps = () => ({ ...memoryCipher(), secret: SECRET, junk });

  /**
   * Traits named as real clients name them, nested, and with PII inside free text, each beside what a read
   * key is shown of it (so that a trait added here cannot go without its expected mask).
   */
  const unchanged = (v: unknown) => ({ clear: v, masked: v });
  const TRAITS: Record<string, { clear: unknown; masked: unknown }> = {
    contact_email: { clear: 'contact.jane@example.com', masked: 'c***@example.com' },
    emailAddress: { clear: 'jane.addr@example.com', masked: 'j***@example.com' },
    mobile: { clear: '+33 6 98 76 54 32', masked: '+*********32' },
    phone_number: { clear: '(415) 555-0100', masked: '********00' },
    full_name: { clear: 'Janet Quintessa Doe', masked: 'J*** Q*** D***' },
    'Date of Birth': { clear: '1984-03-07', masked: '****-**-**' },
    emergency_contact_phone: { clear: '+44 20 7946 0958', masked: '+**********58' },
    contact: {
      clear: { work_email: 'jane.work@example.com', 'Home-Phone': '+49 151 23456789' },
      masked: { work_email: 'j***@example.com', 'Home-Phone': '+***********89' },
    },
    shippingAddress: {
      clear: { street: '9 Kings Road', city: 'London', postalCode: 'SW3 4LX', country: 'GB' },
      masked: { street: '***', city: '***', postalCode: '***', country: 'GB' },
    },
    zip: { clear: '75002', masked: '***' },
    notes: { clear: 'prefers SMS on +86 138 0013 8000', masked: 'prefers SMS on +***********00' },
    login: { clear: 'jane.login@example.com', masked: 'j***@example.com' },
    company: unchanged({ name: 'Acme Ltd', plan: 'gold' }),
    plan: unchanged('gold'),
    logins: unchanged(12),
  };
  const traitsAs = (view: 'clear' | 'masked'): Record<string, unknown> =>
    Object.fromEntries(Object.entries(TRAITS).map(([name, t]) => [name, t[view]]));
  const ALIASED = traitsAs('clear');
  const CLEAR_VALUES = [
    'contact.jane',
    'jane.addr',
    '98 76 54 32',
    '555-0100',
    'Janet',
    'Quintessa',
    '1984-03-07',
    '7946 0958',
    'jane.work',
    '23456789',
    'Kings Road',
    'London',
    'SW3 4LX',
    '75002',
    '138 0013 8000',
    'jane.login',
  ];

  it('encrypts every alias, nested ones included, in traits and context.traits; other traits stay', async () => {
    const { cipher } = deps();
    const e = normalizedEvent({
      type: 'identify',
      event: undefined,
      properties: undefined,
      traits: ALIASED,
      context: { traits: ALIASED },
    });
    const out = await protectEvent(e, { cipher, secret: SECRET, junk });
    const json = JSON.stringify(out);
    for (const clear of CLEAR_VALUES) expect(json, clear).not.toContain(clear);
    const traits = out.traits ?? {};
    for (const key of [
      'contact_email',
      'emailAddress',
      'mobile',
      'phone_number',
      'full_name',
      'Date of Birth',
    ]) {
      expect(isPiiToken(traits[key]), key).toBe(true);
    }
    expect(traits).toMatchObject({ company: { name: 'Acme Ltd', plan: 'gold' }, plan: 'gold', logins: 12 });
    expect(traits.shippingAddress).toMatchObject({ country: 'GB' });
    // Readable again by those allowed to — except a phone inside free text, which is masked for good.
    expect(await revealTraits(traits, cipher, { reveal: true })).toEqual({
      ...ALIASED,
      notes: 'prefers SMS on +***********00',
    });
  });

  it('makes aliased e-mails and phones of the customer identifiers, not those of someone else', async () => {
    const { cipher } = deps();
    const e = normalizedEvent({ type: 'identify', event: undefined, properties: undefined, traits: ALIASED });
    const out = await protectEvent(e, { cipher, secret: SECRET, junk });
    const hashes = new Set(out.identifiers?.map((i) => `${i.type}:${i.hash}`));
    for (const [type, value] of [
      ['email', 'contact.jane@example.com'],
      ['email', 'jane.addr@example.com'],
      ['phone', '+33698765432'],
      ['phone', '4155550100'],
    ] as const) {
      expect(hashes.has(`${type}:${identifierHash(SECRET, type, value)}`), value).toBe(true);
    }
    expect(hashes.has(`phone:${identifierHash(SECRET, 'phone', '+442079460958')}`)).toBe(false);
    expect(hashes.has(`email:${identifierHash(SECRET, 'email', 'jane.login@example.com')}`)).toBe(false);
  });

  it('shows every protected trait masked to a read key', async () => {
    const { cipher } = deps();
    const e = normalizedEvent({ type: 'identify', event: undefined, properties: undefined, traits: ALIASED });
    const traits = (await protectEvent(e, { cipher, secret: SECRET, junk })).traits ?? {};
    const masked = await revealTraits(traits, cipher, { reveal: false });
    expect(masked).toEqual(traitsAs('masked'));
    // Stored before protection existed: masked alike.
    expect(await revealTraits(ALIASED, cipher, { reveal: false })).toEqual(masked);
  });

  it('protects e-mails and phones in properties at any depth and in URLs, leaving ids and amounts', async () => {
    const { cipher } = deps();
    const e = normalizedEvent({
      properties: {
        order_id: 'ORD-2024-0001-2345',
        revenue: 1234567.89,
        coupon: 'SUMMER2024',
        email: 'buyer.one@example.com',
        gift: { message: 'Happy birthday! Reach me at gift.giver@example.com or 06 12 34 56 78' },
        products: [{ sku: 'SKU-12345678', recipient_phone: '+33 7 11 22 33 44' }],
        url: 'https://shop.example.com/checkout?email=url.buyer%40example.com&step=2',
        referrer: 'https://mail.example.com/?to=ref.buyer@example.com',
      },
      context: {
        page: {
          url: 'https://shop.example.com/thanks?phone=%2B33%206%2055%2044%2033%2022',
          search: '?phone=%2B33%206%2055%2044%2033%2022',
          referrer: 'https://news.example.com/?subscriber=page.ref%40example.com',
          path: '/thanks',
        },
        campaign: { content: 'newsletter for camp.reader@example.com' },
        userAgent: 'Mozilla/5.0 (Linux; Android 10; SM-G973F) AppleWebKit/537.36 Chrome/83.0.4103.106',
      },
    });
    const out = await protectEvent(e, { cipher, secret: SECRET, junk });
    const json = JSON.stringify(out);
    for (const clear of [
      'buyer.one',
      'gift.giver',
      '12 34 56 78',
      '11 22 33 44',
      'url.buyer',
      'ref.buyer',
      '55%2044%2033',
      'page.ref',
      'camp.reader',
    ]) {
      expect(json, clear).not.toContain(clear);
    }
    expect(out.properties).toMatchObject({
      order_id: 'ORD-2024-0001-2345',
      revenue: 1234567.89,
      coupon: 'SUMMER2024',
      products: [{ sku: 'SKU-12345678' }],
    });
    expect(String((out.properties?.url as string) ?? '')).toMatch(
      /^https:\/\/shop\.example\.com\/checkout\?email=/,
    );
    expect(String(out.properties?.url)).toContain('step=2');
    expect(out.context).toMatchObject({ page: { path: '/thanks' }, userAgent: e.context?.userAgent });
    // A whole value is encrypted (an admin can read it back); inside text it is masked.
    expect(isPiiToken(out.properties?.email)).toBe(true);
    expect((out.properties?.gift as { message?: string } | undefined)?.message).toBe(
      'Happy birthday! Reach me at g***@example.com or ********78',
    );
  });

  it('pseudonymizes e-mail and phone userIds and previousIds, consistently, keeping them identifiers', async () => {
    const { cipher } = deps();
    const protect = (userId: string, previousId?: string) =>
      protectEvent(normalizedEvent({ userId, previousId, type: previousId ? 'alias' : 'track' }), {
        cipher,
        secret: SECRET,
        junk,
      });
    const a = await protect('Jane.Doe@Example.com');
    const b = await protect(' jane.doe@example.com ');
    const c = await protect('john@example.com', 'jane.doe@example.com');
    expect(a.userId).toBeDefined();
    expect(a.userId).not.toContain('jane');
    expect(a.userId).toBe(b.userId);
    expect(c.previousId).toBe(a.userId);
    expect(c.userId).not.toBe(a.userId);
    expect(a.identifiers).toContainEqual({
      type: 'email',
      hash: identifierHash(SECRET, 'email', 'jane.doe@example.com'),
      mask: 'j***@example.com',
    });
    const p = await protect('+33 6 12 34 56 78');
    expect(p.userId).toBe((await protect('+33612345678')).userId);
    expect(p.userId).not.toMatch(/\d{6}/);
    expect(p.identifiers?.map((i) => i.type)).toEqual(['phone']);
    // Ordinary ids, numeric ones included, are left as sent.
    for (const id of ['12347', 'user-1', 'u_8f3a9c21', '1234567890'])
      expect((await protect(id)).userId).toBe(id);
    // Idempotent: the pseudonym is not an e-mail.
    expect((await protect(a.userId ?? '')).userId).toBe(a.userId);
  });

  it('truncates context.ip by default, and encrypts or keeps it when configured', async () => {
    const { cipher } = deps();
    const withIp = (ip: unknown) => normalizedEvent({ context: { ip, channel: 'web' } });
    const base = { cipher, secret: SECRET, junk };
    expect((await protectEvent(withIp('203.0.113.7'), base)).context?.ip).toBe('203.0.113.0');
    expect((await protectEvent(withIp('2001:db8:85a3:8d3:1319:8a2e:370:7348'), base)).context?.ip).toBe(
      '2001:db8:85a3::',
    );
    expect((await protectEvent(withIp('not an ip'), base)).context).toEqual({ channel: 'web' });
    const sealed = await protectEvent(withIp('203.0.113.7'), { ...base, ip: 'encrypt' });
    expect(isPiiToken(sealed.context?.ip)).toBe(true);
    expect(await cipher.decrypt(String(sealed.context?.ip))).toBe('203.0.113.7');
    expect((await protectEvent(withIp('203.0.113.7'), { ...base, ip: 'keep' })).context?.ip).toBe(
      '203.0.113.7',
    );
  });

  it('is idempotent on all of these', async () => {
    const { cipher, encryptions } = memoryCipher();
    const d = { cipher, secret: SECRET, junk };
    const e = normalizedEvent({
      userId: 'jane.doe@example.com',
      traits: ALIASED,
      properties: { note: 'call +33 6 12 34 56 78', email: 'x.y@example.com' },
      context: { ip: '203.0.113.7', traits: ALIASED, page: { url: 'https://x.io/?email=a%40b.co' } },
    });
    const once = await protectEvent(e, d);
    const count = encryptions();
    expect(await protectEvent(once, d)).toBe(once);
    expect(encryptions()).toBe(count);
  });

  it('leaves no e-mail anywhere in arbitrary JSON, whatever the keys, and is idempotent on it', async () => {
    const { cipher } = memoryCipher();
    const d = { cipher, secret: SECRET, junk };
    const key = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('__proto__', 'constructor', 'toString', 'email', 'phone', 'name', 'address', 'url'),
    );
    const secret = 'zz.secret.value@example.com';
    await fc.assert(
      fc.asyncProperty(
        fc.object({ key, maxDepth: 3 }),
        fc.array(key, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('traits', 'properties', 'context'),
        fc.constantFrom(secret, `note: ${secret}`, `https://x.io/?to=${encodeURIComponent(secret)}`),
        async (base, path, where, value) => {
          fc.pre(!(where === 'context' && ['device', 'externalIds'].includes(path[0] ?? '')));
          const root = withValueAt(JSON.parse(JSON.stringify(base)), path, value);
          const out = await protectEvent(normalizedEvent({ type: 'identify', [where]: root }), d);
          expect(JSON.stringify(out)).not.toContain('zz.secret.value');
          expect(await protectEvent(out, d)).toBe(out);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('does not let a trait named __proto__ change the prototype of what it returns', async () => {
    const { cipher } = deps();
    const traits = JSON.parse(
      '{"__proto__": {"email": "proto.jane@example.com"}, "email": "x.jane@example.com"}',
    );
    const out = await protectEvent(normalizedEvent({ type: 'identify', traits }), {
      cipher,
      secret: SECRET,
      junk,
    });
    expect(JSON.stringify(out)).not.toContain('jane@');
    expect(Object.getPrototypeOf(out.traits)).toBe(Object.prototype);
    expect(Object.keys(out.traits ?? {})).toEqual(['__proto__', 'email']);
  });
});

describe('revealTraits', () => {
  it('shows masked values by default and clear ones on reveal; other traits untouched', async () => {
    const { cipher } = memoryCipher();
    const out = await protectEvent(identifyJane(), { cipher, secret: SECRET, junk });
    const traits = out.traits ?? {};

    expect(await revealTraits(traits, cipher, { reveal: false })).toEqual({
      email: 'j***@example.com',
      phone: '+*********78',
      name: 'J*** D***',
      firstName: 'J***',
      last_name: 'D***',
      birthday: '****-**-**',
      address: { street: '***', city: '***', postalCode: '***', country: 'FR', state: 'IDF' },
      plan: 'gold',
      logins: 12,
    });
    expect(await revealTraits(traits, cipher, { reveal: true })).toEqual(identifyJane().traits);
    // Traits stored before protection existed are masked alike.
    expect(await revealTraits({ email: CLEAR.email, plan: 'gold' }, cipher, { reveal: false })).toEqual({
      email: 'j***@example.com',
      plan: 'gold',
    });
  });
});

describe('ingest() at the edge', () => {
  const quality = parseConfig({}).quality;
  const silent = { debug() {}, info() {}, warn() {}, error() {} };

  function edge() {
    const { cipher } = memoryCipher();
    const enqueued: NormalizedEvent[] = [];
    const stored: QuarantineEntry[] = [];
    let protections = 0;
    const protect = eventProtector({ cipher, secret: async () => SECRET, junk });
    const deps: IngestDeps = {
      sink: { enqueue: async (events) => void enqueued.push(...events) },
      quarantine: { put: async (entries) => void stored.push(...entries) },
      quality,
      log: silent,
      now: () => RECEIVED_AT,
      protect: (e) => {
        protections++;
        return protect(e);
      },
      sealPayload: payloadSeal(cipher).seal,
    };
    return { deps, cipher, enqueued, stored, protections: () => protections };
  }

  const request = (batch: unknown[]) => {
    const body = { batch };
    return { route: 'batch' as const, body, bodyBytes: JSON.stringify(body).length, sourceId: 'src_web' };
  };

  it('protects accepted events and seals quarantined payloads, ids computed from the clear payload', async () => {
    const e = edge();
    const bad = {
      type: 'track',
      userId: 'u1',
      event: 'Order Completed',
      properties: { revenue: -5, email: CLEAR.email },
      context: { traits: { email: CLEAR.email } },
    };
    const outcome = await ingest(
      request([{ type: 'identify', userId: 'u1', traits: { email: CLEAR.email, plan: 'gold' } }, bad]),
      e.deps,
    );
    if (!outcome.ok) throw new Error(`expected one event accepted: ${outcome.message}`);
    const response = outcome.value;
    expect(response.accepted).toBe(1);
    expect(JSON.stringify(e.enqueued)).not.toContain(CLEAR.email);
    expect(e.enqueued[0]?.identifiers?.[0]?.hash).toBe(identifierHash(SECRET, 'email', CLEAR.email));

    const [entry] = e.stored;
    expect(JSON.stringify(e.stored)).not.toContain(CLEAR.email);
    expect(isPiiToken(entry?.payload)).toBe(true);
    expect(entry?.id).toBe(quarantineId('src_web', JSON.stringify(bad)));
    expect(response.rejected[0]?.quarantineId).toBe(entry?.id);
    expect(JSON.parse(await payloadSeal(e.cipher).open(entry?.payload ?? ''))).toEqual(bad);
  });

  it('never calls protect for events that cannot hold PII', async () => {
    const e = edge();
    const views = Array.from({ length: 5 }, (_, i) => ({
      type: 'track',
      anonymousId: `a${i}`,
      event: 'Product Viewed',
      properties: { product_id: `p${i}` },
      context: { channel: 'web', sessionId: 's1' },
    }));
    await ingest(request(views), e.deps);
    expect(e.enqueued).toHaveLength(5);
    expect(e.protections()).toBe(0);
    await ingest(request([...views, { type: 'identify', userId: 'u1', traits: { plan: 'gold' } }]), e.deps);
    expect(e.protections()).toBe(1);
  });

  it('answers 503 and enqueues nothing when protection fails (a key service down)', async () => {
    const e = edge();
    const deps = { ...e.deps, protect: async () => Promise.reject(new Error('KMS throttled')) };
    await expect(
      ingest(request([{ type: 'identify', userId: 'u1', traits: { email: CLEAR.email } }]), deps),
    ).rejects.toBeInstanceOf(StorageUnavailable);
    expect(e.enqueued).toEqual([]);
  });
});
