// Applying one archive object to identity and profiles: the profiles consumer's use case. The archive
// holds every event exactly once, so reading its objects (on their S3 notifications) is the event
// stream here; each partial profile's ledger makes a redelivered object count once.
import pMap from 'p-map';
import { type ArchiveRecord, archiveObjectTime, fromArchiveRecord } from '../archive/record.js';
import { type ActivityPublisher, publishActivities } from '../campaigns/publish.js';
import { linksOf } from '../identity/links.js';
import { attributionNode, type NodeKey } from '../identity/nodes.js';
import { type ResolveDeps, recordLinks } from '../identity/resolve.js';
import type { NormalizedEvent } from '../ingest/normalized.js';
import type { Logger } from '../log.js';
import type { QueueRecord } from '../queue/record.js';
import { createdObjects } from '../queue/s3Notification.js';
import type { TagRequests } from '../tags/consume.js';
import { emptyPartial, type PartialProfile } from './partial.js';
import { applyObject } from './reduce.js';
import type { PartialStore } from './store.js';

export interface ProfileDeps {
  readonly archive: { records(key: string): Promise<ArchiveRecord[]> };
  readonly partials: PartialStore;
  readonly identity: ResolveDeps;
  readonly log: Logger;
  /** Attempts of one partial's read-modify-write against concurrent writers. */
  readonly maxAttempts?: number;
  /** The campaign engine's feed: each applied event as an Activity (absent: none published). */
  readonly activities?: ActivityPublisher;
  /** The tags queue: the customers of the applied events, to evaluate again (needs `activities`). */
  readonly tags?: TagRequests;
}

export interface ObjectApplied {
  readonly events: number;
  readonly nodes: number;
  /** Partials changed by this delivery (0 when the object had been applied before). */
  readonly updated: number;
  readonly newEdges: number;
}

/**
 * One record of the profiles queue: an S3 notification of new archive objects, applied in turn; returns
 * how many. A record that fails is retried whole: the ledgers make objects already applied count once.
 */
export async function applyNotification(record: QueueRecord, deps: ProfileDeps): Promise<number> {
  const objects = createdObjects(record.body);
  for (const object of objects) await applyArchiveObject(object.key, deps);
  return objects.length;
}

export async function applyArchiveObject(key: string, deps: ProfileDeps): Promise<ObjectApplied> {
  // An object the archive writer did not name has no time for the ledgers and may not hold archive
  // rows: it fails (and reaches the DLQ under its key, for an operator) rather than being dated now or
  // dropped, so no event it holds leaves the profiles silently.
  const objectAt = archiveObjectTime(key);
  if (objectAt === undefined) throw new Error(`not an archive object key: ${key}`);
  const events = (await deps.archive.records(key)).map(fromArchiveRecord);
  const byNode = new Map<NodeKey, NormalizedEvent[]>();
  for (const e of events) {
    const node = attributionNode(e);
    if (node === undefined) continue;
    const list = byNode.get(node) ?? [];
    list.push(e);
    byNode.set(node, list);
  }
  // One batched read of the object's partials serves the first attempt of every update, and tells which
  // nodes are new. Identity goes first: a node is recorded before its first partial is written, so a
  // stored partial means a stored node, and known nodes cost nothing here.
  const known = await deps.partials.getMany([...byNode.keys()]);
  const links = await recordLinks(
    events.map((e) => {
      const l = linksOf(e);
      const node = attributionNode(e);
      return node !== undefined && known.has(node)
        ? { ...l, nodes: l.nodes.filter((n) => n.key !== node) }
        : l;
    }),
    deps.identity,
  );
  const updates = await pMap(
    byNode,
    ([node, list]) => updatePartial(node, list, key, objectAt, known.get(node), deps),
    {
      concurrency: 16,
    },
  );
  // Also for an object applied before (updated 0): a crash between applying and publishing must not
  // lose its activities, and the engine is idempotent per activity.
  if (deps.activities !== undefined) {
    const published = await publishActivities(events, {
      nodes: deps.identity.store,
      publisher: deps.activities,
      log: deps.log,
    });
    // After the partials: the evaluation reads the profile these events made.
    if (deps.tags !== undefined) await deps.tags.request('activity', published.customers);
  }
  return {
    events: events.length,
    nodes: byNode.size,
    updated: updates.filter(Boolean).length,
    newEdges: links.newEdges,
  };
}

async function updatePartial(
  node: NodeKey,
  events: NormalizedEvent[],
  key: string,
  objectAt: number,
  firstRead: PartialProfile | undefined,
  deps: ProfileDeps,
): Promise<boolean> {
  const attempts = deps.maxAttempts ?? 10;
  let current = firstRead;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const { partial, changed } = applyObject(
      current ?? emptyPartial(node),
      events,
      key,
      objectAt,
      Date.now(),
    );
    if (!changed) return false;
    if (await deps.partials.put(partial, current?.version)) return true;
    // Another consumer wrote this node meanwhile: read its result and apply ours on top.
    await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    current = await deps.partials.get(node);
  }
  throw new Error(`profile ${node} kept changing under ${attempts} attempts`);
}
