// npm run quarantine -- list [filters] | show <id> | replay <id> [--event fixed.json] | replay --reason <code> [filters]
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { quarantineTable } from '../lib/adapters/dynamodb/quarantineTable.js';
import { eventQueue } from '../lib/adapters/sqs/eventQueue.js';
import { createDynamoDb, createKms, createSqs } from '../lib/aws/clients.js';
import { QuarantineListQuery, toStoreQuery } from '../lib/quarantine/api.js';
import {
  type ReplayDeps,
  type ReplayOutcome,
  replayEntry,
  replayMatching,
} from '../lib/quarantine/replay.js';
import { piiFor } from '../lib/runtime.js';
import { runCli, targetConfig } from './target.js';

const USAGE = `usage:
  npm run quarantine -- list [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--status open|replayed] [--reason code] [--source id] [--limit n]
  npm run quarantine -- show <id>
  npm run quarantine -- replay <id> [--event corrected.json]
  npm run quarantine -- replay --reason <code> [--from ..] [--to ..] [--source id] [--max n]`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    status: { type: 'string' },
    reason: { type: 'string' },
    source: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    event: { type: 'string' },
    max: { type: 'string', default: '1000' },
  },
});

function storeQuery() {
  const parsed = QuarantineListQuery.safeParse(values);
  if (!parsed.success)
    throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  const q = toStoreQuery(parsed.data, Date.now());
  if (!q.ok) throw new Error(q.message);
  return q.value;
}

async function list(deps: ReplayDeps) {
  const page = await deps.quarantine.list(storeQuery());
  for (const e of page.items) {
    const reasons = e.reasons.map((r) => `${r.path}: ${r.code}`).join(', ');
    console.log(
      `${e.id}  ${e.quarantinedAt}  ${e.status.padEnd(8)} ${e.sourceId}  ${e.type ?? '?'} ${e.event ?? ''}  ${reasons}`,
    );
  }
  console.log(page.nextCursor ? `more: --cursor ${page.nextCursor}` : `${page.items.length} entries`);
}

async function entry(deps: ReplayDeps, id: string | undefined) {
  const found = id ? await deps.quarantine.get(id) : undefined;
  if (!found) throw new Error(`no quarantined event ${id}`);
  return found;
}

async function replay(deps: ReplayDeps, id: string | undefined) {
  let outcomes: ReplayOutcome[];
  if (id) {
    const corrected = values.event ? JSON.parse(await readFile(values.event, 'utf8')) : undefined;
    outcomes = [await replayEntry(await entry(deps, id), deps, corrected)];
  } else {
    if (!values.reason && !values.source)
      throw new Error(`replaying many needs --reason or --source\n${USAGE}`);
    outcomes = await replayMatching(storeQuery(), deps, Number(values.max));
  }
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
  for (const o of outcomes.slice(0, 20)) console.log(JSON.stringify(o));
  console.log(`replay: ${JSON.stringify(counts)}`);
}

runCli(async () => {
  const config = await targetConfig();
  const dynamodb = createDynamoDb(config);
  const { openPayload, protect } = piiFor(config, { dynamodb, kms: () => createKms(config) });
  const deps: ReplayDeps = {
    quarantine: quarantineTable(dynamodb, config.tables.quarantine, config.quarantineRetentionDays),
    sink: eventQueue(createSqs(config), config.queues.ingest),
    quality: config.quality,
    now: Date.now,
    openPayload,
    protect,
  };
  const [command, id] = positionals;
  if (command === 'list') return list(deps);
  if (command === 'show') {
    const e = await entry(deps, id);
    const payload = await deps.openPayload(e.payload);
    console.log(JSON.stringify({ ...e, payload: e.replayable ? JSON.parse(payload) : payload }, null, 2));
    return;
  }
  if (command === 'replay') return replay(deps, id);
  throw new Error(USAGE);
});
