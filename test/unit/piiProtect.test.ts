// PII protection of events at the edge (lib/pii/protect.ts) and its wiring into ingest(): no clear PII in
// what leaves the edge, idempotence, masked versus revealed reads, sealed quarantine payloads, and the
// hot path skipping protection for events that cannot hold PII. Storage is in memory.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.js';
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
    expect(out.context).toMatchObject({ ip: '203.0.113.7', device: { id: 'dev-5f3a9c21' } });
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

  it('mayHoldPii lets only events with traits, device or external ids through', () => {
    expect(mayHoldPii(normalizedEvent())).toBe(false);
    expect(mayHoldPii(normalizedEvent({ context: { channel: 'web', ip: '1.2.3.4' } }))).toBe(false);
    expect(mayHoldPii(normalizedEvent({ type: 'identify', traits: {} }))).toBe(true);
    expect(mayHoldPii(normalizedEvent({ context: { traits: {} } }))).toBe(true);
    expect(mayHoldPii(normalizedEvent({ context: { device: {} } }))).toBe(true);
    expect(mayHoldPii(normalizedEvent({ context: { externalIds: [] } }))).toBe(true);
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
    const response = await ingest(
      request([{ type: 'identify', userId: 'u1', traits: { email: CLEAR.email, plan: 'gold' } }, bad]),
      e.deps,
    );
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
    ).rejects.toMatchObject({ status: 503 });
    expect(e.enqueued).toEqual([]);
  });
});
