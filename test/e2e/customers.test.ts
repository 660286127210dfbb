// The customer API on the local stack: a visitor browses anonymously, logs in, buys; the profile, found by
// any of its identifiers, counts the anonymous browsing too, shows personal traits masked (revealed to
// admins only), and an unmerge gives back the two separate profiles.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { customerIdOf } from '../../lib/identity/graph.js';
import { callApi, waitForCustomer } from '../support/stackApi.js';

const url = (path: string) => `${inject('httpUrl')}${path}`;

const get = (path: string, key = inject('readKey')) => callApi(path, { key });

type Profile = {
  customerId: string;
  identities: Record<string, number>;
  profile: Record<string, unknown> & { aggregates: Record<string, unknown> };
};
const aggregatesOf = (body: Record<string, unknown>) =>
  (body.profile as { aggregates: Record<string, unknown> }).aggregates;

describe('customer API', () => {
  it('stitches, merges, masks, reveals to admins, and unmerges', async () => {
    const run = randomUUID().slice(0, 8);
    const user = `u-${run}`;
    const anon = `a-${run}`;
    const email = `jane.${run}@example.com`;
    const phone = `+44 20 7946 ${String(1000 + Math.floor(Math.random() * 8999))}`;
    const at = (m: number) => new Date(Date.UTC(2026, 10, 20, 9, m)).toISOString();
    const res = await fetch(url('/v1/batch'), {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${inject('writeKey')}:`).toString('base64')}` },
      body: JSON.stringify({
        batch: [
          { type: 'page', anonymousId: anon, name: 'Home', timestamp: at(0), messageId: `${run}-1` },
          {
            type: 'track',
            anonymousId: anon,
            event: 'Product Viewed',
            properties: { product_id: 'p1', category: 'shoes', price: 50 },
            timestamp: at(1),
            messageId: `${run}-2`,
          },
          {
            type: 'identify',
            userId: user,
            anonymousId: anon,
            traits: { email, phone, firstName: 'Jane', plan: 'gold' },
            timestamp: at(2),
            messageId: `${run}-3`,
          },
          {
            type: 'track',
            userId: user,
            event: 'Order Completed',
            properties: { order_id: `o-${run}`, revenue: 120, currency: 'EUR' },
            timestamp: at(3),
            messageId: `${run}-4`,
          },
        ],
      }),
    });
    expect(res.status).toBe(200);

    // The anonymous product view counts for the customer once the identify stitched the two.
    const merged = await waitForCustomer<Profile>(
      user,
      (p) => p.profile.orders === 1 && p.profile.aggregates.productViews === 1,
    );
    expect(merged.customerId).toBe(customerIdOf(`user:${user}`));
    expect(merged.identities).toEqual({ user: 1, anon: 1, email: 1, phone: 1 });
    const traits = merged.profile.traits as Record<string, unknown>;
    expect(traits.email).toBe('j***@example.com');
    expect(traits.plan).toBe('gold');
    expect(traits.firstName).not.toBe('Jane');
    expect(merged.profile.revenue).toBe(120);

    // The same customer by every identifier it has.
    for (const id of [anon, email, phone, `email:${email.toUpperCase()}`, merged.customerId]) {
      expect((await get(`/v1/customers/${encodeURIComponent(id)}`)).body.customerId, id).toBe(
        merged.customerId,
      );
    }

    // Personal data in clear: admins only.
    expect((await get(`/v1/customers/${user}?reveal=pii`)).status).toBe(403);
    const revealed = await get(`/v1/customers/${user}?reveal=pii`, inject('adminKey'));
    expect((revealed.body.profile as { traits: Record<string, unknown> }).traits).toMatchObject({
      email,
      phone,
      firstName: 'Jane',
    });

    const events = await get(`/v1/customers/${user}/events?limit=10`);
    expect((events.body.items as { messageId: string }[]).map((e) => e.messageId)).toEqual([
      `${run}-4`,
      `${run}-3`,
      `${run}-2`,
      `${run}-1`,
    ]);
    // Properties come back as the object that was sent.
    const order = (events.body.items as { messageId: string; properties?: unknown }[])[0];
    expect(order?.properties).toEqual({ order_id: `o-${run}`, revenue: 120, currency: 'EUR' });

    const graph = await get(`/v1/customers/${user}/identities`);
    const nodes = graph.body.nodes as { type: string; display: string }[];
    expect(nodes.find((n) => n.type === 'email')?.display).toBe('j***@example.com');
    expect(JSON.stringify(graph.body)).not.toContain(email);
    const merge = (
      graph.body.log as { id: string; kind: string; edges: { reason: string; messageId: string }[] }[]
    ).find((e) => e.kind === 'merge' && e.edges.some((x) => x.reason === 'identify'));
    expect(merge?.edges.map((e) => e.messageId)).toContain(`${run}-3`);

    // Undo the stitch: the browsing goes back to the anonymous visitor.
    const unmerge = (key: string) =>
      callApi<{ customers: string[] }>(`/v1/customers/${user}/unmerge`, {
        method: 'POST',
        key,
        body: { mergeId: merge?.id },
      });
    expect((await unmerge(inject('readKey'))).status).toBe(403);
    const undone = await unmerge(inject('adminKey'));
    expect(undone.status).toBe(200);
    expect(undone.body.customers.sort()).toEqual(
      [customerIdOf(`anon:${anon}`), customerIdOf(`user:${user}`)].sort(),
    );
    const visitor = await get(`/v1/customers/${anon}`);
    expect(visitor.body.customerId).toBe(customerIdOf(`anon:${anon}`));
    expect(aggregatesOf(visitor.body)).toMatchObject({ productViews: 1, orders: 0 });
    const buyer = await get(`/v1/customers/${user}`);
    expect(aggregatesOf(buyer.body)).toMatchObject({ productViews: 0, orders: 1 });
  });

  it('answers 404 with a clear body for an unknown customer', async () => {
    const res = await get(`/v1/customers/nobody-${randomUUID()}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      error: 'not_found',
      message: expect.stringContaining('No customer is known by'),
    });
  });
});
