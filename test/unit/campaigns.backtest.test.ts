// The back-test's replay in memory (the emulator test in test/integration/campaignEngine.test.ts runs it
// over a real archive): waits fire at their due time, an order cancels, quiet hours defer a send that is
// then counted once where it lands, re-entry counts the replay's own sends, and the event budget stops
// the replay and says so.
import { describe, expect, it } from 'vitest';
import type { Activity } from '../../lib/campaigns/activity.js';
import { type ArchiveWindow, type BacktestDeps, backtestCampaign } from '../../lib/campaigns/backtest.js';
import type { Recipient } from '../../lib/campaigns/dispatch.js';
import { Campaign } from '../../lib/campaigns/model.js';
import { mergePartials } from '../../lib/profiles/merge.js';
import { emptyPartial } from '../../lib/profiles/partial.js';
import { customerView } from '../../lib/profiles/view.js';
import { campaign, granted, ordinaryId, settings } from './campaigns.decision.factories.js';

const DAY = '2026-11-10';
const at = (hhmm: string, day = DAY) => `${day}T${hhmm}:00.000Z`;
let n = 0;
const event = (customerId: string, name: string, time: string, cart = 'c1'): Activity => ({
  v: 1,
  customerId,
  messageId: `m${n++}`,
  type: 'track',
  event: name,
  timestamp: time,
  receivedAt: time,
  properties: { cart_id: cart },
});

const cartCampaign = (over: Record<string, unknown> = {}) =>
  Campaign.parse({
    ...campaign({
      trigger: {
        type: 'event',
        event: 'Product Added',
        wait: { minutes: 60, cancelOn: ['Order Completed'], key: 'cart' },
      },
      channels: ['email'],
      ...over,
    }),
    version: 1,
    updatedAt: '2026-11-01T00:00:00.000Z',
  });

/** A reachable, consenting customer (an e-mail token on the profile, marketing e-mail granted). */
function recipient(customerId: string): Recipient {
  const view = customerView(mergePartials([emptyPartial(`user:${customerId}`)]), Date.parse(at('00:00')));
  return {
    customerId,
    view: { ...view, traits: { email: { v: 'enc:v1:0123456789abcdef:c2VhbGVk', at: at('00:00') } } },
    addresses: [],
  };
}

function deps(byDay: Record<string, Activity[]>, over: Partial<BacktestDeps> = {}): BacktestDeps {
  return {
    archivedOn: async (day: string, w: ArchiveWindow) =>
      (byDay[day] ?? [])
        .filter((a) => Date.parse(a.timestamp) >= w.start && Date.parse(a.timestamp) < w.end)
        .slice(0, w.limit),
    recipients: { read: async (id) => recipient(id) },
    messaging: {
      snapshot: async (customerId) => ({
        customerId,
        consent: { marketing: { email: granted } },
        caps: {},
        entries: {},
        suppressed: {},
      }),
    },
    settings,
    maxEvents: 1000,
    today: '2026-12-01',
    ...over,
  };
}

describe('backtestCampaign', () => {
  const a = ordinaryId('abandoned-cart');
  const b = ordinaryId('abandoned-cart', settings.controlPercent, 49);

  it('fires a left cart once after its wait, never an ordered one, and counts a second add to the same cart once', async () => {
    const other = b === a ? 'cus_other' : b;
    const result = await backtestCampaign(
      cartCampaign(),
      { from: DAY, to: DAY },
      deps({
        [DAY]: [
          event(a, 'Product Added', at('10:00')),
          event(a, 'Product Added', at('10:30')),
          event(other, 'Product Added', at('11:00'), 'c2'),
          event(other, 'Order Completed', at('11:20'), 'c2'),
        ],
      }),
    );
    expect(result.skipped).toEqual({});
    expect(result).toMatchObject({
      events: 4,
      candidates: 1,
      wouldSend: 1,
      customersReached: 1,
      truncated: false,
      pendingAtEnd: 0,
    });
    expect(result.days).toEqual([
      { day: DAY, candidates: 1, wouldSend: 1, control: 0, holdout: 0, skipped: {} },
    ]);
  });

  it('defers a send in quiet hours and counts it once, on the day it lands; a wait ending after the period is pending', async () => {
    const quiet = cartCampaign({ quietHours: { start: '21:00', end: '08:00', action: 'defer' } });
    const result = await backtestCampaign(
      quiet,
      { from: DAY, to: '2026-11-11' },
      deps({
        [DAY]: [event(a, 'Product Added', at('22:30'))],
        '2026-11-11': [event(b, 'Product Added', at('23:30', '2026-11-11'), 'c9')],
      }),
    );
    // 23:30 + 1 h is after the period: still waiting at its end.
    expect(result).toMatchObject({ candidates: 1, wouldSend: 1, pendingAtEnd: 1 });
    expect(result.days.map((d) => [d.day, d.wouldSend])).toEqual([['2026-11-11', 1]]);
  });

  it('skips a second cart of the same customer within the cooldown (the replay’s own entries)', async () => {
    const once = cartCampaign({ reentry: { mode: 'cooldown', days: 7 } });
    const result = await backtestCampaign(
      once,
      { from: DAY, to: DAY },
      deps({
        [DAY]: [event(a, 'Product Added', at('08:00')), event(a, 'Product Added', at('12:00'), 'c2')],
      }),
    );
    expect(result.wouldSend).toBe(1);
    expect(result.candidates).toBe(2);
    expect(Object.values(result.skipped).reduce((s, x) => s + x, 0)).toBe(1);
  });

  it('stops at the event budget and says where', async () => {
    const many = Array.from({ length: 10 }, (_, i) => event(a, 'Product Added', at(`0${i}:00`), `cart-${i}`));
    const result = await backtestCampaign(
      cartCampaign(),
      { from: DAY, to: DAY },
      deps({ [DAY]: many }, { maxEvents: 4 }),
    );
    expect(result).toMatchObject({ events: 4, truncated: true, stoppedAt: at('03:00') });
  });
});
