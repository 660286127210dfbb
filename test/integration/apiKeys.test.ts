// API keys against the real table: create, authenticate with HTTP Basic (as Segment write keys), roles,
// revoke by keyId, list; and the lookup cache, which delays a revocation by at most its TTL.
import { afterAll, describe, expect, it } from 'vitest';
import { apiKeysTable } from '../../lib/adapters/dynamodb/apiKeysTable.js';
import { createApiKey, hashKey, keyIdOf } from '../../lib/auth/apiKeys.js';
import { authenticator } from '../../lib/auth/authenticate.js';
import { newId } from '../support/archiveFixtures.js';
import { archiveHarness } from '../support/archiveHarness.js';
import { expectRejection, expectValue } from '../support/outcome.js';

const h = archiveHarness();
afterAll(() => h.close());
const store = apiKeysTable(h.dynamo, h.config.tables.apiKeys);

const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

describe('API keys', () => {
  it('creates, authenticates, revokes by keyId and lists keys', async () => {
    const sourceId = newId('src');
    const auth = authenticator(store, 0);
    const { key, record } = await createApiKey({ role: 'write', sourceId, name: 'web' }, store);
    expect(key.startsWith('wk_')).toBe(true);
    // Only the hash is stored.
    expect(record.keyHash).toBe(hashKey(key));
    expect(record.keyId).toBe(keyIdOf(record.keyHash));
    expect(await store.findByHash(record.keyHash)).toEqual(record);
    expect(JSON.stringify(await store.list())).not.toContain(key);

    expect(await expectValue(auth.authenticate({ authorization: basic(key) }, 'write'))).toEqual(record);
    // Segment clients may send the key in the body instead.
    expect(await expectValue(auth.authenticate({ bodyWriteKey: key }, 'write'))).toEqual(record);
    expect(await expectRejection(auth.authenticate({ authorization: basic(key) }, 'admin'))).toMatchObject({
      reason: 'forbidden',
    });
    expect(
      await expectRejection(auth.authenticate({ authorization: basic(`${key}x`) }, 'write')),
    ).toMatchObject({
      reason: 'unauthorized',
    });
    expect(await expectRejection(auth.authenticate({}, 'write'))).toMatchObject({ reason: 'unauthorized' });

    const admin = await createApiKey({ role: 'admin', sourceId, name: 'ops' }, store);
    expect(
      (await expectValue(auth.authenticate({ authorization: `Bearer ${admin.key}` }, 'write'))).role,
    ).toBe('admin');

    expect(await store.revoke(record.keyId, '2026-01-02T03:04:05.000Z')).toBe(true);
    expect(await expectRejection(auth.authenticate({ authorization: basic(key) }, 'write'))).toMatchObject({
      reason: 'unauthorized',
    });
    // Revoking again keeps the first revocation time.
    expect(await store.revoke(record.keyId, '2027-01-01T00:00:00.000Z')).toBe(true);
    expect(await store.revoke(`key_${newId('missing')}`, new Date().toISOString())).toBe(false);

    const mine = (await store.list()).filter((r) => r.sourceId === sourceId);
    expect(mine.map((r) => [r.keyId, r.role, r.revokedAt]).sort()).toEqual(
      [
        [record.keyId, 'write', '2026-01-02T03:04:05.000Z'],
        [admin.record.keyId, 'admin', undefined],
      ].sort(),
    );
  });

  it('takes a revocation into account once the lookup cache expires', async () => {
    let now = Date.now();
    const auth = authenticator(store, 60_000, () => now);
    const { key, record } = await createApiKey({ role: 'write', sourceId: newId('src'), name: 'pos' }, store);
    await expectValue(auth.authenticate({ authorization: basic(key) }, 'write'));

    await store.revoke(record.keyId, new Date(now).toISOString());
    expect((await expectValue(auth.authenticate({ authorization: basic(key) }, 'write'))).keyId).toBe(
      record.keyId,
    );
    now += 60_001;
    expect(await expectRejection(auth.authenticate({ authorization: basic(key) }, 'write'))).toMatchObject({
      reason: 'unauthorized',
    });
  });
});
