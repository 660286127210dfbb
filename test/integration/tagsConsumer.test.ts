// The tags consumer's use case against the real tags table (dynalite): a customer evaluated, stored and
// listed; nothing written when nothing changed; a tag dropped from the record and the index when the
// customer no longer earns it; merged-away customers' tags cleared; and a failed write not swallowed, the
// redelivery finishing the work. Customers are real profile views built from events by the reducer.
import { afterAll, describe, expect, it } from 'vitest';
import { tagsTable } from '../../lib/adapters/dynamodb/tagsTable.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import type { Recipient, RecipientReader } from '../../lib/campaigns/dispatch.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { mergePartials } from '../../lib/profiles/merge.js';
import { emptyPartial } from '../../lib/profiles/partial.js';
import { applyObject } from '../../lib/profiles/reduce.js';
import { customerView } from '../../lib/profiles/view.js';
import { evaluateCustomers, type TagDeps } from '../../lib/tags/consume.js';
import { TagDefinition } from '../../lib/tags/model.js';
import type { CustomerTagStore } from '../../lib/tags/ports.js';
import { newId } from '../support/archiveFixtures.js';
import { testConfig } from '../support/provided.js';
import { normalizedEvent } from '../unit/factories.js';

const config = testConfig();
const dynamo = createDynamoDb(config);
afterAll(() => dynamo.destroy());
const table = tagsTable(dynamo, config.tables.tags);

const NOW = Date.parse('2026-12-08T12:00:00.000Z');
const run = newId('t')
  .toLowerCase()
  .replace(/[^a-z0-9]/g, '')
  .slice(-10);
const CART = `cart-${run}`;

let seq = 0;
function recipient(customerId: string, events: Partial<NormalizedEvent>[]): Recipient {
  const normalized = events.map((e) =>
    normalizedEvent({
      messageId: `${run}-${++seq}`,
      userId: customerId,
      timestamp: new Date(NOW - 3_600_000).toISOString(),
      ...e,
    }),
  );
  const partial = applyObject(
    emptyPartial(`user:${customerId}`),
    normalized,
    `raw/${run}-${seq}`,
    NOW,
  ).partial;
  return { customerId, view: customerView(mergePartials([partial]), NOW), addresses: [] };
}
const add = { event: 'Product Added', properties: { product_id: 'sku-1', quantity: 1, price: 10 } };
const remove = { event: 'Product Removed', properties: { product_id: 'sku-1', quantity: 1 } };

/** Who each id is now: a customer, or (merged) another customer. */
function reader(people: Map<string, Recipient>): RecipientReader {
  return { read: async (id) => people.get(id) };
}

function deps(people: Map<string, Recipient>, overrides: Partial<TagDeps> = {}): TagDeps {
  let clock = NOW;
  return {
    recipients: reader(people),
    definitions: table,
    store: table,
    absorbed: async () => [],
    // Each evaluation a millisecond later than the one before.
    now: () => ++clock,
    ...overrides,
  };
}

const cartTag = TagDefinition.parse({
  id: CART,
  name: 'Cart holder',
  kind: 'behavior',
  rule: { type: 'match', when: [{ kind: 'metric', metric: 'cartItems', op: 'gt', value: 0 }] },
});

describe('evaluateCustomers', () => {
  it('stores and lists what a customer earns, writes nothing when nothing changed, drops what they lose', async () => {
    await table.putDefinition({ ...cartTag, version: 1, updatedAt: new Date(NOW).toISOString() });
    const id = `cus_${run}a`;
    const people = new Map([[id, recipient(id, [add])]]);
    const first = await evaluateCustomers({ origin: 'activity', customerIds: [id] }, deps(people));
    expect(first).toMatchObject({ customers: 1, changed: 1 });
    const stored = await table.tagsOf(id);
    expect(stored?.tags.find((t) => t.tag === CART)).toMatchObject({
      value: 'true',
      reasons: ['cartItems 1 (gt 0)'],
    });
    expect((await table.customersWith(CART, { limit: 10 })).items.map((c) => c.customerId)).toEqual([id]);

    // The same customer again (a redelivery, the nightly pass): nothing to write.
    const again = await evaluateCustomers({ origin: 'run', customerIds: [id, id] }, deps(people));
    expect(again).toMatchObject({ customers: 1, changed: 0 });
    expect((await table.tagsOf(id))?.evaluatedAt).toBe(stored?.evaluatedAt);

    people.set(id, recipient(id, [add, remove]));
    expect(await evaluateCustomers({ origin: 'activity', customerIds: [id] }, deps(people))).toMatchObject({
      changed: 1,
    });
    expect((await table.tagsOf(id))?.tags.find((t) => t.tag === CART)).toBeUndefined();
    expect((await table.customersWith(CART, { limit: 10 })).items).toEqual([]);
  });

  it('clears the tags of a customer merged into another, and of those the merge log names on activity', async () => {
    const gone = `cus_${run}gone`;
    const absorbed = `cus_${run}absorbed`;
    const survivor = `cus_${run}survivor`;
    const people = new Map([
      [gone, recipient(gone, [add])],
      [absorbed, recipient(absorbed, [add])],
    ]);
    await evaluateCustomers({ origin: 'activity', customerIds: [gone, absorbed] }, deps(people));
    expect(await table.tagsOf(gone)).toBeDefined();
    // Both merged into the survivor: `gone` is named again and resolves to it; `absorbed` only the merge log knows.
    const merged = recipient(survivor, [add]);
    people.set(gone, merged);
    people.set(survivor, merged);
    people.delete(absorbed);
    // The nightly pass does not read the merge log.
    await evaluateCustomers(
      { origin: 'run', customerIds: [survivor] },
      deps(people, { absorbed: async () => [absorbed] }),
    );
    expect(await table.tagsOf(absorbed)).toBeDefined();
    const outcome = await evaluateCustomers(
      { origin: 'activity', customerIds: [gone] },
      deps(people, { absorbed: async (id) => (id === survivor ? [gone, absorbed] : []) }),
    );
    expect(outcome.removed).toBe(2);
    expect(await table.tagsOf(gone)).toBeUndefined();
    expect(await table.tagsOf(absorbed)).toBeUndefined();
    const listed = (await table.customersWith(CART, { limit: 100 })).items.map((c) => c.customerId);
    expect(listed).toContain(survivor);
    expect(listed).not.toContain(gone);
    expect(listed).not.toContain(absorbed);
  });

  it('does not swallow a failed write; the redelivered message finishes the work', async () => {
    const id = `cus_${run}fault`;
    const people = new Map([[id, recipient(id, [add])]]);
    let failures = 1;
    const flaky: CustomerTagStore = {
      ...table,
      replace: async (previous, next) => {
        if (failures-- > 0) throw new Error('ProvisionedThroughputExceededException');
        return table.replace(previous, next);
      },
    };
    await expect(
      evaluateCustomers({ origin: 'activity', customerIds: [id] }, deps(people, { store: flaky })),
    ).rejects.toThrow('ProvisionedThroughputExceededException');
    expect(await table.tagsOf(id)).toBeUndefined();
    expect(
      await evaluateCustomers({ origin: 'activity', customerIds: [id] }, deps(people, { store: flaky })),
    ).toMatchObject({ changed: 1 });
    expect((await table.customersWith(CART, { limit: 100 })).items.map((c) => c.customerId)).toContain(id);
  });

  it('keeps since when another evaluation was stored after this one read (compare-and-set, read again)', async () => {
    const id = `cus_${run}race`;
    const people = new Map([[id, recipient(id, [add])]]);
    await evaluateCustomers({ origin: 'activity', customerIds: [id] }, deps(people));
    const first = (await table.tagsOf(id))?.tags.find((t) => t.tag === CART);
    expect(first).toBeDefined();
    // A concurrent evaluation that read before the first was stored (it saw no record), with new reasons.
    people.set(id, recipient(id, [add, add]));
    let stale = true;
    const racing: CustomerTagStore = {
      ...table,
      tagsOf: async (customerId) => {
        if (stale) {
          stale = false;
          return undefined;
        }
        return table.tagsOf(customerId);
      },
    };
    const later = deps(people, { store: racing, now: () => NOW + 60_000 });
    expect(await evaluateCustomers({ origin: 'run', customerIds: [id] }, later)).toMatchObject({
      changed: 1,
    });
    const tag = (await table.tagsOf(id))?.tags.find((t) => t.tag === CART);
    expect(tag?.reasons).toEqual(['cartItems 2 (gt 0)']);
    expect(tag?.since).toBe(first?.since);
  });

  it('gives nothing for a disabled tag, and takes it away from those who had it', async () => {
    const id = `cus_${run}off`;
    const people = new Map([[id, recipient(id, [add])]]);
    const off = TagDefinition.parse({ ...cartTag, id: `off-${run}` });
    await table.putDefinition({ ...off, version: 1, updatedAt: new Date(NOW).toISOString() });
    await evaluateCustomers({ origin: 'activity', customerIds: [id] }, deps(people));
    expect((await table.tagsOf(id))?.tags.map((t) => t.tag)).toContain(off.id);
    await table.putDefinition({ ...off, enabled: false, version: 2, updatedAt: new Date(NOW).toISOString() });
    await evaluateCustomers({ origin: 'run', customerIds: [id] }, deps(people));
    expect((await table.tagsOf(id))?.tags.map((t) => t.tag)).not.toContain(off.id);
    expect((await table.customersWith(off.id, { limit: 10 })).items).toEqual([]);
  });
});
