// npm run quarantine -- list [filters] | show <id> | replay <id> [--event fixed.json] | replay --reason <code> [filters]
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { quarantineTable } from '../lib/adapters/dynamodb/quarantineTable.js';
import { eventQueue } from '../lib/adapters/sqs/eventQueue.js';
import { createDynamoDb, createSqs } from '../lib/aws/clients.js';
import { QuarantineListQuery, toStoreQuery } from '../lib/quarantine/api.js';
import {
  type ReplayDeps,
  type ReplayOutcome,
  replayEntry,
  replayMatching,
} from '../lib/quarantine/replay.js';
import { runCli, targetConfig } from './target.js';

const USAGE = `usage:
  npm run quarantine -- list [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--status open|replayed] [--reason code] [--source id] [--limit n]
  npm run quarantine -- show <id>
  npm run quarantine -- replay <id> [--event corrected.json]
  npm run quarantine -- replay --reason <code> [--from ..] [--to ..] [--source id] [--max n]`;

runCli(async () => {
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
  const config = await targetConfig();
  const store = quarantineTable(
    createDynamoDb(config),
    config.tables.quarantine,
    config.quarantineRetentionDays,
  );
  const deps: ReplayDeps = {
    quarantine: store,
    sink: eventQueue(createSqs(config), config.queues.ingest),
    quality: config.quality,
    now: Date.now,
  };
  const query = () => {
    const parsed = QuarantineListQuery.safeParse(values);
    if (!parsed.success)
      throw new Error(`${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const q = toStoreQuery(parsed.data, Date.now());
    if ('error' in q) throw new Error(q.error);
    return q;
  };
  const [command, id] = positionals;
  switch (command) {
    case 'list': {
      const page = await store.list(query());
      for (const e of page.items) {
        const reasons = e.reasons.map((r) => `${r.path}: ${r.code}`).join(', ');
        console.log(
          `${e.id}  ${e.quarantinedAt}  ${e.status.padEnd(8)} ${e.sourceId}  ${e.type ?? '?'} ${e.event ?? ''}  ${reasons}`,
        );
      }
      console.log(page.nextCursor ? `more: --cursor ${page.nextCursor}` : `${page.items.length} entries`);
      return;
    }
    case 'show': {
      const entry = id ? await store.get(id) : undefined;
      if (!entry) throw new Error(`no quarantined event ${id}`);
      console.log(
        JSON.stringify(
          { ...entry, payload: JSON.parse(entry.replayable ? entry.payload : '"(preview only)"') },
          null,
          2,
        ),
      );
      return;
    }
    case 'replay': {
      let outcomes: ReplayOutcome[];
      if (id) {
        const entry = await store.get(id);
        if (!entry) throw new Error(`no quarantined event ${id}`);
        const corrected = values.event ? JSON.parse(await readFile(values.event, 'utf8')) : undefined;
        outcomes = [await replayEntry(entry, deps, corrected)];
      } else {
        if (!values.reason && !values.source)
          throw new Error(`replay all needs --reason or --source\n${USAGE}`);
        outcomes = await replayMatching(query(), deps, Number(values.max));
      }
      const counts: Record<string, number> = {};
      for (const o of outcomes) counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
      for (const o of outcomes.slice(0, 20)) console.log(JSON.stringify(o));
      console.log(`replay: ${JSON.stringify(counts)}`);
      return;
    }
    default:
      throw new Error(USAGE);
  }
});
