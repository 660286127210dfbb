// The customers as they were before an as-of time, rebuilt from the raw archive: every archived event
// timestamped before `asOf` is folded into partial profiles with the live profiles' own reducer, and the
// partials are merged per customer of today's identity graph. A run as of D therefore sees exactly the
// orders and behavior before D, however late they arrived, so past dates can be back-tested.
//
// Objects are applied in key order (= archive time order), one at a time, so a rebuild is deterministic:
// the few figures that depend on arrival order (see profiles/merge.ts) come out the same on every run.
// This is the single-run path (one Lambda, one pass over the archive); docs/segmentation.md describes the
// fan-out for archives too large for one pass.
import { type ArchiveRecord, archiveObjectTime, fromArchiveRecord } from '../archive/record.js';
import { customerIdOf } from '../identity/graph.js';
import { attributionNode, type NodeKey } from '../identity/nodes.js';
import type { NodeRecord } from '../identity/store.js';
import type { NormalizedEvent } from '../ingest/normalized.js';
import type { Logger } from '../log.js';
import { type CustomerAggregates, mergePartials } from '../profiles/merge.js';
import { emptyPartial, type PartialProfile } from '../profiles/partial.js';
import { applyObject } from '../profiles/reduce.js';
import { ObjectError } from './ports.js';

export interface ArchiveSource {
  /** The archive's object keys, in ascending key order. */
  keys(): AsyncIterable<string>;
  records(key: string): Promise<ArchiveRecord[]>;
}

export interface CustomerIndex {
  getNodes(keys: readonly NodeKey[]): Promise<Map<NodeKey, NodeRecord>>;
}

export interface HistoryDeps {
  readonly archive: ArchiveSource;
  readonly identity: CustomerIndex;
  /** Objects fetched ahead of the one being applied. */
  readonly prefetch?: number;
  /** Told of objects skipped because the archive writer did not name them. */
  readonly log: Pick<Logger, 'warn'>;
}

export interface History {
  readonly customers: Map<string, CustomerAggregates>;
  readonly objects: number;
  /** Events before the as-of time that were folded in. */
  readonly events: number;
  /** Archived events at or after the as-of time, left out. */
  readonly later: number;
}

const NODE_BATCH = 100;

export async function historyAsOf(asOf: number, deps: HistoryDeps): Promise<History> {
  const partials = new Map<NodeKey, PartialProfile>();
  let objects = 0;
  let events = 0;
  let later = 0;
  for await (const { key, records } of prefetched(deps.archive, deps.prefetch ?? 8)) {
    // A key the archive writer did not make (a stray upload) is skipped with a warning, not a failure:
    // the live consumer already refused it (it waits in the DLQ), and failing here would fail every
    // nightly run until someone removed it.
    const at = archiveObjectTime(key);
    if (at === undefined) {
      deps.log.warn('not an archive object key: skipped', { key });
      continue;
    }
    objects++;
    const byNode = new Map<NodeKey, NormalizedEvent[]>();
    for (const record of records) {
      const e = fromArchiveRecord(record);
      if (!(Date.parse(e.timestamp) < asOf)) {
        later++;
        continue;
      }
      const node = attributionNode(e);
      if (node === undefined) continue;
      events++;
      const list = byNode.get(node);
      if (list) list.push(e);
      else byNode.set(node, [e]);
    }
    for (const [node, list] of byNode) {
      const { partial } = applyObject(partials.get(node) ?? emptyPartial(node), list, key, at, asOf);
      partials.set(node, partial);
    }
  }
  return { customers: await byCustomer(partials, deps.identity), objects, events, later };
}

/** Reads objects `depth` ahead while the caller applies them strictly in order. */
async function* prefetched(
  archive: ArchiveSource,
  depth: number,
): AsyncGenerator<{ key: string; records: ArchiveRecord[] }> {
  const queue: { key: string; records: Promise<ArchiveRecord[]> }[] = [];
  for await (const key of archive.keys()) {
    // The key goes with any failure, into the run's error and the log.
    const records = archive.records(key).catch((error: unknown) => {
      throw new ObjectError(key, error);
    });
    records.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    queue.push({ key, records });
    if (queue.length > depth) {
      const next = queue.shift();
      if (next) yield { key: next.key, records: await next.records };
    }
  }
  for (const next of queue) yield { key: next.key, records: await next.records };
}

async function byCustomer(
  partials: Map<NodeKey, PartialProfile>,
  identity: CustomerIndex,
): Promise<Map<string, CustomerAggregates>> {
  const nodes = [...partials.keys()];
  const members = new Map<string, PartialProfile[]>();
  for (let i = 0; i < nodes.length; i += NODE_BATCH) {
    const batch = nodes.slice(i, i + NODE_BATCH);
    const records = await identity.getNodes(batch);
    for (const node of batch) {
      // Every archived node is recorded by the profiles consumer; one it has not reached yet stands alone.
      const customerId = records.get(node)?.customerId ?? customerIdOf(node);
      const partial = partials.get(node);
      if (!partial) continue;
      const list = members.get(customerId);
      if (list) list.push(partial);
      else members.set(customerId, [partial]);
    }
  }
  const customers = new Map<string, CustomerAggregates>();
  for (const [customerId, list] of members) customers.set(customerId, mergePartials(list));
  return customers;
}
