// An unmodified Segment SDK (@segment/analytics-node) pointed at the local stack: every valid event is
// archived exactly once, duplicates and retries included; an invalid one is quarantined, not lost.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { segmentClient, sendWithSdk } from '../../cli/segment.js';
import type { SpecEventInput } from '../../lib/ingest/spec.js';
import { acceptedMessageIds, retailOrders } from '../../local/replay.js';
import { archivedWithPrefix, waitForArchived } from '../support/archiveWait.js';
import { datasetsPresent } from '../support/datasets.js';
import { ARCHIVE_IDLE_TIMEOUT_MS, waitForArchiveIdle } from '../support/pipelineIdle.js';
import { testConfig } from '../support/provided.js';

const target = () => ({ httpUrl: inject('httpUrl'), writeKey: inject('writeKey') });

function eventsOfEveryType(run: string): SpecEventInput[] {
  const user = `user-${run}`;
  const anon = `anon-${run}`;
  const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, i)).toISOString();
  return [
    {
      type: 'identify',
      messageId: `${run}-0`,
      anonymousId: anon,
      userId: user,
      traits: { plan: 'gold' },
      timestamp: at(0),
    },
    {
      type: 'page',
      messageId: `${run}-1`,
      anonymousId: anon,
      name: 'Home',
      properties: { path: '/' },
      timestamp: at(1),
    },
    { type: 'screen', messageId: `${run}-2`, userId: user, name: 'Cart', timestamp: at(2) },
    {
      type: 'track',
      messageId: `${run}-3`,
      userId: user,
      event: 'Viewed Product',
      properties: { productId: 'p1', price: '12.50' },
      timestamp: at(3),
    },
    {
      type: 'track',
      messageId: `${run}-4`,
      userId: user,
      event: 'Order Completed',
      properties: { order_id: 'o1', revenue: 25, currency: 'eur' },
      timestamp: at(4),
    },
    {
      type: 'group',
      messageId: `${run}-5`,
      userId: user,
      groupId: 'acme',
      traits: { size: 10 },
      timestamp: at(5),
    },
    { type: 'alias', messageId: `${run}-6`, userId: user, previousId: anon, timestamp: at(6) },
    ...Array.from({ length: 40 }, (_, i) => ({
      type: 'track' as const,
      messageId: `${run}-${7 + i}`,
      userId: user,
      event: 'Product Viewed',
      properties: { product_id: `p${i}` },
      timestamp: at(7 + i),
    })),
  ];
}

async function deliver(events: SpecEventInput[], flushAt = 20): Promise<unknown[]> {
  const analytics = segmentClient(target(), flushAt);
  const errors: unknown[] = [];
  await Promise.all(
    events.map(
      (e) =>
        new Promise<void>((resolve) =>
          sendWithSdk(analytics, e, (error) => {
            if (error) errors.push(error);
            resolve();
          }),
        ),
    ),
  );
  await analytics.closeAndFlush({ timeout: 30_000 });
  return errors;
}

describe('Segment SDK against the local stack', () => {
  it(
    'archives every event of every type exactly once, even when the SDK sends duplicates',
    async () => {
      const run = `sdk-${randomUUID()}`;
      const events = eventsOfEveryType(run);
      // The same messageIds again (an app retrying after a timeout) must change nothing.
      const errors = await deliver([...events, ...events.slice(0, 10)]);
      expect(errors).toEqual([]);

      const rows = await waitForArchived(testConfig(), run, events.length);
      // Once the consumer is idle, a duplicate that slipped through would be in the archive.
      await waitForArchiveIdle(testConfig());
      const final = await archivedWithPrefix(testConfig(), run);
      const ids = final.map((r) => r.message_id).sort();
      expect(ids).toEqual(events.map((e) => e.messageId).sort());
      expect(rows.length).toBe(events.length);

      const byId = new Map(final.map((r) => [r.message_id, r]));
      const viewed = byId.get(`${run}-3`);
      expect(viewed?.event).toBe('Product Viewed');
      expect(viewed?.original_event).toBe('Viewed Product');
      expect(JSON.parse(viewed?.properties ?? '{}')).toEqual({ product_id: 'p1', price: 12.5 });
      expect(JSON.parse(byId.get(`${run}-4`)?.properties ?? '{}').currency).toBe('EUR');
      expect(new Set(final.map((r) => r.type))).toEqual(
        new Set(['identify', 'page', 'screen', 'track', 'group', 'alias']),
      );
      // The SDK sends sentAt; the archive keeps the client's own timestamp beside the corrected one.
      expect(viewed?.original_timestamp).toBe(events[3]?.timestamp);
      expect(viewed?.sent_at).not.toBeNull();
    },
    120_000 + ARCHIVE_IDLE_TIMEOUT_MS,
  );

  it(
    'quarantines an invalid event of a batch and still archives its neighbours',
    async () => {
      const run = `sdk-bad-${randomUUID()}`;
      const good: SpecEventInput[] = [1, 2, 3].map((i) => ({
        type: 'track',
        messageId: `${run}-${i}`,
        userId: 'u',
        event: 'Cart Viewed',
      }));
      const bad: SpecEventInput = {
        type: 'track',
        messageId: `${run}-bad`,
        userId: 'u',
        event: 'Order Completed',
        properties: { revenue: -10 },
      };
      // One batch: the SDK gets a 200 for it, because its good events were accepted.
      expect(await deliver([good[0] as SpecEventInput, bad, ...good.slice(1)])).toEqual([]);
      await waitForArchived(testConfig(), run, 3);
      await waitForArchiveIdle(testConfig());

      const res = await fetch(`${inject('httpUrl')}/v1/quarantine?reason=negative_amount&limit=500`, {
        headers: { authorization: `Bearer ${inject('adminKey')}` },
      });
      expect(res.status).toBe(200);
      const page = (await res.json()) as {
        items: { messageId?: string; reasons: { path: string; code: string }[] }[];
      };
      const entry = page.items.find((i) => i.messageId === `${run}-bad`);
      expect(entry?.reasons).toEqual([
        expect.objectContaining({ path: 'properties.revenue', code: 'negative_amount' }),
      ]);
      expect((await archivedWithPrefix(testConfig(), run)).map((r) => r.message_id).sort()).toEqual(
        good.map((g) => g.messageId).sort(),
      );
    },
    120_000 + ARCHIVE_IDLE_TIMEOUT_MS,
  );

  it.skipIf(!datasetsPresent())(
    'replays real orders and every accepted order is archived once',
    async () => {
      const run = `sdk-orders-${randomUUID()}`;
      const events = await retailOrders(run, 600);
      const expected = acceptedMessageIds(events, testConfig().quality);
      // 15 events a request: the SDK's default batch size.
      expect(await deliver(events, 15)).toEqual([]);
      await waitForArchived(testConfig(), run, expected.length, 120_000);
      await waitForArchiveIdle(testConfig());
      const ids = (await archivedWithPrefix(testConfig(), run)).map((r) => r.message_id).sort();
      expect(ids).toEqual([...expected].sort());
    },
    300_000 + ARCHIVE_IDLE_TIMEOUT_MS,
  );
});
