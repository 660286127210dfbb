// The campaign engine's pure parts: activities packed into queue messages (bounds, order, all kept), the
// per-container cache of enabled campaigns, and the send id (stable per occurrence, distinct otherwise).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryCampaignStore } from '../../lib/adapters/memory/campaignStore.js';
import type { Activity } from '../../lib/campaigns/activity.js';
import { sendIdOf } from '../../lib/campaigns/dispatch.js';
import {
  CAMPAIGN_CACHE_MS,
  type CampaignSource,
  enabledCampaigns,
  MISS_REFRESH_MS,
} from '../../lib/campaigns/engine.js';
import { type Campaign, CampaignDefinition } from '../../lib/campaigns/model.js';
import { ActivityMessage, packActivities } from '../../lib/campaigns/publish.js';
import { projectRoot } from '../../lib/projectRoot.js';
import { SegmentChangesMessage } from '../../lib/segmentation/model.js';

const activity = (i: number, padding = 0): Activity => ({
  v: 1,
  customerId: `cus_${i}`,
  messageId: `m-${i}-${'x'.repeat(padding)}`,
  type: 'track',
  event: 'Product Added',
  timestamp: '2026-12-06T10:00:00.000Z',
  receivedAt: '2026-12-06T10:00:01.000Z',
  properties: { cart_id: `c-${i}` },
});

describe('packActivities', () => {
  it('keeps every activity, in order, in messages within the count and byte bounds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 900 }), { maxLength: 120 }),
        fc.integer({ min: 1, max: 20 }),
        (paddings, count) => {
          const activities = paddings.map((p, i) => activity(i, p));
          const bodies = packActivities(activities, { bytes: 4096, count });
          const unpacked = bodies.flatMap((b) => ActivityMessage.parse(JSON.parse(b)).activities);
          expect(unpacked.map((a) => a.messageId)).toEqual(activities.map((a) => a.messageId));
          for (const body of bodies) {
            const n = ActivityMessage.parse(JSON.parse(body)).activities.length;
            expect(n).toBeLessThanOrEqual(count);
            // One activity alone may exceed the byte bound (it is never split); two together never do.
            if (n > 1) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(4096 + 64);
          }
        },
      ),
    );
  });

  it('makes no message of no activity', () => {
    expect(packActivities([])).toEqual([]);
  });
});

describe('enabledCampaigns', () => {
  /** A source whose revision never moves: the minute's listing alone. */
  const listed = (list: CampaignSource['list']): CampaignSource => ({ list, revision: async () => 0 });
  const campaign = (id: string, enabled: boolean, archived = false) =>
    ({ id, enabled, archived }) as unknown as Campaign;

  it('lists every page once per minute and keeps only the enabled, unarchived campaigns', async () => {
    let reads = 0;
    const pages: Record<string, { items: Campaign[]; nextCursor?: string }> = {
      first: { items: [campaign('a', true), campaign('b', false)], nextCursor: 'second' },
      second: { items: [campaign('c', true), campaign('d', true, true)] },
    };
    const cache = enabledCampaigns(
      listed(async (page) => {
        reads++;
        return pages[page.cursor ?? 'first'] ?? { items: [] };
      }),
    );
    expect((await cache.all(0)).map((c) => c.id)).toEqual(['a', 'c']);
    expect(reads).toBe(2);
    expect(await cache.get('c', CAMPAIGN_CACHE_MS - 1)).toMatchObject({ id: 'c' });
    expect(await cache.get('b', MISS_REFRESH_MS - 1)).toBeUndefined();
    expect(reads).toBe(2);
    await cache.all(CAMPAIGN_CACHE_MS);
    expect(reads).toBe(4);
  });

  it('reads again for an id it misses, once the list is MISS_REFRESH_MS old: a campaign saved since is found', async () => {
    let reads = 0;
    const items = [campaign('a', true)];
    const cache = enabledCampaigns(
      listed(async () => {
        reads++;
        return { items: [...items] };
      }),
    );
    await cache.all(0);
    // Saved after the list was read; a wait another container opened for it fires here.
    items.push(campaign('new', true));
    expect(await cache.get('new', MISS_REFRESH_MS - 1)).toBeUndefined();
    expect(reads).toBe(1);
    expect(await cache.get('new', MISS_REFRESH_MS)).toMatchObject({ id: 'new' });
    expect(reads).toBe(2);
    // A disabled or deleted campaign's fired waits: one more read per MISS_REFRESH_MS at most.
    for (let t = MISS_REFRESH_MS; t < 2 * MISS_REFRESH_MS; t += 500)
      expect(await cache.get('gone', t)).toBeUndefined();
    expect(reads).toBe(2);
    expect(await cache.get('gone', 2 * MISS_REFRESH_MS)).toBeUndefined();
    expect(reads).toBe(3);
  });

  it('does not keep a failed read', async () => {
    let fail = true;
    const cache = enabledCampaigns(
      listed(async () => {
        if (fail) throw new Error('throttled');
        return { items: [campaign('a', true)] };
      }),
    );
    await expect(cache.all(0)).rejects.toThrow('throttled');
    fail = false;
    expect((await cache.all(1)).map((c) => c.id)).toEqual(['a']);
  });

  it('lists again on sync once a save moved the revision, and only then: a campaign enabled acts at once', async () => {
    const store = memoryCampaignStore();
    const def = CampaignDefinition.parse({
      ...JSON.parse(readFileSync(join(projectRoot(), 'campaigns', 'abandoned-cart.json'), 'utf8')),
      enabled: false,
    });
    await store.save(def, { now: 0 });
    let reads = 0;
    const cache = enabledCampaigns({
      list: (page) => {
        reads++;
        return store.list(page);
      },
      revision: () => store.revision(),
    });
    await cache.sync();
    expect(await cache.all(0)).toEqual([]);
    await cache.sync();
    expect(await cache.all(1)).toEqual([]);
    expect(reads).toBe(1);
    // Enabled within the cache's minute: the next sync (the next message) sees it.
    await store.setEnabled(def.id, true, 2);
    expect(await cache.all(2)).toEqual([]);
    await cache.sync();
    expect((await cache.all(3)).map((c) => c.id)).toEqual([def.id]);
    await store.setEnabled(def.id, false, 4);
    await cache.sync();
    expect(await cache.all(5)).toEqual([]);
    expect(reads).toBe(3);
  });
});

describe('sendIdOf', () => {
  it('is the same for the same occurrence and differs when campaign, customer or trigger key does', () => {
    const base = { campaignId: 'abandoned-cart', customerId: 'cus_1', triggerKey: 'cart:c1:m1' };
    expect(sendIdOf(base)).toBe(sendIdOf({ ...base }));
    expect(sendIdOf(base)).toMatch(/^snd_[A-Za-z0-9_-]{32}$/);
    const others = [
      { ...base, campaignId: 'win-back' },
      { ...base, customerId: 'cus_2' },
      { ...base, triggerKey: 'cart:c1:m2' },
    ].map(sendIdOf);
    expect(new Set([sendIdOf(base), ...others]).size).toBe(4);
  });
});

describe('sample events (events/)', () => {
  const body = (name: string) => {
    const event = JSON.parse(readFileSync(join(projectRoot(), 'events', 'sqs', name), 'utf8'));
    return JSON.parse(event.Records[0].body);
  };
  it('are messages the campaign consumers accept', () => {
    expect(ActivityMessage.parse(body('campaign-activity.json')).activities).toHaveLength(2);
    expect(SegmentChangesMessage.parse(body('segment-changes.json')).changes).toHaveLength(1);
  });
});
