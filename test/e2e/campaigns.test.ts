// The campaign engine on the local stack: campaigns saved through the API, a customer's consent and cart
// adds sent as a real client would, the pipeline (archive → profiles → campaign-activity consumer) run by
// the stack's event sources, the minute's timer function invoked through serverless-offline with a `now`
// an hour on, and the outcome read back from the decision log and the send record. Each campaign matches
// only its test's cart, so other tests' events never reach it. The bounce test sends to an address of
// SES's mailbox simulator: the stack's simulator (local/sesMailboxSimulator.ts) turns it into the bounce
// event SES would publish, and the email-feedback consumer suppresses the address.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { messagingTable } from '../../lib/adapters/dynamodb/messagingTable.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import { inGlobalControl } from '../../lib/campaigns/assignment.js';
import { noonZoneAt } from '../../lib/campaigns/demo.js';
import { addressHash } from '../../lib/campaigns/feedback.js';
import { projectRoot } from '../../lib/projectRoot.js';
import { testConfig } from '../support/provided.js';
import { callApi, waitForCustomer } from '../support/stackApi.js';

const MINUTE = 60_000;
const config = testConfig();

async function send(body: unknown) {
  const res = await fetch(`${inject('httpUrl')}/v1/batch`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${inject('writeKey')}:`).toString('base64')}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

async function invokeTimers(now: number) {
  const res = await fetch(
    `${inject('lambdaUrl')}/2015-03-31/functions/precis-local-campaignTimers/invocations`,
    { method: 'POST', body: JSON.stringify({ now: new Date(now).toISOString() }) },
  );
  expect(res.headers.get('x-amz-function-error')).toBeNull();
}

interface Decision {
  outcome: string;
  reason: string;
  customerId: string;
  sendId?: string;
}

/** The campaign's logged decisions (GET /v1/campaigns/{id}/decisions, newest first). */
async function decisions(campaignId: string): Promise<Decision[]> {
  const page = await callApi<{ items: Decision[] }>(`/v1/campaigns/${campaignId}/decisions?limit=50`);
  expect(page.status).toBe(200);
  return page.body.items;
}

/** The campaign's logged decisions to send. */
const sends = async (campaignId: string) => (await decisions(campaignId)).filter((d) => d.outcome === 'send');

/** The demo abandoned-cart campaign, enabled, no holdout, matching only `cart` (other tests' carts never reach it). */
async function cartCampaign(campaignId: string, cart: string): Promise<void> {
  const demo = JSON.parse(await readFile(join(projectRoot(), 'campaigns', 'abandoned-cart.json'), 'utf8'));
  const created = await callApi('/v1/campaigns', {
    method: 'POST',
    key: inject('adminKey'),
    body: {
      ...demo,
      id: campaignId,
      enabled: true,
      holdoutPercent: 0,
      trigger: { ...demo.trigger, where: { cart_id: cart } },
    },
  });
  expect(created.status).toBe(201);
}

/**
 * A customer who consented to marketing e-mail, outside the global control group (5 % of ids are in it:
 * their sends are only measured), once the consent reached the messaging table through the
 * campaign-activity queue.
 */
async function consentingCustomer(
  run: string,
  addressOf: (attempt: number) => string,
): Promise<{ user: string; customerId: string; attempt: number }> {
  let found: { user: string; customerId: string; attempt: number } | undefined;
  for (let attempt = 0; attempt < 10 && found === undefined; attempt++) {
    const candidate = `u-cart-${run}-${attempt}`;
    await send({
      batch: [
        {
          type: 'identify',
          userId: candidate,
          traits: { email: addressOf(attempt), firstName: 'Ada', consent: { marketing: { email: true } } },
          context: { timezone: noonZoneAt(Date.now() + 61 * MINUTE) },
          messageId: `${run}-identify-${attempt}`,
        },
      ],
    });
    const profile = await waitForCustomer<{ customerId: string }>(candidate, () => true, 120_000);
    const c = config.sendDecision;
    if (!inGlobalControl(profile.customerId, c.controlSalt, c.controlPercent)) {
      found = { user: candidate, customerId: profile.customerId, attempt };
    }
  }
  if (found === undefined) throw new Error('ten customers in a row fell in the global control group');
  const deadline = Date.now() + 120_000;
  for (;;) {
    const consent = await callApi<{ consent: { purpose: string; channel: string; status: string }[] }>(
      `/v1/customers/${found.user}/consent`,
    );
    if (consent.body.consent?.some((x) => x.channel === 'email' && x.status === 'granted')) return found;
    expect(Date.now()).toBeLessThan(deadline);
    await sleep(1000);
  }
}

/**
 * Cart adds (one cart, so one wait), each followed by the timer sweep an hour on, until the campaign logged
 * a decision: the engine lists enabled campaigns once a minute per container, so the first adds may come
 * before it knows the campaign.
 */
async function abandonCartUntilDecided(run: string, user: string, cart: string, campaignId: string) {
  const until = Date.now() + 240_000;
  for (let add = 0; ; add++) {
    expect(Date.now()).toBeLessThan(until);
    await send({
      batch: [
        {
          type: 'track',
          userId: user,
          event: 'Product Added',
          properties: { product_id: 'sku-1', price: 20, quantity: 1, currency: 'EUR', cart_id: cart },
          messageId: `${run}-${cart}-add-${add}`,
        },
      ],
    });
    await sleep(5000);
    await invokeTimers(Date.now() + 61 * MINUTE);
    const logged = await decisions(campaignId);
    if (logged.length > 0) return logged;
  }
}

describe('campaigns on the local stack', () => {
  it('sends the abandoned-cart e-mail once an hour after a cart add', async () => {
    const run = randomUUID().slice(0, 8);
    const cart = `cart-${run}`;
    const campaignId = `cart-e2e-${run}`;
    await cartCampaign(campaignId, cart);
    const { user } = await consentingCustomer(run, (attempt) => `cart.${run}.${attempt}@example.com`);

    const sent = await abandonCartUntilDecided(run, user, cart, campaignId);
    expect(sent).toMatchObject([{ outcome: 'send' }]);
    // The send record: claimed, then sent by the channel (SES, the local stack's emulator).
    const record = await messagingTable(createDynamoDb(config), config.tables.messaging).getSend(
      String(sent[0]?.customerId),
      String(sent[0]?.sendId),
    );
    expect(record).toMatchObject({ status: 'sent', channel: 'email', campaignId });
    expect(record?.providerMessageId).toBeDefined();
    // Another sweep sends nothing more (the wait fired; the send is claimed).
    await invokeTimers(Date.now() + 62 * MINUTE);
    expect(await sends(campaignId)).toHaveLength(1);
  }, 600_000);

  it("suppresses an address SES's simulator bounces, and the next campaign skips it", async () => {
    const run = randomUUID().slice(0, 8);
    const address = (attempt: number) => `bounce+${run}-${attempt}@simulator.amazonses.com`;
    const first = { cart: `cart-${run}-a`, campaignId: `bounce-e2e-${run}-a` };
    await cartCampaign(first.campaignId, first.cart);
    const { user, customerId, attempt } = await consentingCustomer(run, address);

    // The e-mail goes to the SES emulator; the stack's mailbox simulator publishes the bounce SES would,
    // through the queue serverless.yml's rule targets, to the email-feedback consumer.
    expect(await abandonCartUntilDecided(run, user, first.cart, first.campaignId)).toMatchObject([
      { outcome: 'send' },
    ]);
    const table = messagingTable(createDynamoDb(config), config.tables.messaging);
    const hash = addressHash(String(config.pii.hmacSecret), 'email', address(attempt));
    const until = Date.now() + 120_000;
    for (;;) {
      const snapshot = await table.snapshot(customerId, {
        localDays: [],
        addresses: [{ channel: 'email', addressHash: String(hash) }],
      });
      if (snapshot.suppressed.email) {
        expect(snapshot.suppressed.email).toMatchObject({ reason: 'hard_bounce' });
        break;
      }
      expect(Date.now()).toBeLessThan(until);
      await sleep(1000);
    }

    // A new campaign's decision for them: skipped, the only consenting channel being suppressed.
    const second = { cart: `cart-${run}-b`, campaignId: `bounce-e2e-${run}-b` };
    await cartCampaign(second.campaignId, second.cart);
    expect(await abandonCartUntilDecided(run, user, second.cart, second.campaignId)).toMatchObject([
      { outcome: 'skip', reason: 'suppressed' },
    ]);
  }, 600_000);
});
