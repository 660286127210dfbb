// The messaging table on the emulator, through its adapter: caps and send claims hold under concurrent
// writers, a snapshot is one Query that leaves the logs out, consent is latest-wins even when the older
// record arrives last, and both decision listings page to the end without loss or repetition.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { messagingTable } from '../../lib/adapters/dynamodb/messagingTable.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import { suppress } from '../../lib/campaigns/consent.js';
import { reservationCaps } from '../../lib/campaigns/decision.js';
import type { DecisionRecord, SendClaim } from '../../lib/campaigns/messaging.js';
import { DEFAULT_CAPS } from '../../lib/config.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const dynamo = createDynamoDb(config);
const store = messagingTable(dynamo, config.tables.messaging);
const customer = () => `cus_${randomUUID()}`;
const campaign = () => `it-${randomUUID().slice(0, 8)}`;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.parse('2026-12-01T10:00:00.000Z');

/** Counts the commands the shared client sends, by name, while `fn` runs. */
async function countingCommands<T>(fn: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
  const commands: string[] = [];
  const name = `count-${randomUUID()}`;
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    return { result: await fn(), commands };
  } finally {
    dynamo.middlewareStack.remove(name);
  }
}

function claim(customerId: string, overrides: Partial<SendClaim> = {}): SendClaim {
  return {
    sendId: `snd_${randomUUID().replaceAll('-', '')}`,
    customerId,
    campaignId: 'abandoned-cart',
    triggerKey: 'cart-1',
    channel: 'email',
    variant: 'a',
    couponCode: 'CART-7KQ2-M9XD',
    claimedAt: iso(T0),
    attribution: { goalEvent: 'Order Completed', windowEndsAt: iso(T0 + 7 * 86_400_000) },
    ...overrides,
  };
}

afterAll(() => dynamo.destroy());

describe('frequency caps', () => {
  it('lets exactly 2 of 30 concurrent reservations through a cap of 2', async () => {
    const customerId = customer();
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        store.reserve(customerId, '2026-12-01', 'email', { channel: 2, overall: 5 }),
      ),
    );
    expect(results.filter((r) => r === 'reserved')).toHaveLength(2);
    expect(results.filter((r) => r === 'capped')).toHaveLength(28);
    const snap = await store.snapshot(customerId, { localDays: ['2026-12-01'] });
    expect(snap.caps['2026-12-01']).toEqual({ overall: 2, channels: { email: 2 } });
  });

  it('holds the overall cap across channels, and a release gives one back (never below zero)', async () => {
    const customerId = customer();
    const day = '2026-12-02';
    const caps = { channel: 5, overall: 3 };
    const mixed = await Promise.all(
      (['email', 'sms', 'push', 'email', 'sms', 'push'] as const).map((ch) =>
        store.reserve(customerId, day, ch, caps),
      ),
    );
    expect(mixed.filter((r) => r === 'reserved')).toHaveLength(3);
    expect(await store.reserve(customerId, day, 'webhook', caps)).toBe('capped');
    await store.release(customerId, day, 'webhook'); // never reserved: changes nothing
    const before = (await store.snapshot(customerId, { localDays: [day] })).caps[day];
    expect(before?.overall).toBe(3);
    const reservedChannel = (['email', 'sms', 'push'] as const).find((ch) => (before?.channels[ch] ?? 0) > 0);
    if (!reservedChannel) throw new Error('no channel was reserved');
    await store.release(customerId, day, reservedChannel);
    expect(await store.reserve(customerId, day, 'webhook', caps)).toBe('reserved');
    expect(await store.reserve(customerId, day, 'email', { channel: 0, overall: 9 })).toBe('capped');
  });
});

describe('weekly caps under concurrent triggers', () => {
  it("let through only the week's remainder of 30 concurrent sends, past days' sends counted", async () => {
    const customerId = customer();
    const caps = { ...DEFAULT_CAPS, email: { perDay: 3, perWeek: 4 }, all: { perDay: 5, perWeek: 9 } };
    // Three e-mails earlier in the week (reserved on their own days), then a burst today.
    for (const day of ['2026-11-30', '2026-12-02', '2026-12-04'])
      expect(await store.reserve(customerId, day, 'email', { channel: 3, overall: 5 })).toBe('reserved');
    const days = [
      '2026-11-30',
      '2026-12-01',
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
      '2026-12-05',
      '2026-12-06',
    ];
    const results = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const { caps: counts } = await store.snapshot(customerId, { localDays: days });
        return store.reserve(
          customerId,
          '2026-12-06',
          'email',
          reservationCaps(caps, 'email', counts, '2026-12-06'),
        );
      }),
    );
    // The day allows 3, the week 4 of which 3 are used: exactly one.
    expect(results.filter((r) => r === 'reserved')).toHaveLength(1);
    const snap = await store.snapshot(customerId, { localDays: days });
    expect(Object.values(snap.caps).reduce((sum, d) => sum + (d.channels.email ?? 0), 0)).toBe(4);
  });
});

describe('send claims', () => {
  it('are claimed exactly once by 20 concurrent claimers; the rest see the stored claim', async () => {
    const c = claim(customer());
    const results = await Promise.all(Array.from({ length: 20 }, () => store.claimSend(c)));
    expect(results.filter((r) => r.status === 'claimed')).toHaveLength(1);
    const others = results.filter((r) => r.status === 'already_claimed');
    expect(others).toHaveLength(19);
    for (const other of others) {
      expect(other).toEqual({ status: 'already_claimed', record: { ...c, status: 'claimed' } });
    }
  });

  it('move claimed → sent once; a failed send cannot be marked sent', async () => {
    const sent = claim(customer());
    await store.claimSend(sent);
    expect(await store.markSent(sent.customerId, sent.sendId, iso(T0 + 1000), 'ses-123')).toBe(true);
    expect(await store.markSent(sent.customerId, sent.sendId, iso(T0 + 2000))).toBe(false);
    expect(await store.markFailed(sent.customerId, sent.sendId, iso(T0 + 3000), 'late')).toBe(false);
    expect(await store.getSend(sent.customerId, sent.sendId)).toMatchObject({
      status: 'sent',
      sentAt: iso(T0 + 1000),
      providerMessageId: 'ses-123',
    });

    const failed = claim(customer());
    await store.claimSend(failed);
    expect(await store.markFailed(failed.customerId, failed.sendId, iso(T0 + 1000), 'SES throttled')).toBe(
      true,
    );
    expect(await store.markSent(failed.customerId, failed.sendId, iso(T0 + 2000))).toBe(false);
    expect(await store.getSend(failed.customerId, failed.sendId)).toMatchObject({
      status: 'failed',
      error: 'SES throttled',
    });
  });
});

describe('snapshot', () => {
  it('is one Query of the customer partition, leaving out sends, decisions and older cap days', async () => {
    const customerId = customer();
    const id = campaign();
    await store.putConsent(customerId, {
      purpose: 'marketing',
      channel: 'email',
      status: 'granted',
      source: 'web-form',
      at: iso(T0),
    });
    await store.putConsent(customerId, {
      purpose: 'recommendations',
      channel: 'push',
      status: 'revoked',
      source: 'api',
      at: iso(T0),
    });
    await store.putUnsubscribe(customerId, { status: 'revoked', source: 'unsubscribe-link', at: iso(T0) });
    await store.recordEntry(customerId, id, { triggerKey: 'cart-9', at: iso(T0) });
    for (const day of ['2026-11-20', '2026-11-28', '2026-12-01']) {
      await store.reserve(customerId, day, 'sms', { channel: 9, overall: 9 });
    }
    await store.claimSend(claim(customerId, { campaignId: id }));
    for (let i = 0; i < 5; i++) {
      await store.logDecision(decision(customerId, id, T0 + i * 1000));
    }

    const days = [
      '2026-11-25',
      '2026-11-26',
      '2026-11-27',
      '2026-11-28',
      '2026-11-29',
      '2026-11-30',
      '2026-12-01',
    ];
    const { result: snap, commands } = await countingCommands(() =>
      store.snapshot(customerId, { localDays: days }),
    );
    expect(commands).toEqual(['QueryCommand']);
    expect(snap).toEqual({
      customerId,
      consent: {
        marketing: { email: { status: 'granted', source: 'web-form', at: iso(T0) } },
        recommendations: { push: { status: 'revoked', source: 'api', at: iso(T0) } },
      },
      unsubscribe: { status: 'revoked', source: 'unsubscribe-link', at: iso(T0) },
      caps: {
        '2026-11-28': { overall: 1, channels: { sms: 1 } },
        '2026-12-01': { overall: 1, channels: { sms: 1 } },
      },
      entries: { [id]: { triggerKey: 'cart-9', at: iso(T0) } },
      suppressed: {},
    });
  });

  it('names the suppressed addresses asked for; a complaint also revokes marketing on its channel', async () => {
    const customerId = customer();
    const hash = `h${randomUUID().replaceAll('-', '')}`;
    await store.putConsent(customerId, {
      purpose: 'marketing',
      channel: 'email',
      status: 'granted',
      source: 'web-form',
      at: iso(T0),
    });
    const first = await suppress(
      { channel: 'email', addressHash: hash, reason: 'complaint', at: iso(T0 + 1000), customerId },
      store,
    );
    expect(first.suppression.applied).toBe(true);
    expect(first.consent).toMatchObject({
      applied: true,
      current: { status: 'revoked', source: 'complaint' },
    });
    // The first suppression stays: a later bounce of the same address changes nothing.
    const again = await suppress(
      { channel: 'email', addressHash: hash, reason: 'hard_bounce', at: iso(T0 + 5000) },
      store,
    );
    expect(again.suppression).toMatchObject({ applied: false, current: { reason: 'complaint' } });

    const snap = await store.snapshot(customerId, {
      localDays: [],
      addresses: [
        { channel: 'email', addressHash: hash },
        { channel: 'sms', addressHash: hash },
      ],
    });
    expect(snap.suppressed).toEqual({
      email: { channel: 'email', addressHash: hash, reason: 'complaint', at: iso(T0 + 1000), customerId },
    });
    expect(snap.consent.marketing?.email).toMatchObject({ status: 'revoked', source: 'complaint' });
  });
});

describe('consent is latest-wins', () => {
  it('keeps the newer record when an older one arrives late, and revocation wins a tie', async () => {
    const customerId = customer();
    const change = (status: 'granted' | 'revoked', at: number, source = 'web-form') =>
      ({ purpose: 'marketing', channel: 'sms', status, source, at: iso(at) }) as const;

    expect(await store.putConsent(customerId, change('revoked', T0 + 60_000))).toMatchObject({
      applied: true,
    });
    const late = await store.putConsent(customerId, change('granted', T0, 'import'));
    expect(late).toEqual({
      applied: false,
      current: { status: 'revoked', source: 'web-form', at: iso(T0 + 60_000) },
    });
    // Same instant: a grant does not undo the revocation; the other way round it would.
    expect((await store.putConsent(customerId, change('granted', T0 + 60_000))).applied).toBe(false);
    expect((await store.putConsent(customerId, change('granted', T0 + 120_000))).applied).toBe(true);
    expect((await store.putConsent(customerId, change('revoked', T0 + 120_000))).applied).toBe(true);
    const snap = await store.snapshot(customerId, { localDays: [] });
    expect(snap.consent.marketing?.sms).toEqual({
      status: 'revoked',
      source: 'web-form',
      at: iso(T0 + 120_000),
    });
  });

  it('keeps the newest entry of a campaign when an older trigger is recorded late', async () => {
    const customerId = customer();
    const id = campaign();
    await store.recordEntry(customerId, id, { triggerKey: 'new', at: iso(T0 + 1000) });
    await store.recordEntry(customerId, id, { triggerKey: 'old', at: iso(T0) });
    expect((await store.snapshot(customerId, { localDays: [] })).entries[id]).toEqual({
      triggerKey: 'new',
      at: iso(T0 + 1000),
    });
  });
});

function decision(customerId: string, campaignId: string, at: number, i = 0): DecisionRecord {
  return {
    customerId,
    campaignId,
    triggerKey: `cart-${i}`,
    at: iso(at),
    outcome: i % 3 === 0 ? 'send' : 'skip',
    reason: i % 3 === 0 ? 'eligible' : 'consent_missing',
    channel: 'email',
  };
}

describe('the decision log', () => {
  it('pages a customer’s decisions newest first to the end, and a logged decision logged again stays one', async () => {
    const customerId = customer();
    const id = campaign();
    const logged = Array.from({ length: 7 }, (_, i) => decision(customerId, id, T0 + i * 60_000, i));
    await Promise.all(logged.map((d) => store.logDecision(d)));
    await store.logDecision(logged[3] as DecisionRecord); // a retried invocation
    const seen: DecisionRecord[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.customerDecisions(customerId, { limit: 3, cursor });
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([...logged].reverse());
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it('pages a campaign’s decisions (GSI) across customers, newest first, without its sends', async () => {
    const id = campaign();
    const customers = [customer(), customer(), customer()];
    const logged = Array.from({ length: 8 }, (_, i) =>
      decision(customers[i % 3] as string, id, T0 + i * 1000, i),
    );
    await Promise.all(logged.map((d) => store.logDecision(d)));
    await store.claimSend(claim(customers[0] as string, { campaignId: id }));
    const seen: DecisionRecord[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.campaignDecisions(id, { limit: 3, cursor });
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([...logged].reverse());
    const sends = await store.campaignSends(id, { limit: 10 });
    expect(sends.items).toHaveLength(1);
    expect(sends.items[0]).toMatchObject({ campaignId: id, status: 'claimed' });
  });
});
