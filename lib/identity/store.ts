// The storage port of the identity graph (lib/adapters/dynamodb/identityTable.ts implements it) and the
// records it keeps: nodes with their current customer, customers with their members, edges, merge log.
import { z } from 'zod';
import type { Edge } from './graph.js';
import type { NodeSeen } from './links.js';
import type { NodeKey } from './nodes.js';

export const NodeRecord = z.object({
  key: z.string(),
  type: z.string(),
  display: z.string(),
  customerId: z.string(),
  /** The resolution that last set customerId (see resolve.ts): only a newer one may change it. */
  ticket: z.number().int(),
  /** When the index first recorded the identifier (processing time; event times are on the edges). */
  recordedAt: z.string(),
});
export type NodeRecord = z.infer<typeof NodeRecord>;

export const CustomerRecord = z.object({
  customerId: z.string(),
  anchor: z.string().optional(),
  members: z.array(z.string()),
  ticket: z.number().int(),
  /** Set when the customer was merged into another: lookups follow it. */
  mergedInto: z.string().optional(),
});
export type CustomerRecord = z.infer<typeof CustomerRecord>;

const LoggedEdge = z.object({
  id: z.string(),
  a: z.string(),
  b: z.string(),
  reason: z.string(),
  messageId: z.string(),
  at: z.string(),
});

export const MergeLogEntry = z
  .object({
    id: z.string(),
    /** merge: customers joined; blocked: a link the rules refused; unmerge: a merge undone. */
    kind: z.enum(['merge', 'blocked', 'unmerge']),
    at: z.string(),
    customerId: z.string(),
    from: z.array(z.string()).default([]),
    edges: z.array(LoggedEdge),
    reason: z.string().optional(),
    by: z.string().optional(),
    mergeId: z.string().optional(),
  })
  .meta({ id: 'MergeLogEntry' });
export type MergeLogEntry = z.infer<typeof MergeLogEntry>;

export interface ResolutionWrite {
  readonly ticket: number;
  readonly nodes: readonly { readonly key: NodeKey; readonly customerId: string }[];
  readonly customers: readonly {
    readonly customerId: string;
    readonly anchor: NodeKey;
    readonly members: readonly NodeKey[];
  }[];
  readonly retired: readonly { readonly customerId: string; readonly mergedInto: string }[];
}

export interface IdentityStore {
  /** Records nodes never seen before, each as its own customer (ticket 0); returns the new keys. */
  addNodes(nodes: readonly NodeSeen[]): Promise<NodeKey[]>;
  /**
   * Stores the edges not stored yet and returns those that still need a resolution: the new ones, and
   * stored ones never marked resolved (a crash came between). An undone edge is never re-added.
   */
  addEdges(edges: readonly Edge[]): Promise<Edge[]>;
  /** Marks edges as taken into account by a completed resolution. */
  markResolved(edges: readonly Edge[]): Promise<void>;
  edgesOf(node: NodeKey): Promise<Edge[]>;
  getNodes(keys: readonly NodeKey[]): Promise<Map<NodeKey, NodeRecord>>;
  getCustomer(customerId: string): Promise<CustomerRecord | undefined>;
  /** A number larger than every one handed out before (an atomic counter). */
  nextTicket(): Promise<number>;
  /** Writes a resolution; each node or customer only where no newer ticket wrote first. */
  writeResolution(write: ResolutionWrite): Promise<void>;
  /** Idempotent by entry id. */
  appendLog(entries: readonly MergeLogEntry[]): Promise<void>;
  mergeLog(customerId: string): Promise<MergeLogEntry[]>;
  setEdgeStatus(edge: Edge, status: Edge['status']): Promise<void>;
}
