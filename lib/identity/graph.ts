// The identity graph as pure functions. The graph is a set of edges between identity nodes, each edge
// recorded with the event that showed the link. Customers are not stored facts but a deterministic
// function of the edges: a union-find over the edges in event-time order that refuses any union the
// rules forbid (two userIds, too many identifiers of a type). So a late event, a retry or a concurrent
// writer can only ever lead to the one answer the edge set implies, and undoing a merge is removing
// its edges and computing again — the customers before the merge come back, with their ids.
import { createHash } from 'node:crypto';
import type { IdentifierRule } from '../config.js';
import { type NodeKey, nodeType } from './nodes.js';

/** Why two nodes are linked: which kind of call showed it. */
export type EdgeReason = 'identify' | 'seen_together' | 'alias' | 'trait' | 'import';

export interface EdgeInput {
  readonly a: NodeKey;
  readonly b: NodeKey;
  readonly reason: EdgeReason;
  /** The event that showed the link. */
  readonly messageId: string;
  /** Its event time (ISO): earlier links win when the rules allow only one of two. */
  readonly at: string;
}

export interface Edge extends EdgeInput {
  readonly id: string;
  /** `undone`: removed by an unmerge; kept so the same link never merges again by itself. */
  readonly status: 'active' | 'undone';
}

/** One id per pair of nodes, whatever the order: the same link seen twice is one edge. */
export function edgeId(a: NodeKey, b: NodeKey): string {
  const [x, y] = a < b ? [a, b] : [b, a];
  return `e_${createHash('sha256').update(x).update('\n').update(y).digest('base64url').slice(0, 22)}`;
}

export const newEdge = (input: EdgeInput): Edge => ({
  ...input,
  id: edgeId(input.a, input.b),
  status: 'active',
});

export interface IdentityRules {
  priority(type: string): number;
  limit(type: string): number;
}

export function identityRules(rules: readonly IdentifierRule[]): IdentityRules {
  const byType = new Map(rules.map((r) => [r.type, r]));
  return {
    // Unknown types rank after every configured one and are limited like anonymous ids.
    priority: (type) => byType.get(type)?.priority ?? Number.MAX_SAFE_INTEGER,
    limit: (type) => byType.get(type)?.limit ?? byType.get('anon')?.limit ?? 100,
  };
}

export type BlockReason = 'two_user_ids' | `limit_${string}`;

export interface Resolution {
  /** Each component's members, sorted; components sorted by their customer id. */
  readonly components: {
    readonly customerId: string;
    readonly anchor: NodeKey;
    readonly members: NodeKey[];
  }[];
  /** Edges the rules refused, with the reason. */
  readonly blocked: { readonly edge: Edge; readonly reason: BlockReason }[];
}

/**
 * Components of `nodes` under `edges` (edges to nodes outside `nodes` are ignored; undone edges too).
 * Edges are taken in event-time order (ties by id): the first link wins when two conflict.
 */
export function resolveComponents(
  nodes: Iterable<NodeKey>,
  edges: Iterable<Edge>,
  rules: IdentityRules,
): Resolution {
  const parent = new Map<NodeKey, NodeKey>();
  const counts = new Map<NodeKey, Map<string, number>>();
  for (const n of nodes) {
    parent.set(n, n);
    counts.set(n, new Map([[nodeType(n), 1]]));
  }
  const find = (n: NodeKey): NodeKey => {
    let root = n;
    for (let p = parent.get(root); p !== undefined && p !== root; p = parent.get(root)) root = p;
    // Path compression keeps later finds short.
    for (let x = n; x !== root; ) {
      const next = parent.get(x) as NodeKey;
      parent.set(x, root);
      x = next;
    }
    return root;
  };
  const ordered = [...edges]
    .filter((e) => e.status === 'active' && parent.has(e.a) && parent.has(e.b))
    .sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  const blocked: { edge: Edge; reason: BlockReason }[] = [];
  for (const edge of ordered) {
    const ra = find(edge.a);
    const rb = find(edge.b);
    if (ra === rb) continue;
    const ca = counts.get(ra) as Map<string, number>;
    const cb = counts.get(rb) as Map<string, number>;
    const reason = unionViolation(ca, cb, edge, rules);
    if (reason) {
      blocked.push({ edge, reason });
      continue;
    }
    parent.set(rb, ra);
    for (const [type, n] of cb) ca.set(type, (ca.get(type) ?? 0) + n);
    counts.delete(rb);
  }
  const groups = new Map<NodeKey, NodeKey[]>();
  for (const n of parent.keys()) {
    const root = find(n);
    const group = groups.get(root) ?? [];
    group.push(n);
    groups.set(root, group);
  }
  const components = [...groups.values()]
    .map((members) => {
      members.sort();
      const anchor = anchorOf(members, rules);
      return { customerId: customerIdOf(anchor), anchor, members };
    })
    .sort((x, y) => (x.customerId < y.customerId ? -1 : 1));
  return { components, blocked };
}

function unionViolation(
  a: Map<string, number>,
  b: Map<string, number>,
  edge: Edge,
  rules: IdentityRules,
): BlockReason | undefined {
  for (const [type, n] of b) {
    const total = (a.get(type) ?? 0) + n;
    if (total <= rules.limit(type)) continue;
    // alias is the one explicit way to join two userIds: the app says they are one person.
    if (type === 'user' && edge.reason === 'alias') continue;
    return type === 'user' ? 'two_user_ids' : `limit_${type}`;
  }
  return undefined;
}

/** The member that names the customer: the highest-priority type, then the smallest key. */
export function anchorOf(members: readonly NodeKey[], rules: IdentityRules): NodeKey {
  let best: NodeKey | undefined;
  for (const m of members) {
    if (best === undefined) {
      best = m;
      continue;
    }
    const pm = rules.priority(nodeType(m));
    const pb = rules.priority(nodeType(best));
    if (pm < pb || (pm === pb && m < best)) best = m;
  }
  if (best === undefined) throw new Error('a component has no members');
  return best;
}

/** A customer's id is a function of its anchor: stable while the anchor stays, restored by an unmerge. */
export function customerIdOf(anchor: NodeKey): string {
  return `cus_${createHash('sha256').update(anchor).digest('base64url').slice(0, 20)}`;
}
