// The identity store in memory, with the DynamoDB adapter's semantics (conditional writes, tickets):
// for benchmarks of the consumer without storage latency, and for tests of logic above the port.
import { customerIdOf, type Edge } from '../../identity/graph.js';
import { nodeType } from '../../identity/nodes.js';
import type { CustomerRecord, IdentityStore, MergeLogEntry, NodeRecord } from '../../identity/store.js';

export function memoryIdentityStore(): IdentityStore {
  const nodes = new Map<string, NodeRecord>();
  const customers = new Map<string, CustomerRecord>();
  const edges = new Map<string, { edge: Edge; resolved: boolean }>();
  const logs = new Map<string, Map<string, MergeLogEntry>>();
  let ticket = 0;
  const edgeKey = (from: string, to: string) => `${from}\n${to}`;
  return {
    async addNodes(seen) {
      const added: string[] = [];
      for (const n of seen) {
        if (nodes.has(n.key)) continue;
        const customerId = customerIdOf(n.key);
        nodes.set(n.key, {
          key: n.key,
          type: nodeType(n.key),
          display: n.display,
          customerId,
          ticket: 0,
          recordedAt: new Date().toISOString(),
        });
        if (!customers.has(customerId))
          customers.set(customerId, { customerId, anchor: n.key, members: [n.key], ticket: 0 });
        added.push(n.key);
      }
      return added;
    },
    async addEdges(list) {
      const fresh: Edge[] = [];
      for (const e of list) {
        const stored = edges.get(edgeKey(e.a, e.b));
        if (!stored) {
          edges.set(edgeKey(e.a, e.b), { edge: e, resolved: false });
          edges.set(edgeKey(e.b, e.a), { edge: e, resolved: false });
          fresh.push(e);
        } else if (!stored.resolved && stored.edge.status === 'active') fresh.push(stored.edge);
      }
      return fresh;
    },
    async markResolved(list) {
      for (const e of list) {
        const stored = edges.get(edgeKey(e.a, e.b));
        if (stored) stored.resolved = true;
      }
    },
    async edgesOf(node) {
      const out: Edge[] = [];
      for (const [key, { edge }] of edges) if (key.startsWith(`${node}\n`)) out.push(edge);
      return out;
    },
    async getNodes(keys) {
      const found = new Map<string, NodeRecord>();
      for (const k of keys) {
        const n = nodes.get(k);
        if (n) found.set(k, { ...n });
      }
      return found;
    },
    async getCustomer(id) {
      const c = customers.get(id);
      return c ? { ...c, members: [...c.members] } : undefined;
    },
    async nextTicket() {
      ticket += 1;
      return ticket;
    },
    async writeResolution(w) {
      for (const n of w.nodes) {
        const current = nodes.get(n.key);
        if (current && current.ticket >= w.ticket) continue;
        nodes.set(n.key, {
          key: n.key,
          type: nodeType(n.key),
          display: current?.display ?? n.key,
          recordedAt: current?.recordedAt ?? new Date().toISOString(),
          customerId: n.customerId,
          ticket: w.ticket,
        });
      }
      for (const c of w.customers) {
        const current = customers.get(c.customerId);
        if (current && current.ticket >= w.ticket) continue;
        customers.set(c.customerId, {
          customerId: c.customerId,
          anchor: c.anchor,
          members: [...c.members],
          ticket: w.ticket,
        });
      }
      for (const r of w.retired) {
        const current = customers.get(r.customerId);
        if (current && current.ticket >= w.ticket) continue;
        customers.set(r.customerId, {
          customerId: r.customerId,
          members: [],
          mergedInto: r.mergedInto,
          ticket: w.ticket,
        });
      }
    },
    async appendLog(entries) {
      for (const e of entries) {
        const log = logs.get(e.customerId) ?? new Map<string, MergeLogEntry>();
        if (!log.has(e.id)) log.set(e.id, e);
        logs.set(e.customerId, log);
      }
    },
    async mergeLog(customerId) {
      return [...(logs.get(customerId)?.values() ?? [])].sort((x, y) => (x.at < y.at ? -1 : 1));
    },
    async setEdgeStatus(edge, status) {
      for (const key of [edgeKey(edge.a, edge.b), edgeKey(edge.b, edge.a)]) {
        const stored = edges.get(key);
        if (stored) stored.edge = { ...stored.edge, status };
      }
    },
  };
}
