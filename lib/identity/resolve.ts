// Keeping the stored graph's customers equal to what the edges imply, under concurrency.
//
// After new edges are stored, a resolution takes a ticket (an atomic counter), explores the component
// around the new edges, computes the customers (graph.ts) and writes node pointers and customer records
// only where no higher ticket has written. Why that converges: a resolution takes its ticket after
// storing its edges and explores after taking it, so of any two resolutions the one with the higher
// ticket has seen every edge the other stored; its writes win, and the last writer is complete.
import { createHash } from 'node:crypto';
import type { Logger } from '../log.js';
import {
  customerIdOf,
  type Edge,
  type IdentityRules,
  newEdge,
  type Resolution,
  resolveComponents,
} from './graph.js';
import type { EventLinks } from './links.js';
import { anonNode, type NodeKey, userNode } from './nodes.js';
import type { IdentityStore, MergeLogEntry, NodeRecord } from './store.js';

export interface ResolveDeps {
  readonly store: IdentityStore;
  readonly rules: IdentityRules;
  readonly now: () => number;
  readonly log: Logger;
  /** A component larger than this is a bot or a bad identifier: it is resolved no further. */
  readonly maxComponentNodes?: number;
}

export interface LinkResult {
  readonly newNodes: number;
  readonly newEdges: number;
  readonly merges: number;
}

/** Stores what a batch of events says about identity and resolves the components it touched. */
export async function recordLinks(links: readonly EventLinks[], deps: ResolveDeps): Promise<LinkResult> {
  const nodes = new Map(links.flatMap((l) => l.nodes).map((n) => [n.key, n]));
  const edges = new Map<string, Edge>();
  for (const l of links) for (const e of l.edges) addEdge(edges, newEdge(e));
  for (const l of links) {
    if (!l.alias) continue;
    // previousId names an earlier userId if the graph knows one, else an anonymous id.
    const asUser = userNode(l.alias.previousId);
    const known = await deps.store.getNodes([asUser]);
    const previous = known.has(asUser) ? asUser : anonNode(l.alias.previousId);
    nodes.set(previous, { key: previous, display: l.alias.previousId, at: l.alias.at });
    nodes.set(userNode(l.alias.userId), {
      key: userNode(l.alias.userId),
      display: l.alias.userId,
      at: l.alias.at,
    });
    addEdge(
      edges,
      newEdge({
        a: userNode(l.alias.userId),
        b: previous,
        reason: 'alias',
        messageId: l.alias.messageId,
        at: l.alias.at,
      }),
    );
  }
  const newNodes = await deps.store.addNodes([...nodes.values()]);
  const added = await deps.store.addEdges([...edges.values()]);
  if (added.length === 0) return { newNodes: newNodes.length, newEdges: 0, merges: 0 };
  const merges = await resolve(
    added.flatMap((e) => [e.a, e.b]),
    deps,
  );
  await deps.store.markResolved(added);
  return {
    newNodes: newNodes.length,
    newEdges: added.length,
    merges: merges.filter((m) => m.kind === 'merge').length,
  };
}

/** Keeps the earliest sighting of a link when a batch shows it more than once. */
function addEdge(edges: Map<string, Edge>, edge: Edge) {
  const seen = edges.get(edge.id);
  if (!seen || edge.at < seen.at) edges.set(edge.id, edge);
}

/** Recomputes the customers of the components around `seeds` and stores them; returns the log entries. */
export async function resolve(seeds: readonly NodeKey[], deps: ResolveDeps): Promise<MergeLogEntry[]> {
  const ticket = await deps.store.nextTicket();
  const { nodes, edges } = await explore(seeds, deps);
  const previous = await deps.store.getNodes([...nodes]);
  const { components, blocked } = resolveComponents(nodes, edges.values(), deps.rules);

  const at = new Date(deps.now()).toISOString();
  const customerOf = new Map<NodeKey, string>();
  for (const c of components) for (const m of c.members) customerOf.set(m, c.customerId);
  const entries = [
    ...components.flatMap((c) => mergeEntriesOf(c, [...edges.values()], previous, at)),
    ...blocked.flatMap((b) => blockedEntriesOf(b, customerOf, at)),
  ];
  await deps.store.writeResolution({
    ticket,
    nodes: [...customerOf].map(([key, customerId]) => ({ key, customerId })),
    customers: components.map((c) => ({ customerId: c.customerId, anchor: c.anchor, members: c.members })),
    retired: retiredOf(components, customerOf),
  });
  await deps.store.appendLog(entries);
  if (entries.length > 0) {
    deps.log.info('identity resolved', {
      ticket,
      nodes: nodes.size,
      merges: entries.filter((e) => e.kind === 'merge').length,
      blocked: blocked.length,
    });
  }
  return entries;
}

/**
 * The customer records to mark merged away: that of every node not anchoring a component now. A
 * customer's id is its anchor's (customerIdOf), so these are all the records that can name these nodes.
 * Taking them from the pointers read earlier missed one that a lower ticket wrote after that read: its
 * live record then outlived this resolution, listing members that point elsewhere. Written under this
 * ticket, every one of them now wins over such a late write.
 */
function retiredOf(
  components: Resolution['components'],
  customerOf: ReadonlyMap<NodeKey, string>,
): { customerId: string; mergedInto: string }[] {
  const ids = new Set(components.map((c) => c.customerId));
  const retired: { customerId: string; mergedInto: string }[] = [];
  for (const [key, mergedInto] of customerOf) {
    const own = customerIdOf(key);
    if (!ids.has(own)) retired.push({ customerId: own, mergedInto });
  }
  return retired;
}

/**
 * One merge entry per customer a component absorbed, holding just the links that joined it: undoing the
 * entry detaches that customer and nothing else.
 */
function mergeEntriesOf(
  c: Resolution['components'][number],
  edges: readonly Edge[],
  previous: ReadonlyMap<NodeKey, NodeRecord>,
  at: string,
): MergeLogEntry[] {
  const members = new Set(c.members);
  const before = new Set(c.members.map((m) => previous.get(m)?.customerId).filter((id) => id !== undefined));
  const entries: MergeLogEntry[] = [];
  for (const absorbed of [...before].sort()) {
    if (absorbed === c.customerId) continue;
    const joining = edges.filter((e) => {
      if (e.status !== 'active' || !members.has(e.a) || !members.has(e.b)) return false;
      const ca = previous.get(e.a)?.customerId;
      const cb = previous.get(e.b)?.customerId;
      return ca !== cb && (ca === absorbed || cb === absorbed);
    });
    if (joining.length > 0) entries.push(mergeEntry(c.customerId, [absorbed], joining, at));
  }
  return entries;
}

/** A refused link concerns both customers: each one's log shows it. */
function blockedEntriesOf(
  { edge, reason }: Resolution['blocked'][number],
  customerOf: ReadonlyMap<NodeKey, string>,
  at: string,
): MergeLogEntry[] {
  const sides = [...new Set([customerOf.get(edge.a), customerOf.get(edge.b)])].filter((c) => c !== undefined);
  return sides.map((customerId) => ({
    id: `blk_${edge.id.slice(2)}`,
    kind: 'blocked' as const,
    at,
    customerId,
    from: sides.filter((other) => other !== customerId),
    edges: [logged(edge)],
    reason,
  }));
}

/** Breadth-first over stored edges (undone ones do not connect), bounded. */
async function explore(seeds: readonly NodeKey[], deps: ResolveDeps) {
  const max = deps.maxComponentNodes ?? 5_000;
  const nodes = new Set<NodeKey>(seeds);
  const edges = new Map<string, Edge>();
  const queue = [...nodes];
  /** Takes in one edge; false once the component grew past `max`. */
  const visit = (e: Edge): boolean => {
    if (e.status !== 'active') return true;
    edges.set(e.id, e);
    for (const n of [e.a, e.b]) {
      if (nodes.has(n)) continue;
      if (nodes.size >= max) return false;
      nodes.add(n);
      queue.push(n);
    }
    return true;
  };
  while (queue.length > 0) {
    const found = await Promise.all(queue.splice(0, 16).map((n) => deps.store.edgesOf(n)));
    if (!found.flat().every(visit)) {
      deps.log.error('identity component too large; resolution truncated', { max, seeds: seeds.length });
      break;
    }
  }
  return { nodes, edges };
}

const logged = (e: Edge) => ({
  id: e.id,
  a: e.a,
  b: e.b,
  reason: e.reason,
  messageId: e.messageId,
  at: e.at,
});

function mergeEntry(customerId: string, from: string[], edges: Edge[], at: string): MergeLogEntry {
  const sortedEdges = [...edges].sort((x, y) => (x.id < y.id ? -1 : 1));
  // The same merge found again (a retry, a concurrent resolution) is the same entry.
  const id = `mrg_${createHash('sha256')
    .update([customerId, ...from, ...sortedEdges.map((e) => e.id)].join('\n'))
    .digest('base64url')
    .slice(0, 20)}`;
  return { id, kind: 'merge', at, customerId, from, edges: sortedEdges.map(logged) };
}

export interface UnmergeResult {
  /** The customers the undone merge's nodes belong to now. */
  readonly customers: string[];
  readonly entry: MergeLogEntry;
}

/**
 * Undoes a merge: its edges are marked undone (a later event showing the same link will not merge again
 * by itself) and the components are computed anew. If other links still join the two sides, they stay
 * one customer, and the result says so by naming a single customer.
 */
export async function unmerge(
  customerId: string,
  mergeId: string,
  by: string,
  deps: ResolveDeps,
): Promise<UnmergeResult | 'not_found'> {
  const merge = (await deps.store.mergeLog(customerId)).find((e) => e.id === mergeId && e.kind === 'merge');
  if (!merge) return 'not_found';
  const seeds = merge.edges.flatMap((e) => [e.a, e.b]);
  const edges = await Promise.all(
    merge.edges.map(async (e) => (await deps.store.edgesOf(e.a)).find((x) => x.id === e.id)),
  );
  for (const edge of edges) if (edge) await deps.store.setEdgeStatus(edge, 'undone');
  await resolve(seeds, deps);
  const after = await deps.store.getNodes(seeds);
  const customers = [...new Set([...after.values()].map((n) => n.customerId))].sort();
  const entry: MergeLogEntry = {
    id: `unm_${mergeId.slice(4)}`,
    kind: 'unmerge',
    at: new Date(deps.now()).toISOString(),
    customerId: customers[0] ?? customerId,
    from: customers,
    edges: merge.edges,
    by,
    mergeId,
  };
  await deps.store.appendLog(customers.map((c) => ({ ...entry, customerId: c })));
  deps.log.info('merge undone', { mergeId, customers: customers.length, by });
  return { customers, entry };
}
