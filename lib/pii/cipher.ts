// Field-level encryption of PII values. A value becomes a token
//   enc:v1:<keyId>:<base64url(iv[12] | ciphertext | tag[16])>
// AES-256-GCM over JSON.stringify(value) (objects such as an address round-trip), under a data key named
// by keyId, with the token's header `enc:v1:<keyId>` as additional authenticated data: a token moved to
// another keyId, or altered in any byte, fails its tag check instead of decrypting to garbage.
//
// Data keys (envelope encryption): one current key per process, made by the KeyProvider and registered
// (wrapped) in the DataKeyStore before its first use, so any process can decrypt what another wrote.
// It is replaced after maxKeyAgeMs or maxKeyUses encryptions, so that a leaked data key exposes a bounded
// set of values. IVs follow GCM's deterministic construction (NIST SP 800-38D 8.2.1): 4 random bytes drawn
// with the key, then the key's 8-byte use counter. A data key is made and used by one process only, so
// its IVs never repeat, and no random draw is paid per value (it was a third of the cost of one). Keys for decryption
// are cached in clear by keyId (bounded LRU) and loaded from the store + provider when unknown.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataKeyStore, KeyProvider } from './keys.js';

export interface PiiCipher {
  encrypt(value: unknown): Promise<string>;
  decrypt(token: string): Promise<unknown>;
}

export interface CipherOptions {
  readonly provider: KeyProvider;
  readonly store: DataKeyStore;
  readonly now?: () => number;
  /** A data key is replaced once it is this old (default 1 h). */
  readonly maxKeyAgeMs?: number;
  /** ... or once it has encrypted this many values (default 1,000,000). */
  readonly maxKeyUses?: number;
  /** Clear data keys kept for decryption (default 256). */
  readonly maxCachedKeys?: number;
}

/** A token that cannot be decrypted: malformed, tampered with, or made under a key nobody registered. */
export class PiiTokenError extends Error {
  override readonly name = 'PiiTokenError';
}

const PREFIX = 'enc:v1:';
const TOKEN = /^enc:v1:([0-9a-f]{16}):([A-Za-z0-9_-]+)$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function isPiiToken(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith(PREFIX) && TOKEN.test(v);
}

interface DataKey {
  readonly keyId: string;
  readonly key: Buffer;
  readonly aad: Buffer;
  readonly ivPrefix: Buffer;
  readonly createdAt: number;
  uses: number;
}

export function createPiiCipher(options: CipherOptions): PiiCipher {
  const { provider, store } = options;
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxKeyAgeMs ?? 3_600_000;
  const maxUses = options.maxKeyUses ?? 1_000_000;
  const maxCached = options.maxCachedKeys ?? 256;
  // 2^32 invocations per key is GCM's bound for IVs of this construction as for random ones.
  if (!(maxAgeMs > 0) || !(maxUses >= 1 && maxUses <= 2 ** 32) || !(maxCached >= 1)) {
    throw new RangeError('maxKeyAgeMs, maxKeyUses (up to 2^32) and maxCachedKeys must be positive');
  }

  let current: DataKey | undefined;
  /** The key being made: concurrent callers at cold start or rotation share it (one key, not many). */
  let rotating: Promise<void> | undefined;
  /** keyId -> clear key, least recently used first (Map keeps insertion order). */
  const cache = new Map<string, Buffer>();
  const loading = new Map<string, Promise<Buffer>>();

  const remember = (keyId: string, key: Buffer) => {
    cache.delete(keyId);
    cache.set(keyId, key);
    while (cache.size > maxCached) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
  };

  async function rotate(): Promise<void> {
    const { plaintext, encrypted } = await provider.newDataKey();
    const keyId = randomBytes(8).toString('hex');
    const createdAt = now();
    // Registered before first use: a token must never name a key that no other process can find.
    await store.put(keyId, encrypted, new Date(createdAt).toISOString());
    remember(keyId, plaintext);
    current = {
      keyId,
      key: plaintext,
      aad: Buffer.from(`${PREFIX}${keyId}`),
      ivPrefix: randomBytes(4),
      createdAt,
      uses: 0,
    };
  }

  /** The current data key and the IV of one use of it, rotating the key first when spent or too old. */
  async function reserve(): Promise<{ k: DataKey; iv: Buffer }> {
    for (let attempt = 0; ; attempt++) {
      const k = current;
      // After waiting for a rotation the key is brand new: only its uses can have run out meanwhile.
      if (k && k.uses < maxUses && (attempt > 0 || now() - k.createdAt < maxAgeMs)) {
        const iv = Buffer.allocUnsafe(IV_BYTES);
        k.ivPrefix.copy(iv, 0);
        iv.writeBigUInt64BE(BigInt(k.uses), 4);
        k.uses++;
        return { k, iv };
      }
      rotating ??= rotate().finally(() => {
        rotating = undefined;
      });
      await rotating;
    }
  }

  async function keyFor(keyId: string): Promise<Buffer> {
    const cached = cache.get(keyId);
    if (cached) {
      remember(keyId, cached);
      return cached;
    }
    let pending = loading.get(keyId);
    if (!pending) {
      pending = (async () => {
        const encrypted = await store.get(keyId);
        if (!encrypted) throw new PiiTokenError(`PII token names an unknown data key ${keyId}`);
        const key = await provider.decryptDataKey(encrypted);
        remember(keyId, key);
        return key;
      })().finally(() => loading.delete(keyId));
      loading.set(keyId, pending);
    }
    return pending;
  }

  return {
    async encrypt(value) {
      const json = JSON.stringify(value);
      if (json === undefined) throw new TypeError(`cannot encrypt a value of type ${typeof value}`);
      const { k, iv } = await reserve();
      const cipher = createCipheriv('aes-256-gcm', k.key, iv);
      cipher.setAAD(k.aad);
      const body = Buffer.concat([iv, cipher.update(json, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${k.keyId}:${body.toString('base64url')}`;
    },

    async decrypt(token) {
      const match = TOKEN.exec(token);
      const keyId = match?.[1];
      const body = match?.[2] === undefined ? undefined : Buffer.from(match[2], 'base64url');
      if (keyId === undefined || body === undefined || body.length < IV_BYTES + TAG_BYTES) {
        throw new PiiTokenError('not a PII token (expected enc:v1:<keyId>:<base64url>)');
      }
      const key = await keyFor(keyId);
      const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(`${PREFIX}${keyId}`));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      let json: string;
      try {
        json = Buffer.concat([
          decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new PiiTokenError(
          `PII token failed its integrity check under data key ${keyId} (altered, or not made with that key)`,
        );
      }
      return JSON.parse(json);
    },
  };
}
