// Bulk imports on the local stack, through every entry: POST /v1/imports (then the same files again,
// counted once), a file dropped in the archive bucket under imports/ (S3 notification -> imports queue ->
// importFile -> report), and the CLI as a user runs it. Each test uses ids of its own run.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { queueUrl } from '../../lib/adapters/sqs/queueUrl.js';
import { createS3, createSqs } from '../../lib/aws/clients.js';
import { ImportReport } from '../../lib/imports/model.js';
import { projectRoot } from '../../lib/projectRoot.js';
import { queueDepth } from '../support/archiveQueues.js';
import { archivedWithPrefix } from '../support/archiveWait.js';
import { testConfig } from '../support/provided.js';
import { callApi, waitForCustomer } from '../support/stackApi.js';

const config = testConfig();
const s3 = createS3(config);
const sqs = createSqs(config);
afterAll(() => {
  s3.destroy();
  sqs.destroy();
});

const url = (path: string) => `${inject('httpUrl')}${path}`;

async function upload(type: 'customers' | 'orders', csv: string) {
  const res = await fetch(url(`/v1/imports?type=${type}`), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${inject('writeKey')}:`).toString('base64')}`,
      'content-type': 'text/csv',
    },
    body: csv,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type Profile = {
  customerId: string;
  identities: Record<string, number>;
  profile: { orders: number; revenue: number; traits: Record<string, unknown> } & Record<string, unknown>;
};

const customer = (id: string) => callApi<Profile>(`/v1/customers/${encodeURIComponent(id)}`);

async function archiveKeys(): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const out = await s3.send(
      new ListObjectsV2Command({ Bucket: config.buckets.archive, Prefix: 'raw/', ContinuationToken: token }),
    );
    n += out.KeyCount ?? 0;
    token = out.NextContinuationToken;
  } while (token);
  return n;
}

/**
 * Waits until the pipeline is idle: the ingest, profiles and imports queues empty and the archive
 * unchanged for 3 s (the archive consumer writes nothing for duplicates). Bounded.
 */
async function pipelineIdle(timeoutMs = 60_000): Promise<void> {
  const queues = await Promise.all(
    [config.queues.ingest, config.queues.profiles, config.queues.imports].map((name) => queueUrl(sqs, name)),
  );
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let since = Date.now();
  while (Date.now() < deadline) {
    const depths = await Promise.all(queues.map((q) => queueDepth(sqs, q)));
    const state = JSON.stringify([depths, await archiveKeys()]);
    if (state !== last) {
      last = state;
      since = Date.now();
    } else if (depths.every((d) => d === 0) && Date.now() - since >= 3_000) {
      return;
    }
    await sleep(500);
  }
  throw new Error(`the pipeline did not settle within ${timeoutMs} ms (queues, archive objects: ${last})`);
}

describe('POST /v1/imports', () => {
  it('imports customers and their orders, and counts nothing twice when the files come again', async () => {
    const run = randomUUID().slice(0, 8);
    const jane = `c-${run}`;
    const janeEmail = `jane.${run}@example.com`;
    const bobEmail = `bob.${run}@example.com`;
    const customers = [
      'Customer ID,E-mail,First Name,Last Name,City,Country,Plan,Signup Date',
      `${jane},${janeEmail},Jane,Doe,Lyon,FR,gold,2023-04-01`,
      `,${bobEmail},Bob,,,,silver,`,
      ',,Nobody,,,,,',
    ].join('\n');
    const orders = [
      'order_id,customer_id,email,order_date,status,sku,price,quantity,currency',
      `o1-${run},${jane},,2024-01-05 10:00,paid,p1,20,2,EUR`,
      `o2-${run},${jane},,2024-02-10,completed,p2,15.5,1,EUR`,
      `o3-${run},,${bobEmail},2024-03-01,shipped,p3,12,1,EUR`,
      `o1-${run},${jane},,2024-01-05 10:00,paid,p4,4.25,2,EUR`,
      `o4-${run},${jane},,2024-02-20,refunded,p5,30,1,EUR`,
      `o5-${run},${jane},,2024-02-21,pending,p6,1,1,EUR`,
    ].join('\n');

    const first = await upload('customers', customers);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ source: 'demo', rows: 3, events: 2, accepted: 2, errorCount: 1 });
    expect(first.body.errors).toEqual([
      { row: 3, field: 'customer_id', code: 'required', reason: expect.any(String) },
    ]);
    const firstOrders = await upload('orders', orders);
    expect(firstOrders.status).toBe(200);
    // o1 (two lines), o2, o3, o4 completed + refunded; o5 pending is not an order yet.
    expect(firstOrders.body).toMatchObject({ rows: 6, skipped: 1, events: 5, accepted: 5, errorCount: 1 });

    // o1: 20×2 + 4.25×2 = 48.5; o2: 15.5; o4: 30 (refunded in full).
    const expected = { orders: 3, revenue: 94, refunds: 30, netRevenue: 64 };
    // The two files' events reach the profiles in separate archive objects, in either order under load:
    // wait for both (the orders and the CRM traits), then check every figure and trait.
    const profile = await waitForCustomer<Profile>(
      jane,
      (p) => p.profile.orders === 3 && Object.keys(p.profile.traits).length > 0,
    );
    expect(profile.profile).toMatchObject(expected);
    expect(profile.profile.traits).toMatchObject({
      email: 'j***@example.com',
      plan: 'gold',
      address: { country: 'FR' },
    });
    expect(profile.profile.traits.firstName).not.toBe('Jane');
    // Bob has no customer id: his e-mail ties his order to him.
    const bob = await waitForCustomer<Profile>(bobEmail, (p) => p.profile.orders === 1);
    expect(bob.profile).toMatchObject({
      orders: 1,
      revenue: 12,
      traits: { plan: 'silver', email: 'b***@example.com' },
    });

    await pipelineIdle();
    const again = [await upload('customers', customers), await upload('orders', orders)];
    expect(again.map((r) => [r.status, r.body.accepted])).toEqual([
      [200, 2],
      [200, 5],
    ]);
    await pipelineIdle();
    expect((await customer(jane)).body.profile).toMatchObject(expected);
    expect((await customer(bobEmail)).body.profile).toMatchObject({ orders: 1, revenue: 12 });
    const archived = (await archivedWithPrefix(config, 'import-order-demo-')).filter((r) =>
      r.message_id.includes(run),
    );
    expect(archived.map((r) => r.message_id).sort()).toEqual(
      [
        `import-order-demo-o1-${run}-completed`,
        `import-order-demo-o2-${run}-completed`,
        `import-order-demo-o3-${run}-completed`,
        `import-order-demo-o4-${run}-completed`,
        `import-order-demo-o4-${run}-refunded`,
      ].sort(),
    );
  });
});

describe('the S3 drop', () => {
  it('imports a file put under imports/<source>/orders/ and writes its report', async () => {
    const run = randomUUID().slice(0, 8);
    const source = `erp-${run}`;
    const user = `u-${run}`;
    const key = `imports/${source}/orders/history ${run}.csv`;
    const csv = [
      'Order No,User ID,Order Date,SKU,Unit Price,Qty',
      `A-${run},${user},2023-11-02,s1,9.99,3`,
      `B-${run},${user},2023-12-24,s2,100,1`,
      `A-${run},${user},2023-11-02,s3,0.03,1`,
      `C-${run},,2023-12-25,s4,1,1`,
    ].join('\n');
    await s3.send(new PutObjectCommand({ Bucket: config.buckets.archive, Key: key, Body: csv }));

    const reportKey = `reports/${key}.json`;
    const deadline = Date.now() + 60_000;
    let report: ImportReport | undefined;
    while (!report) {
      if (Date.now() > deadline) throw new Error(`no report at ${reportKey} within 60 s`);
      const out = await s3
        .send(new GetObjectCommand({ Bucket: config.buckets.archive, Key: reportKey }))
        .catch(() => undefined);
      if (out?.Body) report = ImportReport.parse(JSON.parse(await out.Body.transformToString()));
      else await sleep(500);
    }
    expect(report).toMatchObject({
      type: 'orders',
      source,
      file: key,
      status: 'completed',
      rows: 4,
      events: 2,
      accepted: 2,
      errors: [{ row: 4, field: 'user_id', code: 'required' }],
    });
    // The file held personal data in clear: once its report is written, it is gone.
    const left = await s3.send(new ListObjectsV2Command({ Bucket: config.buckets.archive, Prefix: key }));
    expect(left.Contents ?? []).toEqual([]);
    // A: 9.99×3 + 0.03 = 30; B: 100.
    const profile = await waitForCustomer<Profile>(user, (p) => p.profile.orders === 2);
    expect(profile.profile).toMatchObject({
      orders: 2,
      revenue: 130,
      firstOrderAt: '2023-11-02T00:00:00.000Z',
    });
  });
});

describe('npm run import', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function cli(file: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        'npx',
        [
          'tsx',
          '--env-file=cli/tools.env',
          'cli/import.ts',
          file,
          ...args,
          '--url',
          inject('httpUrl'),
          '--key',
          inject('writeKey'),
        ],
        { cwd: projectRoot(), timeout: 90_000 },
        (error, stdout, stderr) => {
          resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });
  }

  it('sends a file in chunks, prints the totals and the errors by file row, and fails when nothing is imported', async () => {
    dir = await mkdtemp(join(tmpdir(), 'precis-import-'));
    const run = randomUUID().slice(0, 8);
    const customers = join(dir, 'customers.csv');
    await writeFile(
      customers,
      [
        'user_id,email,plan',
        `a-${run},a.${run}@example.com,gold`,
        `b-${run},b.${run}@example.com,silver`,
        ',,orphan',
        `d-${run},d.${run}@example.com,bronze`,
        `e-${run},,`,
      ].join('\n'),
    );
    const ok = await cli(customers, '--type', 'customers', '--chunk-rows', '2');
    expect(ok.stderr).not.toMatch(/error/i);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Imported customers from customers.csv: 5 rows in 3 requests');
    expect(ok.stdout).toContain('events 4, accepted 4, rejected 0 (quarantined), rows skipped 1, errors 1');
    expect(ok.stdout).toMatch(/row 3 {2}user_id {2}required: /);
    await waitForCustomer<Profile>(`d-${run}`, (p) => p.profile.traits.plan === 'bronze');

    // Orders: an order's lines far apart and chunks of 2 rows; it still counts whole, once.
    const orders = join(dir, 'orders.ndjson');
    const line = (order: string, sku: string, price: number) =>
      JSON.stringify({ order_id: `${order}-${run}`, user_id: `a-${run}`, date: '2024-06-01', sku, price });
    await writeFile(
      orders,
      [line('X', 'x1', 10), line('Y', 'y1', 5), line('Z', 'z1', 1), line('X', 'x2', 2.5)].join('\n'),
    );
    const ordered = await cli(orders, '--type', 'orders', '--chunk-rows', '2');
    expect(ordered.code).toBe(0);
    expect(ordered.stdout).toContain('events 3, accepted 3');
    const a = await waitForCustomer<Profile>(`a-${run}`, (p) => p.profile.orders === 3);
    expect(a.profile.revenue).toBe(18.5);

    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'name,plan\nNobody,gold\n');
    const failed = await cli(bad, '--type', 'customers');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('Nothing was imported.');
  });
});
