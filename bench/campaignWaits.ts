// npm run bench:waits [-- --waits N] [--cancelled F] [--json]
// What pending waits cost: the real waits adapter (lib/adapters/dynamodb/waitsTable.ts) on the DynamoDB
// emulator, driven by the trigger engine as the activity consumer drives it. N customers add to a cart
// (one wait each; one in ten adds again during the wait, which opens nothing), a share F of them order
// within the hour (their wait is cancelled), and the minute sweep fires the rest. Every call is counted
// with the units it costs by DynamoDB's formula, the index included (ProjectionType ALL: a pending row
// is written to the `due` index on open and deleted from it when it closes), then scaled to 1,000,000
// waits and priced with bench/cost/prices.ts. docs/benchmarks.md and docs/cost.md ("Pending waits").
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SHARDS, waitsTable } from '../lib/adapters/dynamodb/waitsTable.js';
import { createDynamoDb } from '../lib/aws/clients.js';
import type { Activity } from '../lib/campaigns/activity.js';
import { onActivity } from '../lib/campaigns/triggers.js';
import { applyCommands, CLOSED_RETENTION_DAYS, sweepDueWaits } from '../lib/campaigns/waits.js';
import { parseConfig } from '../lib/config.js';
import { startProvisionedEmulators } from '../local/provision.js';
import { localSecrets } from '../local/stack.js';
import { abandonedCart } from '../test/support/campaignFixtures.js';
import { machine } from './common.js';
import { plainItemSize, readUnits, writeUnits } from './cost/counting.js';
import { ASSUMED, GB, PRICES } from './cost/prices.js';

const { values } = parseArgs({
  options: {
    waits: { type: 'string', default: '2000' },
    cancelled: { type: 'string', default: '0.9' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(values.waits);
const CANCELLED = Number(values.cancelled);
const MIN = 60_000;
const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

interface Count {
  calls: number;
  wru: number;
  rru: number;
  /** Index writes (on open, and the deletion when a row closes). */
  indexWru: number;
}
type Phase = 'open' | 'second add' | 'cancel' | 'sweep (fire)' | 'sweep (idle minute)';
const counts = new Map<Phase, Count>();
let phase: Phase = 'open';
const count = () => {
  let c = counts.get(phase);
  if (c === undefined) {
    c = { calls: 0, wru: 0, rru: 0, indexWru: 0 };
    counts.set(phase, c);
  }
  return c;
};
/** Size of each row as last written: an update costs the larger of the old and new item. */
const rowSize = new Map<string, number>();
const rowKey = (key: Record<string, unknown>) => `${key.pk}\u0000${key.sk}`;
let storedBytes = 0;

/** The document client the adapter gets: every call passes through and is priced. */
function counting(db: DynamoDBDocumentClient): DynamoDBDocumentClient {
  const send = async (command: unknown) => {
    const c = count();
    c.calls++;
    try {
      const out = (await db.send(command as never)) as { Items?: Record<string, unknown>[]; Item?: unknown };
      price(command, out, c, true);
      return out;
    } catch (error) {
      // A refused conditional write still costs its units.
      price(command, undefined, c, false);
      throw error;
    }
  };
  return { send } as unknown as DynamoDBDocumentClient;
}

function price(
  command: unknown,
  out: { Items?: Record<string, unknown>[]; Item?: unknown } | undefined,
  c: Count,
  ok: boolean,
) {
  if (command instanceof PutCommand) {
    const item = command.input.Item ?? {};
    const size = plainItemSize(item);
    const key = rowKey(item);
    c.wru += writeUnits(Math.max(size, rowSize.get(key) ?? 0));
    if (ok && item.dueBucket !== undefined) {
      c.indexWru += writeUnits(size);
      rowSize.set(key, size);
      storedBytes = Math.max(storedBytes, size);
    }
  } else if (command instanceof UpdateCommand) {
    const size = rowSize.get(rowKey(command.input.Key ?? {})) ?? 0;
    c.wru += writeUnits(size);
    if (ok) c.indexWru += writeUnits(size); // REMOVE dueBucket deletes the index entry
  } else if (command instanceof QueryCommand) {
    const bytes = (out?.Items ?? []).reduce((n, item) => n + plainItemSize(item), 0);
    c.rru += readUnits(bytes, command.input.ConsistentRead === true);
  } else if (command instanceof GetCommand) {
    c.rru += readUnits(
      out?.Item ? plainItemSize(out.Item as Record<string, unknown>) : 0,
      command.input.ConsistentRead === true,
    );
  }
}

const cart = abandonedCart;

const activity = (
  customerId: string,
  event: string,
  at: number,
  properties: Activity['properties'],
): Activity => ({
  v: 1,
  customerId,
  messageId: randomUUID(),
  type: 'track',
  event,
  timestamp: iso(at),
  receivedAt: iso(at),
  properties,
});

async function main() {
  const { emulators, env } = await startProvisionedEmulators({
    PRECIS_LOG_LEVEL: 'SILENT',
    ...localSecrets(),
  });
  const config = parseConfig(env);
  const db = createDynamoDb(config);
  try {
    const waits = waitsTable(counting(db), config.tables.waits);
    const started = performance.now();
    phase = 'sweep (idle minute)';
    await sweepDueWaits(T0, { waits }); // the schedule runs before the first wait
    const customers = Array.from({ length: N }, (_, i) => `cus_bench_${i}_${randomUUID().slice(0, 8)}`);
    const feed = (a: Activity) =>
      applyCommands(onActivity([cart], a, Date.parse(a.receivedAt)), waits, Date.parse(a.receivedAt));
    const run = async <T>(items: T[], f: (item: T, i: number) => Promise<unknown>) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = next++; i < items.length; i = next++) await f(items[i] as T, i);
        }),
      );
    };
    phase = 'open';
    await run(customers, (c, i) =>
      feed(activity(c, 'Product Added', T0 + (i % 60) * 1000, { cart_id: `cart-${i}`, product_id: 'p-1' })),
    );
    phase = 'second add';
    await run(
      customers.filter((_, i) => i % 10 === 0),
      (c) =>
        feed(
          activity(c, 'Product Added', T0 + 20 * MIN, {
            cart_id: `cart-${customers.indexOf(c)}`,
            product_id: 'p-2',
          }),
        ),
    );
    phase = 'cancel';
    const ordering = customers.filter((_, i) => i < Math.round(N * CANCELLED));
    await run(ordering, (c) =>
      feed(activity(c, 'Order Completed', T0 + 30 * MIN, { order_id: `o-${c}`, revenue: 42 })),
    );
    // Idle minutes after the first hour of the table: what the schedule costs when nothing is due.
    phase = 'sweep (idle minute)';
    const before = { ...(counts.get(phase) ?? { calls: 0, rru: 0 }) };
    for (let m = 11; m <= 15; m++) await sweepDueWaits(T0 + m * MIN, { waits });
    const idleRru = ((counts.get(phase)?.rru ?? 0) - before.rru) / 5;
    const idleCalls = ((counts.get(phase)?.calls ?? 0) - before.calls) / 5;
    phase = 'sweep (fire)';
    let fired = 0;
    for (let more = true; more; ) {
      const swept = await sweepDueWaits(T0 + 61 * MIN, { waits, limit: 500 });
      fired += swept.fired.length;
      more = swept.more;
    }
    const seconds = (performance.now() - started) / 1000;
    report({ fired, seconds, idleRru, idleCalls });
  } finally {
    db.destroy();
    await emulators.stop();
  }
}

function report(run: { fired: number; seconds: number; idleRru: number; idleCalls: number }) {
  const scale = 1_000_000 / N;
  const rows = [...counts.entries()]
    .filter(([p]) => p !== 'sweep (idle minute)')
    .map(([p, c]) => ({
      phase: p,
      calls: Math.round(c.calls * scale),
      wru: Math.round(c.wru * scale),
      indexWru: Math.round(c.indexWru * scale),
      rru: Math.round(c.rru * scale),
    }));
  const wru = rows.reduce((n, r) => n + r.wru + r.indexWru, 0);
  const rru = rows.reduce((n, r) => n + r.rru, 0);
  // Every row is kept until CLOSED_RETENTION_DAYS after it closes: a month of rows at any time for a
  // steady million a month. Pending rows are also in the index, for an hour: negligible.
  const rowBytes = storedBytes + ASSUMED.dynamoItemOverheadBytes;
  const storageGbMonth = (1_000_000 * rowBytes * (CLOSED_RETENTION_DAYS / 30)) / GB;
  const dollars = {
    writes: wru * PRICES.dynamoWrite.usd,
    reads: rru * PRICES.dynamoRead.usd,
    storage: storageGbMonth * PRICES.dynamoStorage.usd,
    idleSweeps: run.idleRru * 60 * 24 * 30 * PRICES.dynamoRead.usd,
  };
  const result = {
    machine: machine(),
    waits: N,
    cancelled: CANCELLED,
    fired: run.fired,
    seconds: run.seconds,
    perMillion: rows,
    rowBytes,
    storageGbMonth,
    idleSweepPerMinute: { calls: run.idleCalls, rru: run.idleRru },
    dollars,
    total: dollars.writes + dollars.reads + dollars.storage,
    prices: { region: PRICES.region, wru: PRICES.dynamoWrite.usd * 1e6, rru: PRICES.dynamoRead.usd * 1e6 },
    shards: SHARDS,
  };
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(
    `bench:waits — ${N} waits, ${Math.round(CANCELLED * 100)} % cancelled, ${run.fired} fired, ${run.seconds.toFixed(1)} s (${result.machine})`,
  );
  console.log('per 1,000,000 waits:');
  console.log('phase                 calls       WRU  index WRU       RRU');
  for (const r of rows)
    console.log(
      `${r.phase.padEnd(20)} ${String(r.calls).padStart(9)} ${String(r.wru).padStart(9)} ${String(r.indexWru).padStart(10)} ${String(r.rru).padStart(9)}`,
    );
  console.log(
    `row ${rowBytes} B with overhead; ${storageGbMonth.toFixed(3)} GB-month kept (${CLOSED_RETENTION_DAYS} days after closing)`,
  );
  console.log(
    `idle sweep: ${run.idleCalls.toFixed(0)} calls, ${run.idleRru.toFixed(1)} RRU a minute ($${dollars.idleSweeps.toFixed(3)} a month)`,
  );
  console.log(
    `$ per million waits (${PRICES.region}): writes ${dollars.writes.toFixed(3)}, reads ${dollars.reads.toFixed(3)}, storage ${dollars.storage.toFixed(3)} = ${result.total.toFixed(2)}`,
  );
}

await main();
