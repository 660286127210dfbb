// The campaign engine on the local stack: a campaign saved through the API, a customer's consent and cart
// add sent as a real client would, the pipeline (archive → profiles → campaign-activity consumer) run by
// the stack's event sources, the minute's timer function invoked through serverless-offline with a `now`
// an hour on, and the send read back from the decision log and the send record. The campaign matches only this test's cart,
// so other tests' events never reach it.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { messagingTable } from '../../lib/adapters/dynamodb/messagingTable.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import { inGlobalControl } from '../../lib/campaigns/assignment.js';
import { noonZoneAt } from '../../lib/campaigns/demo.js';
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

/** The campaign's logged decisions to send (GET /v1/campaigns/{id}/decisions, newest first). */
async function sends(campaignId: string): Promise<{ customerId: string; sendId?: string }[]> {
  const page = await callApi<{ items: { outcome: string; customerId: string; sendId?: string }[] }>(
    `/v1/campaigns/${campaignId}/decisions?limit=50`,
  );
  expect(page.status).toBe(200);
  return page.body.items.filter((d) => d.outcome === 'send');
}

describe('campaigns on the local stack', () => {
  it('sends the abandoned-cart e-mail once an hour after a cart add', async () => {
    const run = randomUUID().slice(0, 8);
    const cart = `cart-${run}`;
    const demo = JSON.parse(await readFile(join(projectRoot(), 'campaigns', 'abandoned-cart.json'), 'utf8'));
    const campaignId = `cart-e2e-${run}`;
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

    // A customer outside the global control group (5 % of ids are in it: their sends are only measured).
    let user = '';
    for (let attempt = 0; attempt < 10 && user === ''; attempt++) {
      const candidate = `u-cart-${run}-${attempt}`;
      const address = `cart.${run}.${attempt}@example.com`;
      await send({
        batch: [
          {
            type: 'identify',
            userId: candidate,
            traits: { email: address, firstName: 'Ada', consent: { marketing: { email: true } } },
            context: { timezone: noonZoneAt(Date.now() + 61 * MINUTE) },
            messageId: `${run}-identify-${attempt}`,
          },
        ],
      });
      const profile = await waitForCustomer<{ customerId: string }>(candidate, () => true, 120_000);
      const c = config.sendDecision;
      if (!inGlobalControl(profile.customerId, c.controlSalt, c.controlPercent)) {
        user = candidate;
      }
    }
    expect(user).not.toBe('');
    // The consent reached the messaging table through the campaign-activity queue.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const consent = await callApi<{ consent: { purpose: string; channel: string; status: string }[] }>(
        `/v1/customers/${user}/consent`,
      );
      if (consent.body.consent?.some((x) => x.channel === 'email' && x.status === 'granted')) break;
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(1000);
    }

    // The engine lists enabled campaigns once a minute per container: cart adds (one cart, so one wait)
    // until one found the new campaign, each followed by the sweep an hour on.
    const until = Date.now() + 240_000;
    let sent: Awaited<ReturnType<typeof sends>> = [];
    for (let add = 0; sent.length === 0; add++) {
      expect(Date.now()).toBeLessThan(until);
      await send({
        batch: [
          {
            type: 'track',
            userId: user,
            event: 'Product Added',
            properties: { product_id: 'sku-1', price: 20, quantity: 1, currency: 'EUR', cart_id: cart },
            messageId: `${run}-add-${add}`,
          },
        ],
      });
      await sleep(5000);
      await invokeTimers(Date.now() + 61 * MINUTE);
      sent = await sends(campaignId);
    }
    expect(sent).toHaveLength(1);
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
});
