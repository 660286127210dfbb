// Field-level PII encryption (lib/pii/cipher.ts, lib/pii/keys.ts) with the local key provider and an
// in-memory data key registry: round trips, tamper and AAD detection, key rotation by uses and by age,
// one data key under a concurrent cold start, and decryption by another process sharing the registry.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPiiCipher, isPiiToken, PiiTokenError } from '../../lib/pii/cipher.js';
import { type DataKeyStore, type KeyProvider, keyProviderFor, localKeyProvider } from '../../lib/pii/keys.js';

/** The registry as the DynamoDB table behaves: conditional puts, reads of what was put. */
function memoryStore() {
  const items = new Map<string, Buffer>();
  let gets = 0;
  const store: DataKeyStore = {
    async put(keyId, encrypted) {
      if (items.has(keyId)) throw new Error(`data key ${keyId} already exists`);
      items.set(keyId, Buffer.from(encrypted));
    },
    async get(keyId) {
      gets++;
      return items.get(keyId);
    },
  };
  return { store, items, gets: () => gets };
}

/** A provider that counts the data keys it made. */
function countingProvider(master = randomBytes(32)) {
  const inner = localKeyProvider(master);
  let made = 0;
  const provider: KeyProvider = {
    async newDataKey() {
      made++;
      // A slow KMS: concurrent callers really overlap.
      await new Promise((r) => setTimeout(r, 5));
      return inner.newDataKey();
    },
    decryptDataKey: (blob) => inner.decryptDataKey(blob),
  };
  return { provider, made: () => made, master };
}

const keyIdOf = (token: string) => token.split(':')[2];

/** Flips one bit of the token's binary part at byte `at` (counted from the end when negative). */
function tampered(token: string, at: number): string {
  const [enc, v, keyId, body] = token.split(':');
  const bytes = Buffer.from(body ?? '', 'base64url');
  const i = at < 0 ? bytes.length + at : at;
  bytes[i] = (bytes[i] ?? 0) ^ 0x01;
  return `${enc}:${v}:${keyId}:${bytes.toString('base64url')}`;
}

describe('PII tokens', () => {
  it('round-trip strings, numbers, objects and unicode, with a fresh IV each time', async () => {
    const { store } = memoryStore();
    const cipher = createPiiCipher({ provider: countingProvider().provider, store });
    const values = [
      'jane.doe@example.com',
      '+33 6 12 34 56 78',
      4915112345678,
      { street: '1 rue de la Paix', city: 'Paris', zip: '75002' },
      '王小明 — Zoë Ørsted 👩‍💻',
      ['a', 1, null],
      '',
    ];
    for (const value of values) {
      const token = await cipher.encrypt(value);
      expect(isPiiToken(token)).toBe(true);
      expect(token).toMatch(/^enc:v1:[0-9a-f]{16}:[A-Za-z0-9_-]+$/);
      expect(await cipher.decrypt(token)).toEqual(value);
    }
    const [a, b] = [await cipher.encrypt('same'), await cipher.encrypt('same')];
    expect(a).not.toBe(b);
    expect(keyIdOf(a)).toBe(keyIdOf(b));
    // The IV (first 12 bytes) never repeats under one key.
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => cipher.encrypt('same')));
    const ivs = tokens.map((t) =>
      Buffer.from(t.split(':')[3] ?? '', 'base64url')
        .subarray(0, 12)
        .toString('hex'),
    );
    expect(new Set(ivs).size).toBe(1000);
  });

  it('refuses values JSON cannot carry', async () => {
    const cipher = createPiiCipher({ provider: countingProvider().provider, store: memoryStore().store });
    await expect(cipher.encrypt(undefined)).rejects.toThrow(TypeError);
  });

  it('recognizes tokens and nothing else', () => {
    expect(isPiiToken('enc:v1:0123456789abcdef:AAAA')).toBe(true);
    for (const v of [
      'enc:v1:0123456789abcdef:',
      'enc:v2:0123456789abcdef:AAAA',
      'jane@example.com',
      42,
      null,
    ]) {
      expect(isPiiToken(v)).toBe(false);
    }
    expect(isPiiToken('enc:v1:0123456789ABCDEF:AAAA')).toBe(false);
  });

  it('detects a flipped byte anywhere: IV, ciphertext or tag', async () => {
    const cipher = createPiiCipher({ provider: countingProvider().provider, store: memoryStore().store });
    const token = await cipher.encrypt('jane.doe@example.com');
    for (const at of [0, 12, 20, -1]) {
      await expect(cipher.decrypt(tampered(token, at))).rejects.toThrow(PiiTokenError);
    }
    await expect(cipher.decrypt(tampered(token, -1))).rejects.toThrow(/integrity check/);
    await expect(cipher.decrypt('enc:v1:0123456789abcdef:AAAA')).rejects.toThrow(/not a PII token/);
  });

  it('binds a token to its keyId: moved under another registered key, it fails', async () => {
    const { store } = memoryStore();
    const now = { t: 0 };
    const cipher = createPiiCipher({
      provider: countingProvider().provider,
      store,
      now: () => now.t,
      maxKeyUses: 1,
    });
    const first = await cipher.encrypt('jane.doe@example.com');
    const second = await cipher.encrypt('john@example.com');
    expect(keyIdOf(first)).not.toBe(keyIdOf(second));
    const moved = first.replace(keyIdOf(first) ?? '', keyIdOf(second) ?? '');
    await expect(cipher.decrypt(moved)).rejects.toThrow(/integrity check/);
  });

  it('names the unknown data key of a token no registry knows', async () => {
    const cipher = createPiiCipher({ provider: countingProvider().provider, store: memoryStore().store });
    const foreign = createPiiCipher({ provider: countingProvider().provider, store: memoryStore().store });
    const token = await foreign.encrypt('x');
    await expect(cipher.decrypt(token)).rejects.toThrow(`unknown data key ${keyIdOf(token)}`);
  });
});

describe('data keys', () => {
  it('rotates after maxKeyUses encryptions; old tokens still decrypt', async () => {
    const { store, items } = memoryStore();
    const p = countingProvider();
    const cipher = createPiiCipher({ provider: p.provider, store, maxKeyUses: 3 });
    const tokens = [];
    for (let i = 0; i < 7; i++) tokens.push(await cipher.encrypt(`value ${i}`));
    const keyIds = tokens.map(keyIdOf);
    expect(new Set(keyIds.slice(0, 3)).size).toBe(1);
    expect(new Set(keyIds.slice(3, 6)).size).toBe(1);
    expect(new Set(keyIds).size).toBe(3);
    expect(p.made()).toBe(3);
    expect([...items.keys()].sort()).toEqual([...new Set(keyIds)].sort());
    for (const [i, token] of tokens.entries()) expect(await cipher.decrypt(token)).toBe(`value ${i}`);
  });

  it('rotates once a key is maxKeyAgeMs old (injected clock)', async () => {
    const { store } = memoryStore();
    const clock = { t: Date.parse('2026-01-01T00:00:00Z') };
    const cipher = createPiiCipher({
      provider: countingProvider().provider,
      store,
      now: () => clock.t,
      maxKeyAgeMs: 3_600_000,
    });
    const first = await cipher.encrypt('a');
    clock.t += 3_599_999;
    const stillFirst = await cipher.encrypt('b');
    clock.t += 1;
    const second = await cipher.encrypt('c');
    expect(keyIdOf(stillFirst)).toBe(keyIdOf(first));
    expect(keyIdOf(second)).not.toBe(keyIdOf(first));
    clock.t += 10 * 3_600_000;
    expect(await cipher.decrypt(first)).toBe('a');
  });

  it('makes one data key for many concurrent encryptions at a cold start', async () => {
    const { store, items } = memoryStore();
    const p = countingProvider();
    const cipher = createPiiCipher({ provider: p.provider, store });
    const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => cipher.encrypt(`v${i}`)));
    expect(p.made()).toBe(1);
    expect(items.size).toBe(1);
    expect(new Set(tokens.map(keyIdOf)).size).toBe(1);
  });

  it('rotates under concurrency without exceeding maxKeyUses per key', async () => {
    const { store } = memoryStore();
    const p = countingProvider();
    const cipher = createPiiCipher({ provider: p.provider, store, maxKeyUses: 10 });
    const tokens = await Promise.all(Array.from({ length: 35 }, (_, i) => cipher.encrypt(`v${i}`)));
    const perKey = new Map<string, number>();
    for (const k of tokens.map(keyIdOf)) perKey.set(k ?? '', (perKey.get(k ?? '') ?? 0) + 1);
    expect([...perKey.values()].every((n) => n <= 10)).toBe(true);
    expect(p.made()).toBe(4);
  });

  it('registers a key before its first use, and encrypts nothing when registering fails', async () => {
    const failing: DataKeyStore = {
      put: async () => {
        throw new Error('DynamoDB is down');
      },
      get: async () => undefined,
    };
    const cipher = createPiiCipher({ provider: countingProvider().provider, store: failing });
    await expect(cipher.encrypt('x')).rejects.toThrow('DynamoDB is down');
  });

  it('decrypts in another process that shares only the registry and the master key', async () => {
    const { store, gets } = memoryStore();
    const master = randomBytes(32);
    const writer = createPiiCipher({ provider: localKeyProvider(master), store, maxKeyUses: 2 });
    const tokens = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((v) => writer.encrypt(v)));
    // The reader keeps one clear key at a time: evicted keys are loaded again from the registry.
    const reader = createPiiCipher({ provider: localKeyProvider(master), store, maxCachedKeys: 1 });
    for (const _ of [1, 2]) {
      expect(await Promise.all(tokens.map((t) => reader.decrypt(t)))).toEqual(['a', 'b', 'c', 'd', 'e']);
    }
    expect(gets()).toBeGreaterThan(3);
    const otherMaster = createPiiCipher({ provider: localKeyProvider(randomBytes(32)), store });
    await expect(otherMaster.decrypt(tokens[0] ?? '')).rejects.toThrow(/PRECIS_PII_LOCAL_KEY changed/);
  });

  it('loads an unknown key once for concurrent decryptions', async () => {
    const { store, gets } = memoryStore();
    const master = randomBytes(32);
    const token = await createPiiCipher({ provider: localKeyProvider(master), store }).encrypt('x');
    const reader = createPiiCipher({ provider: localKeyProvider(master), store });
    expect(await Promise.all(Array.from({ length: 20 }, () => reader.decrypt(token)))).toEqual(
      Array(20).fill('x'),
    );
    expect(gets()).toBe(1);
  });

  it('picks the provider the configuration names, and says what to set when there is none', async () => {
    const kms = (keyId: string): KeyProvider => ({
      newDataKey: async () => {
        throw new Error(`kms ${keyId}`);
      },
      decryptDataKey: async () => Buffer.alloc(32),
    });
    await expect(
      keyProviderFor({ kmsKeyId: 'alias/pii', localKey: randomBytes(32) }, kms).newDataKey(),
    ).rejects.toThrow('kms alias/pii');
    const local = await keyProviderFor({ localKey: randomBytes(32) }, kms).newDataKey();
    expect(local.plaintext).toHaveLength(32);
    expect(local.encrypted).toHaveLength(60);
    await expect(keyProviderFor({}, kms).newDataKey()).rejects.toThrow(/PRECIS_PII_LOCAL_KEY/);
    expect(() => localKeyProvider(randomBytes(16))).toThrow(/32 bytes/);
  });
});
