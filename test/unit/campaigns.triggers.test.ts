// The trigger engine: event triggers with and without waits, cancels, the staleness guard, the cart key,
// browse abandonment, `where` filters, segment entry and exit, inactivity lapses.
import { describe, expect, it } from 'vitest';
import { type Activity, activityOf } from '../../lib/campaigns/activity.js';
import { CampaignDefinition } from '../../lib/campaigns/model.js';
import {
  type Command,
  inactivityCandidates,
  keyPart,
  onActivity,
  onSegmentChange,
  triggerIssues,
} from '../../lib/campaigns/triggers.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';

const NOW = Date.parse('2026-12-06T10:00:00.000Z');
const MIN = 60_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

function campaign(fields: Record<string, unknown>): CampaignDefinition {
  return CampaignDefinition.parse({
    name: 'test',
    enabled: true,
    channels: ['email'],
    variants: [{ id: 'a', content: { email: { subject: 's', html: 'h', text: 't' } } }],
    ...fields,
  });
}

const abandonedCart = campaign({
  id: 'abandoned-cart',
  trigger: {
    type: 'event',
    event: 'Product Added',
    wait: { minutes: 60, cancelOn: ['Order Completed'], key: 'cart' },
  },
  maxEventAgeMinutes: 120,
});
const browse = campaign({
  id: 'browse-abandonment',
  trigger: {
    type: 'event',
    event: 'Product Viewed',
    wait: { minutes: 30, cancelOn: ['Product Added', 'Order Completed'] },
  },
});
const welcome = campaign({ id: 'shoe-welcome', trigger: { type: 'event', event: 'Signed Up' } });
const shoes = campaign({
  id: 'shoe-buyers',
  trigger: { type: 'event', event: 'Order Completed', where: { category: 'shoes' } },
});

function activity(
  event: string,
  fields: Partial<Activity> = {},
  properties: Activity['properties'] = {},
): Activity {
  return {
    v: 1,
    customerId: 'cus_1',
    messageId: `m-${event}`,
    type: 'track',
    event,
    timestamp: iso(NOW - MIN),
    receivedAt: iso(NOW),
    properties,
    ...fields,
  };
}

const of = <K extends Command['command']>(commands: Command[], kind: K) =>
  commands.filter((c): c is Extract<Command, { command: K }> => c.command === kind);

describe('activityOf', () => {
  it('keeps the standardized properties the engine reads, in UTC', () => {
    const e: NormalizedEvent = {
      messageId: 'm1',
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      properties: {
        order_id: 'o1',
        total: 42.5,
        currency: 'EUR',
        category: 'shoes',
        email: 'x@y.z',
        cart_id: '',
      },
      timestamp: '2026-12-06T11:00:00+01:00',
      receivedAt: '2026-12-06T10:00:01Z',
      sourceId: 'web',
    };
    expect(activityOf('cus_1', e)).toEqual({
      v: 1,
      customerId: 'cus_1',
      messageId: 'm1',
      type: 'track',
      event: 'Order Completed',
      timestamp: '2026-12-06T10:00:00.000Z',
      receivedAt: '2026-12-06T10:00:01.000Z',
      properties: { order_id: 'o1', revenue: 42.5, currency: 'EUR', category: 'shoes' },
    });
  });

  it('gives a page view no event name', () => {
    const e: NormalizedEvent = {
      messageId: 'm2',
      type: 'page',
      name: 'Home',
      anonymousId: 'a',
      timestamp: '2026-12-06T10:00:00Z',
      receivedAt: '2026-12-06T10:00:00Z',
      sourceId: 'web',
    };
    expect(activityOf('cus_1', e).event).toBeUndefined();
    expect(onActivity([welcome, abandonedCart], activityOf('cus_1', e), NOW)).toEqual([]);
  });
});

describe('onActivity', () => {
  it('opens an abandoned-cart wait keyed by the cart, due an hour after the add', () => {
    const commands = onActivity([abandonedCart], activity('Product Added', {}, { cart_id: 'c-9' }), NOW);
    expect(commands).toEqual([
      {
        command: 'open_wait',
        wait: {
          kind: 'wait',
          campaignId: 'abandoned-cart',
          customerId: 'cus_1',
          waitKey: 'cart:c-9',
          triggerKey: 'cart:c-9:m-Product Added',
          triggeredAt: iso(NOW - MIN),
          dueAt: iso(NOW - MIN + 60 * MIN),
          cancelOn: ['Order Completed'],
          context: { messageId: 'm-Product Added', event: 'Product Added', properties: { cart_id: 'c-9' } },
        },
      },
    ]);
  });

  it('keys a cart without an id as the customer’s one cart, the same for every add', () => {
    const first = of(
      onActivity([abandonedCart], activity('Product Added', { messageId: 'a1' }), NOW),
      'open_wait',
    );
    const second = of(
      onActivity([abandonedCart], activity('Product Added', { messageId: 'a2' }), NOW),
      'open_wait',
    );
    expect(first[0]?.wait.waitKey).toBe('cart');
    expect(second[0]?.wait.waitKey).toBe('cart');
    // Each add names its own occurrence; the store keeps the first while it is pending.
    expect(first[0]?.wait.triggerKey).not.toBe(second[0]?.wait.triggerKey);
  });

  it('gives a redelivered activity the same wait and trigger key', () => {
    const a = activity('Product Added', {}, { cart_id: 'c-1' });
    expect(onActivity([abandonedCart], a, NOW)).toEqual(onActivity([abandonedCart], a, NOW + 5 * MIN));
  });

  it('bounds a long cart id in the key, the same for the same id', () => {
    const long = 'x'.repeat(2000);
    const [open] = of(
      onActivity([abandonedCart], activity('Product Added', {}, { cart_id: long }), NOW),
      'open_wait',
    );
    expect(open?.wait.waitKey.length).toBeLessThan(120);
    expect(open?.wait.waitKey).toBe(`cart:${keyPart(long)}`);
    expect(keyPart(long)).not.toBe(keyPart(`${long}y`));
  });

  it('cancels the waits an order cancels, and only those campaigns', () => {
    const commands = onActivity([abandonedCart, browse, welcome], activity('Order Completed'), NOW);
    expect(commands).toEqual([
      {
        command: 'cancel_waits',
        customerId: 'cus_1',
        event: 'Order Completed',
        campaignIds: ['abandoned-cart', 'browse-abandonment'],
        before: iso(NOW - MIN),
      },
    ]);
  });

  it('browse abandonment: a view opens a wait per customer, an add cancels it', () => {
    const view = onActivity([browse], activity('Product Viewed', {}, { product_id: 'p1' }), NOW);
    expect(of(view, 'open_wait').map((c) => [c.wait.waitKey, c.wait.dueAt])).toEqual([
      ['customer', iso(NOW - MIN + 30 * MIN)],
    ]);
    const add = onActivity([browse, abandonedCart], activity('Product Added'), NOW);
    expect(of(add, 'cancel_waits')[0]?.campaignIds).toEqual(['browse-abandonment']);
    expect(of(add, 'open_wait').map((c) => c.wait.campaignId)).toEqual(['abandoned-cart']);
  });

  it('fires a trigger without a wait at once, keyed by the event', () => {
    expect(onActivity([welcome], activity('Signed Up', { messageId: 'sig-1' }), NOW)).toEqual([
      {
        command: 'candidate',
        candidate: {
          campaignId: 'shoe-welcome',
          customerId: 'cus_1',
          triggerKey: 'event:sig-1',
          triggeredAt: iso(NOW - MIN),
          context: { messageId: 'sig-1', event: 'Signed Up', properties: {} },
        },
      },
    ]);
  });

  it('applies where filters to the properties', () => {
    const order = (category?: string) =>
      of(
        onActivity([shoes], activity('Order Completed', {}, category === undefined ? {} : { category }), NOW),
        'candidate',
      ).length;
    expect([order('shoes'), order('hats'), order()]).toEqual([1, 0, 0]);
  });

  it('staleness guard: an event older than the campaign allows opens and fires nothing', () => {
    const old = { timestamp: iso(NOW - 121 * MIN) };
    expect(onActivity([abandonedCart], activity('Product Added', old), NOW)).toEqual([]);
    expect(onActivity([welcome], activity('Signed Up', { timestamp: iso(NOW - 2 * DAY) }), NOW)).toEqual([]);
    // Just inside the bound it still opens; its hour is over, so it is due now, not in the past.
    const late = of(
      onActivity([abandonedCart], activity('Product Added', { timestamp: iso(NOW - 119 * MIN) }), NOW),
      'open_wait',
    );
    expect(late[0]?.wait.dueAt).toBe(iso(NOW));
  });

  it('staleness guard: a stale order still cancels, for the waits it came after', () => {
    const commands = onActivity(
      [abandonedCart],
      activity('Order Completed', { timestamp: iso(NOW - 3 * DAY) }),
      NOW,
    );
    expect(commands).toEqual([
      expect.objectContaining({ command: 'cancel_waits', before: iso(NOW - 3 * DAY) }),
    ]);
  });

  it('refuses a where on a property activities do not carry', () => {
    expect(
      triggerIssues({ type: 'event', event: 'Order Completed', where: { category: 'x', color: 'red' } }),
    ).toEqual([expect.objectContaining({ path: 'trigger.where.color', code: 'unknown_property' })]);
    expect(triggerIssues(shoes.trigger)).toEqual([]);
  });
});

describe('onSegmentChange', () => {
  const winBack = campaign({
    id: 'win-back',
    trigger: { type: 'segment', on: 'enter', segment: 'churn-risk' },
  });
  const farewell = campaign({
    id: 'farewell',
    trigger: { type: 'segment', on: 'exit', segment: 'churn-risk' },
  });
  const asOf = '2026-12-06T00:00:00.000Z';
  const change = (from: string | null, to: string | null) =>
    ({ customerId: 'cus_2', from, to, reasons: [] }) as Parameters<typeof onSegmentChange>[1];

  it('entry fires enter campaigns, keyed by segment, direction and day', () => {
    expect(onSegmentChange([winBack, farewell], change('loyal', 'churn-risk'), asOf, NOW)).toEqual([
      {
        campaignId: 'win-back',
        customerId: 'cus_2',
        triggerKey: 'churn-risk:enter:2026-12-06',
        triggeredAt: asOf,
        context: { segment: { from: 'loyal', to: 'churn-risk' } },
      },
    ]);
  });

  it('exit fires exit campaigns; staying or unrelated moves fire nothing', () => {
    expect(
      onSegmentChange([winBack, farewell], change('churn-risk', 'dormant'), asOf, NOW).map(
        (c) => c.campaignId,
      ),
    ).toEqual(['farewell']);
    expect(onSegmentChange([winBack, farewell], change('churn-risk', 'churn-risk'), asOf, NOW)).toEqual([]);
    expect(onSegmentChange([winBack, farewell], change('new', 'loyal'), asOf, NOW)).toEqual([]);
    expect(onSegmentChange([winBack], change(null, 'churn-risk'), asOf, NOW)).toHaveLength(1);
  });

  it('the key does not depend on the run: a re-run of the day gives the same key; an old run fires nothing', () => {
    const again = onSegmentChange(
      [winBack],
      change('loyal', 'churn-risk'),
      '2026-12-06T00:00:00Z',
      NOW + 3 * 3_600_000,
    );
    expect(again[0]?.triggerKey).toBe('churn-risk:enter:2026-12-06');
    expect(
      onSegmentChange([winBack], change('loyal', 'churn-risk'), '2026-12-01T00:00:00.000Z', NOW),
    ).toEqual([]);
  });
});

describe('inactivityCandidates', () => {
  const noOrder = campaign({
    id: 'no-order-30',
    trigger: { type: 'inactivity', of: 'order', days: 30 },
    maxEventAgeMinutes: 24 * 60,
  });
  const noVisit = campaign({ id: 'no-visit-7', trigger: { type: 'inactivity', of: 'visit', days: 7 } });

  it('fires as a customer’s lapse reaches N days, keyed by the day of the last activity', () => {
    const facts = [
      { customerId: 'lapsed-now', lastOrderAt: iso(NOW - 30 * DAY - 2 * 3_600_000), lastSeen: iso(NOW) },
      { customerId: 'recent', lastOrderAt: iso(NOW - 29 * DAY) },
      { customerId: 'long-gone', lastOrderAt: iso(NOW - 90 * DAY) },
      { customerId: 'never-ordered', lastSeen: iso(NOW - 60 * DAY) },
    ];
    expect(inactivityCandidates(noOrder, facts, NOW)).toEqual([
      {
        campaignId: 'no-order-30',
        customerId: 'lapsed-now',
        triggerKey: 'order-inactive:2026-11-06',
        triggeredAt: iso(NOW - 2 * 3_600_000),
        context: {},
      },
    ]);
    // The next hourly run finds the same lapse under the same key.
    expect(inactivityCandidates(noOrder, facts, NOW + 3_600_000)[0]?.triggerKey).toBe(
      'order-inactive:2026-11-06',
    );
  });

  it('visits count any event', () => {
    const facts = [{ customerId: 'c', lastSeen: iso(NOW - 7 * DAY - MIN), lastOrderAt: iso(NOW - DAY) }];
    expect(inactivityCandidates(noVisit, facts, NOW).map((c) => c.triggerKey)).toEqual([
      'visit-inactive:2026-11-29',
    ]);
    expect(inactivityCandidates(noOrder, facts, NOW)).toEqual([]);
  });
});
