// Tags through the local stack, as a marketer and a client app use them: a definition saved through the
// API (no code), events sent through /v1/batch, and the tag on the profile — with its reasons — within
// seconds of the events that earn it (the incremental path: profiles consumer -> tags queue -> tags
// consumer), gone again when the events undo it; listed by tag and counted; a new definition swept over
// the published run's customers; refused with the field to fix when invalid; and driving a campaign
// audience.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import { comingMidnight as nextMidnight } from '../../lib/segmentation/requests.js';
import { testConfig } from '../support/provided.js';
import { callApi, startRun, waitForCustomer, waitForRun } from '../support/stackApi.js';

const run = randomUUID().slice(0, 8);
const admin = () => inject('adminKey');

async function send(batch: unknown[]): Promise<void> {
  const res = await fetch(`${inject('httpUrl')}/v1/batch`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${inject('writeKey')}:`).toString('base64')}` },
    body: JSON.stringify({ batch }),
  });
  expect(res.status).toBe(200);
}

let seq = 0;
const track = (userId: string, event: string, properties: Record<string, unknown> = {}) => ({
  type: 'track',
  userId,
  event,
  properties,
  messageId: `${run}-${++seq}`,
});

interface Tagged {
  customerId: string;
  tags: { tag: string; value: string; reasons: string[]; since: string }[];
}
const tagOf = (p: Tagged, id: string) => p.tags.find((t) => t.tag === id);

async function putTag(id: string, body: Record<string, unknown>) {
  return callApi(`/v1/tags/${id}`, { method: 'PUT', key: admin(), body });
}

/** Every customer of a tag (value), following nextCursor. */
async function allTagged(id: string, query = ''): Promise<{ customerId: string; value: string }[]> {
  const items: { customerId: string; value: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await callApi<{ items: { customerId: string; value: string }[]; nextCursor?: string }>(
      `/v1/tags/${id}/customers?limit=2${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return items;
}

describe('tags', () => {
  const coupons = `coupon-fan-${run}`;
  const cart = `cart-holder-${run}`;

  it('follow a customer’s events both ways, with reasons, and are listed and counted', async () => {
    expect(
      (
        await putTag(coupons, {
          name: 'Coupon fan',
          kind: 'behavior',
          rule: { type: 'match', when: [{ kind: 'event', event: 'Coupon Applied', op: 'gte', value: 2 }] },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await putTag(cart, {
          name: 'Cart holder',
          kind: 'behavior',
          rule: { type: 'match', when: [{ kind: 'metric', metric: 'cartItems', op: 'gt', value: 0 }] },
        })
      ).status,
    ).toBe(201);

    const fan = `tag-fan-${run}`;
    const other = `tag-other-${run}`;
    await send([
      track(fan, 'Coupon Applied', { coupon: 'A' }),
      track(fan, 'Coupon Applied', { coupon: 'B' }),
      track(fan, 'Product Added', { product_id: 'sku-1', quantity: 1, price: 10 }),
      track(other, 'Coupon Applied', { coupon: 'A' }),
    ]);
    const tagged = await waitForCustomer<Tagged>(
      fan,
      (p) => tagOf(p, coupons) !== undefined && tagOf(p, cart) !== undefined,
      180_000,
    );
    expect(tagOf(tagged, coupons)).toMatchObject({
      value: 'true',
      reasons: ['Coupon Applied events 2 (gte 2)'],
    });
    expect(tagOf(tagged, cart)?.reasons).toEqual(['cartItems 1 (gt 0)']);
    // One coupon is not enough: the other customer (sent in the same batch) is not tagged or listed.
    const untagged = await waitForCustomer<Tagged>(other, () => true, 120_000);
    expect(tagOf(untagged, coupons)).toBeUndefined();

    const listed = await allTagged(coupons);
    expect(listed).toEqual([expect.objectContaining({ customerId: tagged.customerId, value: 'true' })]);
    const counted = await callApi<{ customers: Record<string, number>; version: number }>(
      `/v1/tags/${coupons}`,
    );
    expect(counted.body).toMatchObject({ customers: { true: 1 }, version: 1 });

    // The cart emptied: the tag goes, from the profile and from the listing.
    await send([track(fan, 'Product Removed', { product_id: 'sku-1', quantity: 1 })]);
    const emptied = await waitForCustomer<Tagged>(fan, (p) => tagOf(p, cart) === undefined, 180_000);
    expect(tagOf(emptied, coupons)?.since).toBe(tagOf(tagged, coupons)?.since);
    // Other tests' customers with carts may hold this tag too (a shared stack, runs publishing): only the fan's
    // entry must be gone.
    expect((await allTagged(cart)).map((c) => c.customerId)).not.toContain(emptied.customerId);
  }, 420_000);

  it('drive a campaign audience: the tagged customer passes it, the other is skipped for it', async () => {
    const campaignId = `tag-audience-${run}`;
    const created = await callApi('/v1/campaigns', {
      method: 'POST',
      key: admin(),
      body: {
        id: campaignId,
        name: 'Coupon fans only',
        enabled: true,
        holdoutPercent: 0,
        trigger: { type: 'event', event: `Tag Probe ${run}` },
        audience: [{ kind: 'tag', tag: coupons }],
        channels: ['email'],
        variants: [{ id: 'a', content: { email: { subject: 'Hi', html: '<p>Hi</p>', text: 'Hi' } } }],
      },
    });
    expect(created.status).toBe(201);
    const fan = `tag-fan-${run}`;
    const other = `tag-other-${run}`;
    await send([track(fan, `Tag Probe ${run}`), track(other, `Tag Probe ${run}`)]);
    const fanId = (await waitForCustomer<Tagged>(fan, () => true)).customerId;
    const otherId = (await waitForCustomer<Tagged>(other, () => true)).customerId;
    const deadline = Date.now() + 180_000;
    let decisions: {
      customerId: string;
      reason: string;
      outcome: string;
      details?: { explain?: string[] };
    }[] = [];
    while (Date.now() < deadline) {
      const page = await callApi<{ items: typeof decisions }>(
        `/v1/campaigns/${campaignId}/decisions?limit=50`,
      );
      decisions = page.body.items;
      if (decisions.some((d) => d.customerId === fanId) && decisions.some((d) => d.customerId === otherId))
        break;
      await sleep(1000);
    }
    const forFan = decisions.find((d) => d.customerId === fanId);
    const forOther = decisions.find((d) => d.customerId === otherId);
    // The fan passes the audience (the decision goes on: no consent to e-mail them, so it skips for that).
    expect(forFan?.reason).not.toBe('audience');
    expect(forOther).toMatchObject({ outcome: 'skip', reason: 'audience' });
    expect(forOther?.details?.explain).toEqual([`no tag ${coupons}`]);
  }, 300_000);

  it('a saved tag reaches the published run’s customers at once, without an event of theirs (a sweep)', async () => {
    // A live run as of the coming midnight: the fan (above) is one of its customers.
    const comingMidnight = new Date(nextMidnight(Date.now(), testConfig().businessTimezone));
    const runId = await startRun({ asOf: comingMidnight.toISOString(), publish: true });
    expect(await waitForRun(runId)).toMatchObject({ status: 'completed', published: true });
    const everyone = `everyone-${run}`;
    expect(
      (
        await putTag(everyone, {
          name: 'Everyone seen',
          kind: 'static',
          rule: { type: 'match', when: [{ kind: 'metric', metric: 'pageViews', op: 'gte', value: 0 }] },
        })
      ).status,
    ).toBe(201);
    const fan = `tag-fan-${run}`;
    const swept = await waitForCustomer<Tagged>(fan, (p) => tagOf(p, everyone) !== undefined, 180_000);
    expect(tagOf(swept, everyone)?.reasons).toEqual(['pageViews 0 (gte 0)']);
    // Deleted: the sweep takes it away again.
    expect((await callApi(`/v1/tags/${everyone}`, { method: 'DELETE', key: admin() })).status).toBe(200);
    await waitForCustomer<Tagged>(fan, (p) => tagOf(p, everyone) === undefined, 180_000);
  }, 600_000);

  it('refuses invalid definitions and cursors with the field to fix, and unknown tags with 404', async () => {
    const pii = await putTag(`mail-${run}`, {
      name: 'By e-mail',
      kind: 'static',
      rule: { type: 'match', when: [{ kind: 'trait', trait: 'email', op: 'eq', value: 'a@example.com' }] },
    });
    expect(pii.status).toBe(400);
    expect(JSON.stringify(pii.body)).toContain('rule.when[0].trait');
    const nested = await putTag(`nested-${run}`, {
      name: 'Tag of tags',
      kind: 'behavior',
      rule: { type: 'match', when: [{ kind: 'tag', tag: coupons }] },
    });
    expect(nested.status).toBe(400);
    const mismatch = await putTag(`a-${run}`, {
      id: `b-${run}`,
      name: 'x',
      kind: 'static',
      rule: { type: 'match', when: [{ kind: 'metric', metric: 'orders', op: 'gte', value: 1 }] },
    });
    expect(mismatch.status).toBe(400);
    expect((await callApi(`/v1/tags/${coupons}/customers?cursor=not-a-cursor`)).status).toBe(400);
    expect((await callApi(`/v1/tags/none-${run}`)).status).toBe(404);
    expect((await callApi(`/v1/tags/none-${run}/customers`)).status).toBe(404);
    // A stale version is a conflict; the current one saves the next.
    const stale = await putTag(coupons, {
      name: 'Coupon fan',
      kind: 'behavior',
      expectedVersion: 7,
      rule: { type: 'match', when: [{ kind: 'event', event: 'Coupon Applied', op: 'gte', value: 3 }] },
    });
    expect(stale.status).toBe(409);
    const listed = await callApi<{ items: { id: string }[] }>('/v1/tags');
    expect(listed.body.items.map((t) => t.id)).toEqual(expect.arrayContaining([coupons, cart]));
    expect((await callApi(`/v1/tags/${cart}`, { method: 'DELETE', key: admin() })).status).toBe(200);
    expect((await callApi(`/v1/tags/${cart}`, { method: 'DELETE', key: admin() })).status).toBe(404);
  });
});
