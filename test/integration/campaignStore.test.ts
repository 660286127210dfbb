// The campaign store against the real table (dynalite): versions, the latest, a past version, listing page
// by page, enable/disable/archive as new versions, and the conditional save: of two concurrent saves
// expecting the same version exactly one wins, the other is a conflict; and the catalog's revision, which
// the engine's per-container cache follows.
import { afterAll, describe, expect, it } from 'vitest';
import { campaignsTable } from '../../lib/adapters/dynamodb/campaignsTable.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import { enabledCampaigns } from '../../lib/campaigns/engine.js';
import { type CampaignDefinition, CampaignDefinition as Definition } from '../../lib/campaigns/model.js';
import { campaignStore } from '../../lib/campaigns/store.js';
import { newId } from '../support/archiveFixtures.js';
import { expectRejection, expectValue } from '../support/outcome.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const dynamo = createDynamoDb(config);
afterAll(() => dynamo.destroy());
const store = campaignStore(campaignsTable(dynamo, config.tables.campaigns));

const T0 = Date.parse('2026-11-02T10:00:00.000Z');

/** A fresh campaign id per test: tests share the table and never wipe it. */
const freshId = () =>
  newId('c')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 60);

function definition(id: string, name = 'Test campaign'): CampaignDefinition {
  return Definition.parse({
    id,
    name,
    trigger: { type: 'event', event: 'Product Added' },
    channels: ['email'],
    variants: [{ id: 'a', content: { email: { subject: 'Hi', html: '<p>Hi</p>', text: 'Hi' } } }],
  });
}

describe('campaign store (DynamoDB)', () => {
  it('creates version 1 once, saves later versions, reads the latest and any version', async () => {
    const id = freshId();
    const v1 = await expectValue(store.save(definition(id, 'First'), { create: true, now: T0 }));
    expect(v1).toMatchObject({
      id,
      name: 'First',
      version: 1,
      archived: false,
      updatedAt: '2026-11-02T10:00:00.000Z',
    });
    expect(
      await expectRejection(store.save(definition(id, 'Again'), { create: true, now: T0 })),
    ).toMatchObject({
      reason: 'conflict',
    });

    const v2 = await expectValue(store.save(definition(id, 'Second'), { now: T0 + 1000 }));
    expect(v2.version).toBe(2);
    const v3 = await expectValue(store.save(definition(id, 'Third'), { expectedVersion: 2, now: T0 + 2000 }));
    expect(v3.version).toBe(3);
    expect(
      await expectRejection(store.save(definition(id, 'Stale'), { expectedVersion: 2, now: T0 })),
    ).toMatchObject({
      reason: 'conflict',
      message: expect.stringContaining('version 3, not 2'),
    });

    expect(await store.get(id)).toEqual(v3);
    expect(await store.getVersion(id, 1)).toEqual(v1);
    expect(await store.getVersion(id, 2)).toEqual(v2);
    expect(await store.getVersion(id, 4)).toBeUndefined();
    expect(await store.get(freshId())).toBeUndefined();
  });

  it('of two concurrent saves expecting the same version, exactly one wins', async () => {
    const id = freshId();
    await expectValue(store.save(definition(id), { create: true, now: T0 }));
    for (let round = 1; round <= 5; round++) {
      const results = await Promise.all(
        ['left', 'right'].map((side) =>
          store.save(definition(id, `${side} ${round}`), { expectedVersion: round, now: T0 + round }),
        ),
      );
      const won = results.filter((r) => r.ok);
      expect(won).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.reason === 'conflict')).toHaveLength(1);
      const latest = await store.get(id);
      expect(latest?.version).toBe(round + 1);
      expect(won[0]?.ok && won[0].value.name).toBe(latest?.name);
    }
  });

  it('concurrent creates of one id: exactly one is created', async () => {
    const id = freshId();
    const results = await Promise.all(
      [1, 2, 3].map((n) => store.save(definition(id, `create ${n}`), { create: true, now: T0 })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'conflict')).toHaveLength(2);
  });

  it('concurrent saves without expectedVersion all land, one version each', async () => {
    const id = freshId();
    await expectValue(store.save(definition(id), { create: true, now: T0 }));
    const results = await Promise.all(
      [1, 2, 3].map((n) => store.save(definition(id, `save ${n}`), { now: T0 + n })),
    );
    const versions = results.map((r) => (r.ok ? r.value.version : undefined)).sort();
    expect(versions).toEqual([2, 3, 4]);
  });

  it('enables, disables and archives as new versions; archived campaigns leave the listing', async () => {
    const id = freshId();
    await expectValue(store.save(definition(id), { create: true, now: T0 }));
    const enabled = await expectValue(store.setEnabled(id, true, T0 + 1));
    expect(enabled).toMatchObject({ enabled: true, version: 2 });
    // Enabling an enabled campaign changes nothing, and writes nothing.
    expect(await expectValue(store.setEnabled(id, true, T0 + 2))).toEqual(enabled);
    expect(await expectValue(store.setEnabled(id, false, T0 + 3))).toMatchObject({
      enabled: false,
      version: 3,
    });
    await expectValue(store.setEnabled(id, true, T0 + 4));

    const archived = await expectValue(store.archive(id, T0 + 5));
    expect(archived).toMatchObject({ enabled: false, archived: true, version: 5 });
    expect(await store.getVersion(id, 2)).toMatchObject({ enabled: true, archived: false });
    expect(await expectRejection(store.setEnabled(id, true, T0 + 6))).toMatchObject({ reason: 'not_found' });
    expect(await expectRejection(store.setEnabled(freshId(), true, T0 + 6))).toMatchObject({
      reason: 'not_found',
    });

    const listed = await allListed(false);
    expect(listed.has(id)).toBe(false);
    expect((await allListed(true)).get(id)).toMatchObject({ version: 5, archived: true });

    // A save revives it.
    const revived = await expectValue(
      store.save(definition(id, 'Back'), { expectedVersion: 5, now: T0 + 7 }),
    );
    expect(revived).toMatchObject({ version: 6, archived: false, name: 'Back' });
    expect((await allListed(false)).get(id)).toEqual(revived);
  });

  it("moves the catalog's revision forward with every version written, so an engine's cached list follows a save at its next sync", async () => {
    const id = freshId();
    const engine = enabledCampaigns(store);
    const before = await store.revision();
    await engine.sync();
    expect((await engine.all(T0)).some((c) => c.id === id)).toBe(false);
    await expectValue(store.save({ ...definition(id), enabled: true }, { create: true, now: T0 }));
    const saved = await store.revision();
    expect(saved).toBeGreaterThan(before);
    // Within the cache's minute, but after the save answered: found at the next sync, not before.
    expect((await engine.all(T0 + 1)).some((c) => c.id === id)).toBe(false);
    await engine.sync();
    expect((await engine.all(T0 + 2)).some((c) => c.id === id)).toBe(true);
    await expectValue(store.setEnabled(id, false, T0 + 3));
    expect(await store.revision()).toBeGreaterThan(saved);
    await engine.sync();
    expect((await engine.all(T0 + 4)).some((c) => c.id === id)).toBe(false);
  });

  it('lists the latest version of each campaign by id, page by page', async () => {
    const prefix = freshId().slice(0, 40);
    const ids = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    for (const id of ids) await expectValue(store.save(definition(id), { create: true, now: T0 }));
    await expectValue(store.save(definition(ids[1] ?? '', 'B two'), { now: T0 + 1 }));

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ limit: 2, cursor, archived: false });
      for (const c of page.items) if (c.id.startsWith(prefix)) seen.push(`${c.id}@${c.version}`);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined && pages < 10_000);
    expect(seen).toEqual([`${prefix}-a@1`, `${prefix}-b@2`, `${prefix}-c@1`]);
    expect(store.isCursor(`${prefix}-a`)).toBe(true);
    expect(store.isCursor('#latest')).toBe(false);
  });
});

/** Every listed campaign (all pages), by id. */
async function allListed(archived: boolean) {
  const all = new Map<string, Awaited<ReturnType<typeof store.get>>>();
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.list({ limit: 100, cursor, archived });
    for (const c of page.items) all.set(c.id, c);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== undefined && pages < 10_000);
  return all;
}
