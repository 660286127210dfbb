// Waits in memory (the back-test's store) driven by the trigger engine: one wait per cart, an order
// cancels it, a sweep fires what is due once even when two run at once, deferred sends, the late re-check.
import { describe, expect, it } from 'vitest';
import { memoryWaitStore } from '../../lib/adapters/memory/waitStore.js';
import type { Activity } from '../../lib/campaigns/activity.js';
import { onActivity } from '../../lib/campaigns/triggers.js';
import {
  applyCommands,
  cancelledByTimeline,
  deferredSend,
  sweepDueWaits,
  type WaitStore,
} from '../../lib/campaigns/waits.js';
import { abandonedCart } from '../support/campaignFixtures.js';

const MIN = 60_000;
const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

const cart = abandonedCart;

let seq = 0;
function event(
  customerId: string,
  name: string,
  at: number,
  properties: Activity['properties'] = {},
): Activity {
  seq++;
  return {
    v: 1,
    customerId,
    messageId: `m${seq}`,
    type: 'track',
    event: name,
    timestamp: iso(at),
    receivedAt: iso(at),
    properties,
  };
}

/** The consumer's path: the engine's commands applied to the store at the activity's arrival. */
const feed = (waits: WaitStore, a: Activity, now = Date.parse(a.receivedAt)) =>
  applyCommands(onActivity([cart], a, now), waits, now);

describe('waits driven by triggers', () => {
  it('an add opens one wait; a second add to the same cart opens none; the sweep fires it once', async () => {
    const waits = memoryWaitStore();
    expect(await feed(waits, event('c1', 'Product Added', T0, { cart_id: 'k' }))).toMatchObject({
      opened: 1,
    });
    expect(await feed(waits, event('c1', 'Product Added', T0 + 10 * MIN, { cart_id: 'k' }))).toMatchObject({
      opened: 0,
      alreadyOpen: 1,
    });
    expect((await sweepDueWaits(T0 + 59 * MIN, { waits })).fired).toEqual([]);
    const swept = await sweepDueWaits(T0 + 60 * MIN, { waits });
    expect(swept.fired).toEqual([
      {
        kind: 'wait',
        candidate: expect.objectContaining({
          campaignId: 'abandoned-cart',
          customerId: 'c1',
          triggeredAt: iso(T0),
        }),
        dueAt: iso(T0 + 60 * MIN),
      },
    ]);
    expect((await sweepDueWaits(T0 + 61 * MIN, { waits })).fired).toEqual([]);
    // After it fired, a new add opens a new wait with a new trigger key.
    expect(
      await feed(waits, event('c1', 'Product Added', T0 + 2 * 60 * MIN, { cart_id: 'k' })),
    ).toMatchObject({ opened: 1 });
  });

  it('an order inside the wait cancels it: the sweep after the due time yields nothing', async () => {
    const waits = memoryWaitStore();
    await feed(waits, event('c2', 'Product Added', T0, { cart_id: 'k' }));
    await feed(waits, event('c2', 'Product Added', T0, { cart_id: 'other' }));
    expect(await feed(waits, event('c2', 'Order Completed', T0 + 30 * MIN))).toMatchObject({ cancelled: 2 });
    expect(await sweepDueWaits(T0 + 61 * MIN, { waits })).toMatchObject({ fired: [], due: 0 });
    expect(waits.all().map((w) => w.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('an old order replayed late cancels no wait opened after it', async () => {
    const waits = memoryWaitStore();
    await feed(waits, event('c3', 'Product Added', T0));
    const replayed = event('c3', 'Order Completed', T0 - 5 * 24 * 60 * MIN);
    expect(await feed(waits, replayed, T0 + MIN)).toMatchObject({ cancelled: 0 });
    expect((await sweepDueWaits(T0 + 60 * MIN, { waits })).fired).toHaveLength(1);
  });

  it('two sweeps over the same due rows fire each wait once', async () => {
    const waits = memoryWaitStore();
    for (let i = 0; i < 20; i++) await feed(waits, event(`c-${i}`, 'Product Added', T0));
    const [a, b] = await Promise.all([
      sweepDueWaits(T0 + 60 * MIN, { waits, concurrency: 3 }),
      sweepDueWaits(T0 + 60 * MIN, { waits, concurrency: 5 }),
    ]);
    const fired = [...(a?.fired ?? []), ...(b?.fired ?? [])].map((f) => f.candidate.customerId).sort();
    expect(fired).toEqual(Array.from({ length: 20 }, (_, i) => `c-${i}`).sort());
    expect((a?.lost ?? 0) + (b?.lost ?? 0)).toBe((a?.due ?? 0) + (b?.due ?? 0) - 20);
  });

  it('a sweep reads at most its limit and says there is more', async () => {
    const waits = memoryWaitStore();
    for (let i = 0; i < 5; i++) await feed(waits, event(`l-${i}`, 'Product Added', T0 + i * MIN));
    const first = await sweepDueWaits(T0 + 2 * 60 * MIN, { waits, limit: 3 });
    expect([first.fired.length, first.more]).toEqual([3, true]);
    // Earliest due first.
    expect(first.fired.map((f) => f.candidate.customerId)).toEqual(['l-0', 'l-1', 'l-2']);
    const second = await sweepDueWaits(T0 + 2 * 60 * MIN, { waits, limit: 3 });
    expect([second.fired.length, second.more]).toEqual([2, false]);
  });

  it('a deferred send fires at its time and nothing cancels it', async () => {
    const waits = memoryWaitStore();
    const candidate = {
      campaignId: 'birthday',
      customerId: 'c4',
      triggerKey: 'birthday:2026',
      triggeredAt: iso(T0),
      context: { date: '2026-12-06' },
    };
    expect(await waits.open(deferredSend(candidate, T0 + 8 * 60 * MIN), T0)).toBe('opened');
    expect(await waits.open(deferredSend(candidate, T0 + 9 * 60 * MIN), T0)).toBe('already_open');
    expect(
      await waits.cancel(
        { customerId: 'c4', event: 'Order Completed', campaignIds: ['birthday'], before: iso(T0 + MIN) },
        T0,
      ),
    ).toBe(0);
    expect((await sweepDueWaits(T0 + 8 * 60 * MIN, { waits })).fired).toEqual([
      { kind: 'deferred', candidate, dueAt: iso(T0 + 8 * 60 * MIN) },
    ]);
  });

  it('the late re-check drops a wait whose cancelling event arrived before it (out of order)', async () => {
    const waits = memoryWaitStore();
    const order = event('c5', 'Order Completed', T0 + 5 * MIN);
    await feed(waits, order, T0 + 6 * MIN); // processed first: nothing to cancel yet
    await feed(waits, event('c5', 'Product Added', T0), T0 + 7 * MIN);
    const timeline = [{ event: 'Order Completed', timestamp: order.timestamp }];
    const swept = await sweepDueWaits(T0 + 60 * MIN, {
      waits,
      cancelledLate: async (w) => cancelledByTimeline(w, timeline),
    });
    expect(swept).toMatchObject({ fired: [], cancelledLate: 1 });
    expect(
      cancelledByTimeline({ cancelOn: ['Order Completed'], triggeredAt: iso(T0 + 6 * MIN) }, timeline),
    ).toBe(false);
  });
});
