// API keys: where a request's key is read from, how it is resolved to a role (401 unknown or revoked,
// 403 wrong role), the lookup cache, and that only hashes of keys are ever stored.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ApiKeyRecord,
  type ApiKeyStore,
  allows,
  createApiKey,
  hashKey,
} from '../../lib/auth/apiKeys.js';
import { authenticator, keyFromCredentials } from '../../lib/auth/authenticate.js';
import { LruCache } from '../../lib/auth/lruCache.js';
import { expectRejection, expectValue } from '../support/outcome.js';

const basic = (userPass: string, scheme = 'Basic') => `${scheme} ${Buffer.from(userPass).toString('base64')}`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** An in-memory key table that counts lookups, standing in for the DynamoDB adapter. */
class MemoryKeyStore implements ApiKeyStore {
  readonly records = new Map<string, ApiKeyRecord>();
  lookups = 0;
  async findByHash(keyHash: string) {
    this.lookups += 1;
    const r = this.records.get(keyHash);
    return r && { ...r };
  }
  async put(record: ApiKeyRecord) {
    this.records.set(record.keyHash, { ...record });
  }
  async revoke(keyId: string, at: string) {
    for (const r of this.records.values()) {
      if (r.keyId === keyId) {
        r.revokedAt = at;
        return true;
      }
    }
    return false;
  }
  async list() {
    return [...this.records.values()];
  }
}

/** A clock the test moves by hand. */
const clock = (start = Date.UTC(2026, 10, 22, 14, 30)) => {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
};

describe('keyFromCredentials', () => {
  it('reads the key as the user name of HTTP Basic, with or without a password', () => {
    expect(keyFromCredentials({ authorization: basic('wk_abc:') })).toBe('wk_abc');
    expect(keyFromCredentials({ authorization: basic('wk_abc') })).toBe('wk_abc');
    expect(keyFromCredentials({ authorization: basic('wk_abc:ignored:too') })).toBe('wk_abc');
  });

  it('accepts the scheme in any case and extra whitespace', () => {
    expect(keyFromCredentials({ authorization: basic('wk_abc:', 'basic') })).toBe('wk_abc');
    expect(
      keyFromCredentials({ authorization: `  BASIC   ${Buffer.from('wk_abc:').toString('base64')} ` }),
    ).toBe('wk_abc');
  });

  it('reads a Bearer token', () => {
    expect(keyFromCredentials({ authorization: 'Bearer rk_123' })).toBe('rk_123');
    expect(keyFromCredentials({ authorization: 'bearer rk_123' })).toBe('rk_123');
  });

  it('falls back to the body writeKey only when there is no Authorization header', () => {
    expect(keyFromCredentials({ bodyWriteKey: 'wk_body' })).toBe('wk_body');
    expect(keyFromCredentials({ authorization: '   ', bodyWriteKey: 'wk_body' })).toBe('wk_body');
    expect(keyFromCredentials({ authorization: 'Bearer rk_1', bodyWriteKey: 'wk_body' })).toBe('rk_1');
    // A header that names no key does not let the body key through either.
    expect(keyFromCredentials({ authorization: 'Digest x', bodyWriteKey: 'wk_body' })).toBeUndefined();
  });

  it('finds no key in garbage or empty credentials', () => {
    for (const authorization of [
      'Digest abc',
      'Basic',
      'Bearer',
      'Bearer    ',
      basic(':secret'),
      'wk_abc',
      'ApiKey wk_abc',
    ]) {
      expect(keyFromCredentials({ authorization })).toBeUndefined();
    }
    expect(keyFromCredentials({})).toBeUndefined();
    expect(keyFromCredentials({ bodyWriteKey: '' })).toBeUndefined();
  });
});

describe('authenticator', () => {
  async function setup(cacheMs = 60_000) {
    const store = new MemoryKeyStore();
    const time = clock();
    const write = await createApiKey({ role: 'write', sourceId: 'web', name: 'Web' }, store, time.now);
    const read = await createApiKey({ role: 'read', sourceId: 'bi', name: 'BI' }, store, time.now);
    const admin = await createApiKey({ role: 'admin', sourceId: 'ops', name: 'Ops' }, store, time.now);
    const auth = authenticator(store, cacheMs, time.now);
    return { store, time, write, read, admin, auth };
  }

  it('resolves a known key to its record', async () => {
    const { auth, write } = await setup();
    const record = await expectValue(auth.authenticate({ authorization: basic(`${write.key}:`) }, 'write'));
    expect(record).toEqual(write.record);
  });

  it('refuses a missing or unknown key as unauthorized', async () => {
    const { auth } = await setup();
    for (const credentials of [{}, { authorization: 'Bearer wk_unknown' }]) {
      const error = await expectRejection(auth.authenticate(credentials, 'write'));
      expect(error.reason).toBe('unauthorized');
    }
  });

  it('refuses a revoked key as unauthorized', async () => {
    const { auth, store, write } = await setup(0);
    await store.revoke(write.record.keyId, '2026-11-22T15:00:00Z');
    const error = await expectRejection(auth.authenticate({ authorization: `Bearer ${write.key}` }, 'write'));
    expect(error.reason).toBe('unauthorized');
  });

  it('refuses a key whose role does not match the route as forbidden', async () => {
    const { auth, write, read } = await setup();
    const writeOnRead = await expectRejection(
      auth.authenticate({ authorization: `Bearer ${write.key}` }, 'read'),
    );
    expect(writeOnRead.reason).toBe('forbidden');
    const readOnWrite = await expectRejection(
      auth.authenticate({ authorization: `Bearer ${read.key}` }, 'write'),
    );
    expect(readOnWrite.reason).toBe('forbidden');
    const writeOnAdmin = await expectRejection(
      auth.authenticate({ authorization: `Bearer ${write.key}` }, 'admin'),
    );
    expect(writeOnAdmin.reason).toBe('forbidden');
  });

  it('lets an admin key call every route', async () => {
    const { auth, admin } = await setup();
    for (const role of ['write', 'read', 'admin'] as const) {
      expect(
        (await expectValue(auth.authenticate({ authorization: `Bearer ${admin.key}` }, role))).role,
      ).toBe('admin');
      expect(allows('admin', role)).toBe(true);
    }
  });

  it('serves repeated lookups from the cache within the TTL and asks the store again after it', async () => {
    const { auth, store, time, write } = await setup(60_000);
    const credentials = { authorization: basic(`${write.key}:`) };
    await expectValue(auth.authenticate(credentials, 'write'));
    time.advance(59_999);
    await expectValue(auth.authenticate(credentials, 'write'));
    expect(store.lookups).toBe(1);

    // A revocation is seen once the cached entry expires.
    await store.revoke(write.record.keyId, '2026-11-22T14:31:00Z');
    await expectValue(auth.authenticate(credentials, 'write'));
    time.advance(1);
    const error = await expectRejection(auth.authenticate(credentials, 'write'));
    expect(error.reason).toBe('unauthorized');
    expect(store.lookups).toBe(2);
  });

  it('caches per key', async () => {
    const { auth, store, write, admin } = await setup();
    await expectValue(auth.authenticate({ authorization: `Bearer ${write.key}` }, 'write'));
    await expectValue(auth.authenticate({ authorization: `Bearer ${admin.key}` }, 'write'));
    await expectValue(auth.authenticate({ authorization: `Bearer ${write.key}` }, 'write'));
    expect(store.lookups).toBe(2);
  });
});

describe('authenticator cache', () => {
  /** `n` write keys in one store, with an authenticator over it. */
  async function keys(n: number) {
    const store = new MemoryKeyStore();
    const time = clock();
    const created = [];
    for (let i = 0; i < n; i++) {
      created.push(await createApiKey({ role: 'write', sourceId: `s${i}`, name: `k${i}` }, store, time.now));
    }
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
    return {
      store,
      time,
      keys: created.map((c) => c.key),
      auth: authenticator(store, 60_000, time.now),
      bearer,
    };
  }

  it('forgets the least recently used key when full, not every key', async () => {
    const { store, auth, keys: k, bearer } = await keys(1_002);
    for (const key of k.slice(0, 1_000)) await expectValue(auth.authenticate(bearer(key), 'write'));
    await expectValue(auth.authenticate(bearer(k[0] ?? ''), 'write')); // now the most recently used
    await expectValue(auth.authenticate(bearer(k[1_000] ?? ''), 'write'));
    await expectValue(auth.authenticate(bearer(k[1_001] ?? ''), 'write'));
    expect(store.lookups).toBe(1_002);
    // k[1] and k[2] were the least recently used: gone. k[0] and k[3..] are still served from the cache.
    for (const i of [0, 3, 500, 999, 1_000, 1_001])
      await expectValue(auth.authenticate(bearer(k[i] ?? ''), 'write'));
    expect(store.lookups).toBe(1_002);
    await expectValue(auth.authenticate(bearer(k[1] ?? ''), 'write'));
    expect(store.lookups).toBe(1_003);
  });

  it('never lets unknown keys evict known ones, and bounds what it remembers of them', async () => {
    const { store, auth, keys: k, bearer } = await keys(2);
    for (const key of k) await expectValue(auth.authenticate(bearer(key), 'write'));
    for (let i = 0; i < 5_000; i++) {
      const error = await expectRejection(auth.authenticate(bearer(`wk_guess_${i}`), 'write'));
      expect(error.reason).toBe('unauthorized');
    }
    const before = store.lookups;
    for (const key of k) await expectValue(auth.authenticate(bearer(key), 'write'));
    expect(store.lookups).toBe(before);
    // A recent unknown key is remembered (no second lookup within the TTL); the oldest was forgotten.
    await expectRejection(auth.authenticate(bearer('wk_guess_4999'), 'write'));
    expect(store.lookups).toBe(before);
    await expectRejection(auth.authenticate(bearer('wk_guess_0'), 'write'));
    expect(store.lookups).toBe(before + 1);
  });

  it('sees a key created after it was tried once the negative entry expires', async () => {
    const { store, time, auth, bearer } = await keys(0);
    const secret = 'made-later';
    await expectRejection(auth.authenticate(bearer(`wk_${secret}`), 'write'));
    await createApiKey({ role: 'write', sourceId: 'late', name: 'late' }, store, time.now, secret);
    time.advance(60_001);
    expect((await expectValue(auth.authenticate(bearer(`wk_${secret}`), 'write'))).sourceId).toBe('late');
  });
});

describe('LruCache', () => {
  it('keeps at most its capacity, dropping the least recently read or written entry', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.size]).toEqual([1, undefined, 3, 2]);
    cache.set('a', 10);
    cache.set('d', 4);
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).toEqual([10, undefined, 4]);
    expect(() => new LruCache(0)).toThrow(RangeError);
  });
});

describe('createApiKey', () => {
  it('stores only the hash of the key, derives keyId from it, and returns the clear key once', async () => {
    const store = new MemoryKeyStore();
    const at = Date.UTC(2026, 10, 22, 14, 30);
    const { key, record } = await createApiKey(
      { role: 'write', sourceId: 'pos', name: 'Shop POS' },
      store,
      () => at,
      'fixed-secret',
    );
    expect(key).toBe('wk_fixed-secret');
    expect(record.keyHash).toBe(sha256(key));
    expect(hashKey(key)).toBe(sha256(key));
    expect(record.keyId).toBe(`key_${sha256(key).slice(0, 12)}`);
    expect(record).toMatchObject({
      role: 'write',
      sourceId: 'pos',
      name: 'Shop POS',
      createdAt: new Date(at).toISOString(),
    });
    const stored = await store.list();
    expect(stored).toEqual([record]);
    expect(JSON.stringify(stored)).not.toContain('fixed-secret');
  });

  it('prefixes keys by role and makes each one unique', async () => {
    const store = new MemoryKeyStore();
    const keys = await Promise.all(
      (['write', 'read', 'admin'] as const).map((role) =>
        createApiKey({ role, sourceId: 's', name: role }, store),
      ),
    );
    expect(keys.map((k) => k.key.slice(0, 3))).toEqual(['wk_', 'rk_', 'ak_']);
    expect(new Set(keys.map((k) => k.record.keyId)).size).toBe(3);
    for (const { key } of keys) expect(key.length).toBeGreaterThan(40);
  });
});
