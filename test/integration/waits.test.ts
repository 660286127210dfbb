// Waits on the DynamoDB emulator through the real adapter, driven by the trigger engine with a
// controllable clock (no sleeps): one wait per cart, an order cancels it, two sweeps fire a wait once,
// a sweep that missed hours catches up, deferred sends. Each test has a fresh table of the provisioned
// table's schema (serverless.yml), so the sweep's watermark starts clean.
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { SHARDS, WAITS_DUE_INDEX, waitsTable } from '../../lib/adapters/dynamodb/waitsTable.js';
import { memoryWaitStore } from '../../lib/adapters/memory/waitStore.js';
import { createDynamoDb, createDynamoDbClient } from '../../lib/aws/clients.js';
import type { Activity } from '../../lib/campaigns/activity.js';
import { onActivity } from '../../lib/campaigns/triggers.js';
import { applyCommands, deferredSend, sweepDueWaits, type WaitStore } from '../../lib/campaigns/waits.js';
import { createActiveTable } from '../../local/provision.js';
import { abandonedCart } from '../support/campaignFixtures.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const raw = createDynamoDbClient(config);
const db = createDynamoDb(config);
const created: string[] = [];

afterAll(async () => {
  await Promise.all(created.map((t) => raw.send(new DeleteTableCommand({ TableName: t })).catch(() => {})));
  db.destroy();
  raw.destroy();
});

/** A new table with the keys and index of the provisioned waits table. */
async function freshTable(): Promise<{ table: string; waits: WaitStore }> {
  const { Table } = await raw.send(new DescribeTableCommand({ TableName: config.tables.waits }));
  const table = `${config.tables.waits}-${randomUUID().slice(0, 8)}`;
  await createActiveTable(raw, {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: Table?.AttributeDefinitions,
    KeySchema: Table?.KeySchema,
    GlobalSecondaryIndexes: Table?.GlobalSecondaryIndexes?.map((g) => ({
      IndexName: g.IndexName,
      KeySchema: g.KeySchema,
      Projection: g.Projection,
    })),
  });
  created.push(table);
  // A new table's first sweep looks back one hour (each hour is a query per shard).
  return { table, waits: waitsTable(db, table, { firstLookbackHours: 1 }) };
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-12-06T10:17:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

const cart = abandonedCart;

function event(
  customerId: string,
  name: string,
  at: number,
  properties: Activity['properties'] = {},
): Activity {
  return {
    v: 1,
    customerId,
    messageId: randomUUID(),
    type: 'track',
    event: name,
    timestamp: iso(at),
    receivedAt: iso(at),
    properties,
  };
}

/** The activity consumer's path at the activity's arrival time. */
const feed = (waits: WaitStore, a: Activity) =>
  applyCommands(onActivity([cart], a, Date.parse(a.receivedAt)), waits, Date.parse(a.receivedAt));

async function pendingInIndex(table: string): Promise<number> {
  let n = 0;
  for (const h of [T0, T0 + HOUR])
    for (let shard = 0; shard < SHARDS; shard++) {
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: WAITS_DUE_INDEX,
          KeyConditionExpression: 'dueBucket = :b',
          ExpressionAttributeValues: { ':b': `${iso(h).slice(0, 13)}#${String(shard).padStart(2, '0')}` },
        }),
      );
      n += out.Count ?? 0;
    }
  return n;
}

describe('waits table', () => {
  it('an add opens one wait, a second add opens none, an order cancels it, the sweep after it yields nothing', async () => {
    const { table, waits } = await freshTable();
    const customer = `cus_${randomUUID()}`;
    expect(await feed(waits, event(customer, 'Product Added', T0, { cart_id: 'c1' }))).toMatchObject({
      opened: 1,
    });
    expect(
      await feed(waits, event(customer, 'Product Added', T0 + 20 * MIN, { cart_id: 'c1' })),
    ).toMatchObject({
      opened: 0,
      alreadyOpen: 1,
    });
    expect(await pendingInIndex(table)).toBe(1);
    expect(await feed(waits, event(customer, 'Order Completed', T0 + 40 * MIN))).toMatchObject({
      cancelled: 1,
    });
    // The cancelled row left the index: the sweep reads nothing.
    expect(await pendingInIndex(table)).toBe(0);
    expect(await sweepDueWaits(T0 + 61 * MIN, { waits })).toMatchObject({ fired: [], due: 0, lost: 0 });
    const row = await db.send(
      new GetCommand({
        TableName: table,
        Key: { pk: customer, sk: 'w#abandoned-cart#cart:c1' },
        ConsistentRead: true,
      }),
    );
    expect(row.Item).toMatchObject({ status: 'cancelled', closedAt: iso(T0 + 40 * MIN) });
    expect(row.Item?.dueBucket).toBeUndefined();
    expect(row.Item?.expiresAt).toBe(Math.floor((T0 + 40 * MIN) / 1000) + 30 * 86_400);
  });

  it('an uncancelled wait yields exactly one candidate when two sweeps run on the same rows', async () => {
    const { waits } = await freshTable();
    const customers = Array.from({ length: 12 }, () => `cus_${randomUUID()}`);
    for (const c of customers) await feed(waits, event(c, 'Product Added', T0, { cart_id: 'k' }));
    const now = T0 + HOUR + MIN;
    const [a, b] = await Promise.all([sweepDueWaits(now, { waits }), sweepDueWaits(now, { waits })]);
    const fired = [...(a?.fired ?? []), ...(b?.fired ?? [])];
    expect(fired.map((f) => f.candidate.customerId).sort()).toEqual([...customers].sort());
    expect(fired[0]?.candidate).toMatchObject({
      campaignId: 'abandoned-cart',
      triggeredAt: iso(T0),
      context: { event: 'Product Added', properties: { cart_id: 'k' } },
    });
    // Firing a fired wait again acts not.
    const row = fired[0];
    if (row === undefined) throw new Error('no candidate');
    expect(await waits.fire({ ...row.candidate, waitKey: 'cart:k' }, now + MIN)).toBe(false);
    expect((await sweepDueWaits(now + 2 * MIN, { waits })).fired).toEqual([]);
  });

  it('a sweep that missed three hours catches up, earliest first, and then moves its watermark', async () => {
    const { table, waits } = await freshTable();
    const customers = [0, 1, 2, 3].map((i) => `cus_${i}_${randomUUID()}`);
    // Due at T0+1h, +2h, +3h and +3h30: hours the sweep never ran in.
    for (const [i, c] of customers.entries())
      await feed(waits, event(c, 'Product Added', T0 + Math.min(i, 2.5) * HOUR));
    expect((await sweepDueWaits(T0, { waits })).fired).toEqual([]);
    const swept = await sweepDueWaits(T0 + 4 * HOUR, { waits });
    expect(swept.fired.map((f) => f.candidate.customerId)).toEqual(customers);
    expect(swept.lost).toBe(0);
    const mark = await db.send(
      new GetCommand({ TableName: table, Key: { pk: '#sweep', sk: '#sweep' }, ConsistentRead: true }),
    );
    // The next sweep finds the caught-up hours empty and moves past them (not past the running hour).
    await sweepDueWaits(T0 + 4 * HOUR + 15 * MIN, { waits });
    const after = await db.send(
      new GetCommand({ TableName: table, Key: { pk: '#sweep', sk: '#sweep' }, ConsistentRead: true }),
    );
    expect(String(after.Item?.hour) > String(mark.Item?.hour)).toBe(true);
    expect(after.Item?.hour).toBe(iso(T0 + 4 * HOUR).slice(0, 13));
  });

  it('a late event whose wait is already over fires at the next sweep, not behind the watermark', async () => {
    const { waits } = await freshTable();
    const customer = `cus_${randomUUID()}`;
    await sweepDueWaits(T0 + 5 * HOUR, { waits }); // the watermark is near T0+5h
    await sweepDueWaits(T0 + 5 * HOUR + 20 * MIN, { waits });
    // An add that happened at T0+2h arrives at T0+5h30: its hour-long wait ended at T0+3h.
    const late = { ...event(customer, 'Product Added', T0 + 2 * HOUR), receivedAt: iso(T0 + 5.5 * HOUR) };
    expect(await feed(waits, late)).toMatchObject({ opened: 1 });
    const swept = await sweepDueWaits(T0 + 5.5 * HOUR + MIN, { waits });
    expect(swept.fired.map((f) => f.candidate.customerId)).toEqual([customer]);
  });

  it('cancels only waits the event cancels and that opened before it; a deferred send is cancelled by nothing', async () => {
    const { waits } = await freshTable();
    const customer = `cus_${randomUUID()}`;
    await sweepDueWaits(T0, { waits }); // the schedule runs from the table's first minute
    await feed(waits, event(customer, 'Product Added', T0, { cart_id: 'a' }));
    await feed(waits, event(customer, 'Product Added', T0 + 10 * MIN, { cart_id: 'b' }));
    const deferred = deferredSend(
      {
        campaignId: 'abandoned-cart',
        customerId: customer,
        triggerKey: 'cart:z:m0',
        triggeredAt: iso(T0 - HOUR),
        context: { constructor: 'client text', __proto__x: 1 },
      },
      T0 + 2 * HOUR,
    );
    expect(await waits.open(deferred, T0)).toBe('opened');
    // An order placed between the two adds (delivered now) cancels the first cart only.
    const between = await waits.cancel(
      {
        customerId: customer,
        event: 'Order Completed',
        campaignIds: ['abandoned-cart'],
        before: iso(T0 + 5 * MIN),
      },
      T0 + 11 * MIN,
    );
    expect(between).toBe(1);
    const swept = await sweepDueWaits(T0 + 3 * HOUR, { waits });
    // In the order of what triggered them: the deferred send's trigger came first.
    expect(swept.fired.map((f) => [f.kind, f.candidate.triggerKey.split(':').slice(0, 2).join(':')])).toEqual(
      [
        ['deferred', 'cart:z'],
        ['wait', 'cart:b'],
      ],
    );
    expect(swept.fired[0]?.candidate.context).toEqual({ constructor: 'client text', __proto__x: 1 });
  });

  it('a sweep reads at most its limit and says more are due', async () => {
    const { waits } = await freshTable();
    for (let i = 0; i < 7; i++)
      await feed(waits, event(`cus_${i}_${randomUUID()}`, 'Product Added', T0 + i * MIN));
    const first = await sweepDueWaits(T0 + 2 * HOUR, { waits, limit: 5 });
    expect([first.fired.length, first.more]).toEqual([5, true]);
    const second = await sweepDueWaits(T0 + 2 * HOUR, { waits, limit: 5 });
    expect([second.fired.length, second.more]).toEqual([2, false]);
  });
});

describe('the memory store the back-test uses', () => {
  const step = fc.record({
    customer: fc.constantFrom('c0', 'c1', 'c2'),
    kind: fc.constantFrom('add', 'add', 'order'),
    cart: fc.constantFrom('a', 'b', undefined),
    minute: fc.integer({ min: 0, max: 240 }),
    /** Minutes between the event and its arrival (late events, out of order). */
    delay: fc.integer({ min: 0, max: 90 }),
  });

  it('fires what the DynamoDB store fires, sweep by sweep, for any events in any order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const { waits: table } = await freshTable();
        const memory = memoryWaitStore();
        const tag = randomUUID().slice(0, 8);
        const arrivals = steps
          .map((s, i) => {
            const at = T0 + s.minute * MIN;
            const a = event(
              `cus_${s.customer}_${tag}`,
              s.kind === 'add' ? 'Product Added' : 'Order Completed',
              at,
              s.kind === 'add' && s.cart !== undefined ? { cart_id: s.cart } : {},
            );
            return { ...a, messageId: `m${i}`, receivedAt: iso(at + s.delay * MIN) };
          })
          .sort((x, y) => (x.receivedAt < y.receivedAt ? -1 : x.receivedAt > y.receivedAt ? 1 : 0));
        const firedBy = (store: WaitStore) => async (now: number) =>
          (await sweepDueWaits(now, { waits: store })).fired
            .map((f) => `${f.candidate.customerId}|${f.candidate.triggerKey}`)
            .sort();
        let next = 0;
        for (let now = T0; now <= T0 + 6 * HOUR; now += 20 * MIN) {
          for (; next < arrivals.length && Date.parse(arrivals[next]?.receivedAt ?? '') <= now; next++) {
            const a = arrivals[next] as Activity;
            const commands = onActivity([cart], a, Date.parse(a.receivedAt));
            expect(await applyCommands(commands, table, Date.parse(a.receivedAt))).toEqual(
              await applyCommands(commands, memory, Date.parse(a.receivedAt)),
            );
          }
          expect(await firedBy(table)(now)).toEqual(await firedBy(memory)(now));
        }
      }),
      { numRuns: 8 },
    );
    // Eight fresh tables and a few hundred calls each: minutes on a loaded 2-core machine.
  }, 240_000);
});
