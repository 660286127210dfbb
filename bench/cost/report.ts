// The cost benchmark's bill: the worker's counts scaled to a million events, priced and printed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import { OSLS_BIN, PROJECT_ROOT } from '../../local/service.js';
import { percentile } from '../common.js';
import type { Figures, OpFigures } from './counting.js';
import { ASSUMED, GB, MB, PRICES } from './prices.js';

// ---------------------------------------------------------------------------------------------------
// In the parent: serverless.yml's settings, then the bill of what the worker counted.

export const Printed = z.object({
  provider: z
    .object({ memorySize: z.number().default(1024), architecture: z.string().default('x86_64') })
    .loose(),
  functions: z.record(
    z.string(),
    z
      .object({
        memorySize: z.number().optional(),
        events: z.array(z.record(z.string(), z.unknown())).default([]),
      })
      .loose(),
  ),
  resources: z.object({
    Resources: z.record(
      z.string(),
      z.object({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).default({}) }),
    ),
  }),
});
export type Printed = z.infer<typeof Printed>;

/** serverless.yml as deployed (memory, timeouts and resources are the same for every stage). */
export async function printedService(): Promise<Printed> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [OSLS_BIN, 'print', '--stage', 'local', '--format', 'json'],
    { cwd: PROJECT_ROOT, maxBuffer: 16 * MB },
  );
  return Printed.parse(JSON.parse(stdout));
}

export function settingsOf(p: Printed) {
  const settings: Record<string, { memoryMb: number; batchSize: number }> = {};
  for (const [name, fn] of Object.entries(p.functions)) {
    const sqs = fn.events.map((e) => e.sqs as { batchSize?: number } | undefined).find(Boolean);
    settings[name] = {
      memoryMb: fn.memorySize ?? p.provider.memorySize,
      batchSize: sqs?.batchSize ?? 10,
    };
  }
  return settings;
}

export interface Line {
  readonly group: string;
  readonly what: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

/** Sums a field over the counted calls that `match` (caller, service, operation). */
export function sumOps(
  f: Figures,
  match: (caller: string, service: string, op: string) => boolean,
  field: keyof OpFigures,
) {
  let n = 0;
  for (const [k, v] of Object.entries(f.ops)) {
    const parts = k.split(' ');
    const opName = parts.pop() ?? '';
    const service = parts.pop() ?? '';
    if (match(parts.join(' '), service, opName)) n += v[field];
  }
  return n;
}

/**
 * The bill of the counted figures scaled to a million events. Lambda is billed by the measured wall time
 * of each invocation (`cpu`: by its CPU time instead, a lower bound that leaves out waiting on storage).
 */
export function bill(
  f: Figures,
  p: Printed,
  cpu = false,
): { perMillion: Line[]; storage: Line[]; idle: Line[]; scale: number } {
  const scale = 1e6 / f.events.sent;
  return { perMillion: perMillion(f, p, cpu, scale), storage: storage(f, p, scale), idle: idle(p), scale };
}

/** Bytes CloudWatch ingests: what the functions logged, and Lambda's own lines per invocation. */
export function logBytesOf(f: Figures): number {
  const invocations = Object.values(f.functions).reduce((n, fn) => n + fn.invocations, 0);
  return (
    Object.values(f.functions).reduce((n, fn) => n + fn.logBytes, 0) +
    invocations * ASSUMED.platformLogBytesPerInvocation
  );
}

export function perMillion(f: Figures, p: Printed, cpu: boolean, scale: number): Line[] {
  const settings = settingsOf(p);
  const perMillion: Line[] = [];
  const add = (group: string, what: string, quantity: number, unit: string, price: number) =>
    perMillion.push({ group, what, quantity, unit, usd: quantity * price });

  add('API Gateway', 'HTTP API requests', f.events.apiRequests * scale, 'requests', PRICES.apiRequest.usd);
  for (const [name, fn] of Object.entries(f.functions)) {
    const mem = (settings[name]?.memoryMb ?? 1024) / 1024;
    const billedMs = cpu ? fn.cpuMs : fn.ms.reduce((n, ms) => n + Math.ceil(ms), 0);
    add('Lambda', `${name}: invocations`, fn.invocations * scale, 'invocations', PRICES.lambdaRequest.usd);
    add(
      'Lambda',
      `${name}: ${mem * 1024} MB × measured ${cpu ? 'CPU time' : 'duration'}`,
      (billedMs / 1000) * mem * scale,
      'GB-s',
      PRICES.lambdaGbSecondArm.usd,
    );
  }
  const sqsBy = (callerName: string) =>
    sumOps(f, (c, s) => s === 'sqs' && c === callerName, 'billed') * scale;
  add('SQS', 'ingest: SendMessageBatch (64 KB chunks)', sqsBy('ingest'), 'requests', PRICES.sqsRequest.usd);
  add(
    'SQS',
    'S3 → profiles feed notifications',
    sqsBy('s3 notifications'),
    'requests',
    PRICES.sqsRequest.usd,
  );
  add('SQS', 'event sources: receive + delete', sqsBy('event source'), 'requests', PRICES.sqsRequest.usd);
  for (const fn of Object.keys(f.functions)) {
    const wcu = sumOps(f, (c, s) => c === fn && s === 'dynamodb', 'wcu') * scale;
    const rru = sumOps(f, (c, s) => c === fn && s === 'dynamodb', 'rru') * scale;
    if (wcu > 0) add('DynamoDB', `${fn}: write request units`, wcu, 'WRU', PRICES.dynamoWrite.usd);
    if (rru > 0) add('DynamoDB', `${fn}: read request units`, rru, 'RRU', PRICES.dynamoRead.usd);
  }
  const s3Put = sumOps(
    f,
    (_c, s, o) => s === 's3' && /^(Put|Copy|List|CreateMultipart|UploadPart|CompleteMultipart)/.test(o),
    'calls',
  );
  const s3Get = sumOps(f, (_c, s, o) => s === 's3' && /^(Get|Head)/.test(o), 'calls');
  add('S3', 'PUT requests', s3Put * scale, 'requests', PRICES.s3Put.usd);
  add('S3', 'GET and HEAD requests', s3Get * scale, 'requests', PRICES.s3Get.usd);
  const logBytes = logBytesOf(f);
  add(
    'CloudWatch Logs',
    'ingestion (function lines + START/END/REPORT)',
    (logBytes * scale) / GB,
    'GB',
    PRICES.logsIngest.usd,
  );
  const starts = ASSUMED.environmentStartsPerMillion;
  add(
    'KMS',
    `GenerateDataKey, one per environment start (${starts} assumed)`,
    starts,
    'requests',
    PRICES.kmsRequest.usd,
  );
  add(
    'Secrets Manager',
    `GetSecretValue, one per environment start (${starts} assumed)`,
    starts,
    'calls',
    PRICES.secretRequest.usd,
  );
  return perMillion;
}

/** Storage a million events add, per month it is kept. */
export function storage(f: Figures, p: Printed, scale: number): Line[] {
  const storage: Line[] = [];
  const pitrTables = new Set(
    Object.values(p.resources.Resources)
      .filter((r) => r.Type === 'AWS::DynamoDB::Table')
      .filter(
        (r) =>
          (
            r.Properties.PointInTimeRecoverySpecification as
              | { PointInTimeRecoveryEnabled?: boolean }
              | undefined
          )?.PointInTimeRecoveryEnabled,
      )
      .map((r) => String(r.Properties.TableName)),
  );
  let dynamoBytes = 0;
  let pitrBytes = 0;
  for (const [table, t] of Object.entries(f.stored.tables)) {
    const bytes = (t.bytes + t.items * ASSUMED.dynamoItemOverheadBytes) * scale;
    dynamoBytes += bytes;
    if (pitrTables.has(table)) pitrBytes += bytes;
  }
  storage.push({
    group: 'DynamoDB',
    what: 'table storage',
    quantity: dynamoBytes / GB,
    unit: 'GB-month',
    usd: (dynamoBytes / GB) * PRICES.dynamoStorage.usd,
  });
  storage.push({
    group: 'DynamoDB',
    what: 'point-in-time recovery',
    quantity: pitrBytes / GB,
    unit: 'GB-month',
    usd: (pitrBytes / GB) * PRICES.dynamoPitr.usd,
  });
  storage.push({
    group: 'S3',
    what: 'archive (gzip NDJSON)',
    quantity: (f.stored.s3Bytes * scale) / GB,
    unit: 'GB-month',
    usd: ((f.stored.s3Bytes * scale) / GB) * PRICES.s3Storage.usd,
  });
  const logsStored = (logBytesOf(f) * scale * f.stored.logGzipRatio) / GB;
  storage.push({
    group: 'CloudWatch Logs',
    what: 'logs kept 30 days (compressed)',
    quantity: logsStored,
    unit: 'GB-month',
    usd: logsStored * PRICES.logsStorage.usd,
  });
  return storage;
}

/** Fixed monthly costs with no traffic at all. */
export function idle(p: Printed): Line[] {
  const settings = settingsOf(p);
  const count = (type: string) => Object.values(p.resources.Resources).filter((r) => r.Type === type).length;
  const consumedQueues = Object.values(p.functions).filter((fn) => fn.events.some((e) => e.sqs)).length;
  // Each scheduled invocation taken as ~1 s at its function's memory; the hourly segmentation schedule also
  // starts one nightly run a day (the runner, ~2 s on an empty store).
  let scheduleGbSeconds = 0;
  let scheduled = 0;
  for (const [name, fn] of Object.entries(p.functions)) {
    for (const e of fn.events) {
      const rate = (e.schedule as { rate?: string } | undefined)?.rate;
      if (!rate) continue;
      const perMonth = /^cron\(\S+ \* /.test(rate) ? 30 * 24 : 30;
      scheduled += perMonth;
      scheduleGbSeconds += perMonth * ((settings[name]?.memoryMb ?? 512) / 1024);
    }
  }
  scheduled += 30;
  scheduleGbSeconds += 30 * 2 * ((settings.segmentationRunner?.memoryMb ?? 3008) / 1024);
  // deploy/functionAlarms.mjs adds an Errors alarm per function when the stack is packaged.
  const alarms = count('AWS::CloudWatch::Alarm') + Object.keys(p.functions).length;
  return [
    {
      group: 'KMS',
      what: 'customer-managed keys',
      quantity: count('AWS::KMS::Key'),
      unit: 'keys',
      usd: count('AWS::KMS::Key') * PRICES.kmsKey.usd,
    },
    {
      group: 'Secrets Manager',
      what: 'secrets',
      quantity: count('AWS::SecretsManager::Secret'),
      unit: 'secrets',
      usd: count('AWS::SecretsManager::Secret') * PRICES.secret.usd,
    },
    {
      group: 'CloudWatch',
      what: `alarms: ${count('AWS::CloudWatch::Alarm')} in the resources, one per function (deploy/functionAlarms.mjs)`,
      quantity: alarms,
      unit: 'alarms',
      usd: alarms * PRICES.alarm.usd,
    },
    {
      group: 'SQS',
      what: `idle long polling by ${consumedQueues} event source mappings`,
      quantity: consumedQueues * ASSUMED.idleReceivesPerQueueMonth,
      unit: 'requests',
      usd: consumedQueues * ASSUMED.idleReceivesPerQueueMonth * PRICES.sqsRequest.usd,
    },
    {
      group: 'Lambda',
      what: 'schedules (hourly, nightly) and the nightly segmentation run on an empty store',
      quantity: scheduled,
      unit: 'invocations',
      usd: scheduled * PRICES.lambdaRequest.usd + scheduleGbSeconds * PRICES.lambdaGbSecondArm.usd,
    },
  ];
}

export const usd = (n: number) =>
  n >= 0.01 ? `$${n.toFixed(2)}` : n >= 0.0001 ? `$${n.toFixed(4)}` : n > 0 ? `$${n.toExponential(1)}` : '$0';
export const qty = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toPrecision(3));

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(rows[0] ?? []),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.slice(1).map(line),
  ].join('\n');
}

export function printCalls(f: Figures) {
  console.log('## AWS calls counted (per 1,000 events)\n');
  const rows = [
    [
      'caller',
      'service',
      'operation',
      'calls',
      'errors',
      'request KB',
      'response KB',
      'billed units',
      'WRU',
      'RRU',
    ],
  ];
  for (const [k, v] of Object.entries(f.ops).sort()) {
    const parts = k.split(' ');
    const opName = parts.pop() ?? '';
    const service = parts.pop() ?? '';
    const per = 1000 / f.events.sent;
    rows.push([
      parts.join(' '),
      service,
      opName,
      qty(v.calls * per),
      qty(v.errors * per),
      qty((v.requestBytes * per) / 1024),
      qty((v.responseBytes * per) / 1024),
      qty(v.billed * per),
      qty(v.wcu * per),
      qty(v.rru * per),
    ]);
  }
  console.log(`${table(rows)}\n`);
}

export function printSizes(f: Figures) {
  console.log('## DynamoDB item sizes (bytes, DynamoDB formula)\n');
  const sizeRows = [['table', 'items', 'mean', 'p50', 'p95', 'max']];
  for (const [k, s] of Object.entries(f.items).sort()) {
    sizeRows.push([
      k.replace(/^precis-local-/, ''),
      qty(s.count),
      qty(s.total / s.count),
      qty(percentile(s.sizes, 50, 0)),
      qty(percentile(s.sizes, 95, 0)),
      qty(s.max),
    ]);
  }
  for (const [t, s] of Object.entries(f.stored.tables).sort()) {
    if (s.items > 0)
      sizeRows.push([
        `${t.replace(/^precis-local-/, '')} stored`,
        qty(s.items),
        qty(s.bytes / s.items),
        qty(s.p50),
        qty(s.p95),
        qty(s.max),
      ]);
  }
  console.log(`${table(sizeRows)}\n`);
}

/** Prints the bill; `json` adds the figures and lines as JSON for other tools. */
export function report(f: Figures, p: Printed, machine: string, json: boolean) {
  const { perMillion, storage, idle, scale } = bill(f, p);
  const settings = settingsOf(p);
  const total = perMillion.reduce((n, l) => n + l.usd, 0);
  console.log(`# Cost benchmark — ${new Date().toISOString()}`);
  console.log(`machine: ${machine}`);
  console.log(
    `sample: ${f.events.sent} events (${f.dataset.retail} Online Retail, ${f.dataset.rees46} REES46) of ${f.dataset.customers} whole customers, ` +
      `${Math.round(f.dataset.bytes / f.events.sent)} bytes each on average; ${f.events.accepted} accepted, ${f.events.rejected} quarantined; ` +
      `${f.events.requests} requests of ${f.batching.request} events; archive invocations of up to ${f.batching.archive} messages, ` +
      `profiles of up to ${f.batching.profiles} objects; ${f.wallSeconds.toFixed(0)} s; scaled ×${scale.toFixed(1)} to 1,000,000 events`,
  );
  console.log(`prices: ${PRICES.region} list prices, no free tier\n`);

  printCalls(f);
  printSizes(f);

  console.log('## Handlers (in-process on this machine, against the emulators)\n');
  const fnRows = [
    [
      'function',
      'memory',
      'invocations',
      'per 1M events',
      'p50 ms',
      'p95 ms',
      'mean ms',
      'CPU ms mean',
      'log bytes / invocation',
    ],
  ];
  for (const [name, fn] of Object.entries(f.functions)) {
    const sorted = [...fn.ms].sort((a, b) => a - b);
    fnRows.push([
      name,
      `${settings[name]?.memoryMb ?? '?'} MB`,
      qty(fn.invocations),
      qty(fn.invocations * scale),
      qty(percentile(sorted, 50, 0)),
      qty(percentile(sorted, 95, 0)),
      qty(sorted.reduce((n, x) => n + x, 0) / sorted.length),
      qty(fn.cpuMs / fn.invocations),
      qty(fn.logBytes / fn.invocations),
    ]);
  }
  console.log(`${table(fnRows)}\n`);

  console.log('## One million events\n');
  const lineRows = [['service', 'what', 'quantity', 'unit', 'cost']];
  for (const l of perMillion) lineRows.push([l.group, l.what, qty(l.quantity), l.unit, usd(l.usd)]);
  lineRows.push(['**total**', '', '', '', `**${usd(total)}**`]);
  console.log(`${table(lineRows)}\n`);
  const byGroup = new Map<string, number>();
  for (const l of perMillion) byGroup.set(l.group, (byGroup.get(l.group) ?? 0) + l.usd);
  console.log(
    [...byGroup]
      .sort((a, b) => b[1] - a[1])
      .map(([g, v]) => `${g} ${usd(v)} (${((v / total) * 100).toFixed(0)} %)`)
      .join(', '),
  );
  const d = f.docWrites;
  if (d.writes > 0) {
    console.log(
      `Partial profile writes: ${(d.wcu / d.writes).toFixed(2)} WRU each; with the JSON document gzipped, ` +
        `${(d.wcuGzipped / d.writes).toFixed(2)} (${usd((d.wcu - d.wcuGzipped) * scale * PRICES.dynamoWrite.usd)} less per million events)`,
    );
  }
  const cpuTotal = bill(f, p, true).perMillion.reduce((n, l) => n + l.usd, 0);
  console.log(
    `With Lambda billed by the handlers' CPU time instead of their wall time (a lower bound: no waiting on the emulators): ${usd(cpuTotal)}`,
  );

  console.log('\n## Storage a million events add, per month kept\n');
  const storageRows = [['service', 'what', 'quantity', 'unit', 'cost / month']];
  for (const l of storage) storageRows.push([l.group, l.what, qty(l.quantity), l.unit, usd(l.usd)]);
  console.log(`${table(storageRows)}\n`);

  console.log('## Idle: fixed monthly costs with no traffic\n');
  const idleRows = [['service', 'what', 'quantity', 'unit', 'cost / month']];
  for (const l of idle) idleRows.push([l.group, l.what, qty(l.quantity), l.unit, usd(l.usd)]);
  idleRows.push(['**total**', '', '', '', `**${usd(idle.reduce((n, l) => n + l.usd, 0))}**`]);
  console.log(`${table(idleRows)}\n`);

  console.log('## Prices used\n');
  const priceRows = [['item', 'USD']];
  for (const [, v] of Object.entries(PRICES))
    if (typeof v === 'object')
      priceRows.push([v.what, String(v.usd < 0.001 ? `${(v.usd * 1e6).toFixed(4)} per million` : v.usd)]);
  console.log(table(priceRows));
  if (json)
    console.log(JSON.stringify({ figures: { ...f, items: undefined }, perMillion, storage, idle }, null, 2));
}
