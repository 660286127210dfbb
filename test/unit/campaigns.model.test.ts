// The campaign schema (ids, defaults, refusals) and the store's version rules over the in-memory adapter:
// create once, expectedVersion, following the latest, enable/disable/archive as versions.
import { describe, expect, it } from 'vitest';
import { memoryCampaignStore } from '../../lib/adapters/memory/campaignStore.js';
import { Campaign, CampaignDefinition, CampaignId } from '../../lib/campaigns/model.js';
import { expectRejection, expectValue } from '../support/outcome.js';

const T0 = Date.parse('2026-11-02T10:00:00.000Z');

const raw = (id = 'spring-sale') => ({
  id,
  name: 'Spring sale',
  trigger: { type: 'event', event: 'Product Added' },
  channels: ['email'],
  variants: [{ id: 'a', content: { email: { subject: 'Hi', html: '<p>Hi</p>', text: 'Hi' } } }],
});

describe('CampaignDefinition', () => {
  it('fills the defaults a minimal campaign leaves out', () => {
    expect(CampaignDefinition.parse(raw())).toMatchObject({
      enabled: false,
      purpose: 'marketing',
      audience: [],
      maxEventAgeMinutes: 1440,
      reentry: { mode: 'cooldown', days: 7 },
      whenCapped: 'skip',
      sendTime: { mode: 'immediate' },
      holdoutPercent: 10,
      goal: { event: 'Order Completed', windowDays: 7 },
      variants: [{ id: 'a', weight: 1 }],
    });
  });

  it('takes slugs as ids only', () => {
    for (const id of ['abandoned-cart', 'b2', 'win-back-2026'])
      expect(CampaignId.safeParse(id).success).toBe(true);
    for (const id of ['Abandoned', '-cart', 'a', 'x'.repeat(64), 'cart_1', '#latest', 'cart/1']) {
      expect(CampaignId.safeParse(id).success, id).toBe(false);
    }
  });

  it('refuses unknown channels, segments and malformed times', () => {
    const result = CampaignDefinition.safeParse({
      ...raw(),
      channels: ['fax'],
      trigger: { type: 'segment', on: 'enter', segment: 'vip' },
      quietHours: { start: '24:00', end: '8:00' },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['channels.0', 'trigger.segment', 'quietHours.start', 'quietHours.end']),
    );
  });

  it('a stored campaign is the definition with a version, a time and the archived flag', () => {
    const stored = Campaign.parse({ ...raw(), version: 3, updatedAt: '2026-11-02T10:00:00.000Z' });
    expect(stored).toMatchObject({ version: 3, archived: false });
    expect(Campaign.safeParse({ ...raw(), version: 0, updatedAt: 'yesterday' }).success).toBe(false);
  });
});

describe('campaign store rules (in memory)', () => {
  const def = (name = 'Spring sale') => CampaignDefinition.parse({ ...raw(), name });

  it('creates once, then saves versions, checked or following the latest', async () => {
    const store = memoryCampaignStore();
    expect((await expectValue(store.save(def(), { create: true, now: T0 }))).version).toBe(1);
    expect(await expectRejection(store.save(def(), { create: true, now: T0 }))).toMatchObject({
      reason: 'conflict',
    });
    expect((await expectValue(store.save(def('b'), { now: T0 }))).version).toBe(2);
    expect(await expectRejection(store.save(def('c'), { expectedVersion: 1, now: T0 }))).toMatchObject({
      reason: 'conflict',
    });
    // Expecting a version that does not exist yet is a conflict too, not a gap in the numbering.
    expect(await expectRejection(store.save(def('d'), { expectedVersion: 7, now: T0 }))).toMatchObject({
      reason: 'conflict',
    });
    expect(await store.get('spring-sale')).toMatchObject({ version: 2, name: 'b' });
  });

  it('of two saves expecting the same version one wins; unchecked ones all land', async () => {
    const store = memoryCampaignStore();
    await expectValue(store.save(def(), { create: true, now: T0 }));
    const checked = await Promise.all(
      ['x', 'y'].map((n) => store.save(def(n), { expectedVersion: 1, now: T0 })),
    );
    expect(checked.filter((r) => r.ok)).toHaveLength(1);
    const unchecked = await Promise.all(['p', 'q', 'r'].map((n) => store.save(def(n), { now: T0 })));
    expect(unchecked.map((r) => (r.ok ? r.value.version : 0)).sort()).toEqual([3, 4, 5]);
  });

  it('enable, disable and archive are versions; an archived campaign cannot be enabled, a save revives it', async () => {
    const store = memoryCampaignStore();
    await expectValue(store.save(def(), { create: true, now: T0 }));
    expect(await expectValue(store.setEnabled('spring-sale', true, T0 + 1))).toMatchObject({
      version: 2,
      enabled: true,
    });
    expect(await expectValue(store.setEnabled('spring-sale', true, T0 + 2))).toMatchObject({ version: 2 });
    expect(await expectValue(store.archive('spring-sale', T0 + 3))).toMatchObject({
      version: 3,
      enabled: false,
      archived: true,
      updatedAt: new Date(T0 + 3).toISOString(),
    });
    expect(await expectRejection(store.setEnabled('spring-sale', true, T0 + 4))).toMatchObject({
      reason: 'not_found',
    });
    expect((await store.list({ limit: 10, archived: false })).items).toEqual([]);
    expect((await store.list({ limit: 10, archived: true })).items).toHaveLength(1);
    expect(await expectValue(store.save(def(), { now: T0 + 5 }))).toMatchObject({
      version: 4,
      archived: false,
    });
  });
});
