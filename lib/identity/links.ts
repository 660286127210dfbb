// What an event says about identity: the node its behavior is counted under, the nodes it shows to be
// the same person (edges), and an alias request, whose previous id is resolved against the graph.
import type { NormalizedEvent } from '../ingest/normalized.js';
import type { EdgeInput } from './graph.js';
import { anonNode, attributionNode, hashedNode, type NodeKey, userNode } from './nodes.js';

export interface NodeSeen {
  readonly key: NodeKey;
  /** What to show for the node: the id itself for user/anon nodes, a mask for hashed ones. */
  readonly display: string;
  readonly at: string;
}

export interface EventLinks {
  readonly nodes: NodeSeen[];
  readonly edges: EdgeInput[];
  /** alias: previousId may be an anonymousId or an earlier userId; the resolver picks the known one. */
  readonly alias?: {
    readonly userId: string;
    readonly previousId: string;
    readonly messageId: string;
    readonly at: string;
  };
}

export function linksOf(e: NormalizedEvent): EventLinks {
  const at = e.timestamp;
  const nodes: NodeSeen[] = [];
  const edges: EdgeInput[] = [];
  const anchor = attributionNode(e);
  if (e.userId !== undefined) nodes.push({ key: userNode(e.userId), display: e.userId, at });
  if (e.anonymousId !== undefined) nodes.push({ key: anonNode(e.anonymousId), display: e.anonymousId, at });
  if (e.userId !== undefined && e.anonymousId !== undefined) {
    edges.push({
      a: userNode(e.userId),
      b: anonNode(e.anonymousId),
      reason: e.type === 'identify' ? 'identify' : 'seen_together',
      messageId: e.messageId,
      at,
    });
  }
  if (anchor !== undefined) {
    for (const id of e.identifiers ?? []) {
      const key = hashedNode(id.type, id.hash);
      nodes.push({ key, display: id.mask, at });
      edges.push({ a: anchor, b: key, reason: 'trait', messageId: e.messageId, at });
    }
  }
  if (
    e.type === 'alias' &&
    e.userId !== undefined &&
    e.previousId !== undefined &&
    e.previousId !== e.userId
  ) {
    return {
      nodes,
      edges,
      alias: { userId: e.userId, previousId: e.previousId, messageId: e.messageId, at },
    };
  }
  return { nodes, edges };
}
