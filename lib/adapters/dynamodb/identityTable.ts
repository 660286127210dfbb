// Identity table (single table, keys pk/sk):
//   N#<node> / #NODE          node: current customer, display (a mask for hashed identifiers), ticket
//   N#<node> / E#<other>      edge, stored under both nodes so either finds it: the copy under the smaller
//                             node is the edge (the commit), the other a mirror written from it
//   C#<customer> / #CUSTOMER  customer: anchor and members, or mergedInto once merged away
//   C#<customer> / L#<entry>  merge log entry
//   #TICKET / #TICKET         the resolution counter
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import pMap from 'p-map';
import { z } from 'zod';
import type { Edge } from '../../identity/graph.js';
import { customerIdOf } from '../../identity/graph.js';
import { nodeType } from '../../identity/nodes.js';
import { CustomerRecord, type IdentityStore, MergeLogEntry, NodeRecord } from '../../identity/store.js';
import { batchGet } from './batchGet.js';
import { isConditionFailed } from './errors.js';
import { queryAll } from './query.js';

const NODE = '#NODE';
const CUSTOMER = '#CUSTOMER';
const nodePk = (key: string) => `N#${key}`;
const customerPk = (id: string) => `C#${id}`;

const StoredEdge = z.object({
  id: z.string(),
  a: z.string(),
  b: z.string(),
  reason: z.enum(['identify', 'seen_together', 'alias', 'trait', 'import']),
  messageId: z.string(),
  at: z.string(),
  status: z.enum(['active', 'undone']),
  /** False until a resolution has taken the edge into account (see addEdges). */
  resolved: z.boolean().optional(),
});

type StoredEdge = z.infer<typeof StoredEdge>;

/**
 * The edge's two copies: `commit` under the smaller node, `mirror` under the other. One orientation
 * whatever the order a writer names the nodes in, so two writers of one link race on one item.
 */
const copiesOf = (e: Pick<Edge, 'a' | 'b'>) => {
  const [x, y] = e.a < e.b ? [e.a, e.b] : [e.b, e.a];
  return { commit: { pk: nodePk(x), sk: `E#${y}` }, mirror: { pk: nodePk(y), sk: `E#${x}` } };
};

const edgeFields = (e: Edge) => ({
  id: e.id,
  a: e.a,
  b: e.b,
  reason: e.reason,
  messageId: e.messageId,
  at: e.at,
  status: e.status,
});

/** Writes are many and independent: bounded parallelism keeps sockets and throttling in check. */
const CONCURRENCY = 16;

export function identityTable(client: DynamoDBDocumentClient, table: string): IdentityStore {
  const conditional = async (command: PutCommand | UpdateCommand): Promise<boolean> => {
    try {
      await client.send(command as PutCommand);
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  };

  async function batchGetEdges(edges: readonly Edge[]) {
    const found = new Map<string, StoredEdge>();
    const keys = [...new Map(edges.map((e) => [e.id, copiesOf(e).commit])).values()];
    for (const item of await batchGet(client, table, keys)) {
      const edge = StoredEdge.parse(item);
      found.set(edge.id, edge);
    }
    return found;
  }

  return {
    async addNodes(nodes) {
      const added = await pMap(
        nodes,
        async (n) => {
          const customerId = customerIdOf(n.key);
          const isNew = await conditional(
            new PutCommand({
              TableName: table,
              Item: {
                pk: nodePk(n.key),
                sk: NODE,
                key: n.key,
                type: nodeType(n.key),
                display: n.display,
                customerId,
                ticket: 0,
                recordedAt: new Date().toISOString(),
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
          if (!isNew) return undefined;
          // A new node is its own customer until a resolution says otherwise (ticket 0 loses to any).
          await conditional(
            new PutCommand({
              TableName: table,
              Item: {
                pk: customerPk(customerId),
                sk: CUSTOMER,
                customerId,
                anchor: n.key,
                members: [n.key],
                ticket: 0,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
          return n.key;
        },
        { concurrency: CONCURRENCY },
      );
      return added.filter((k): k is string => k !== undefined);
    },

    // The commit copy is written first and is the edge from then on: a writer that finds it stored takes
    // its fields (the first sighting stored wins) and writes the mirror from them. Writing each copy from
    // the writer's own sighting let two writers of one link leave copies with different times, so that
    // resolutions exploring from either node ordered the edges differently and disagreed on customers.
    // Both copies exist before the edge is returned for resolution; an edge counts as new until a
    // resolution marked it resolved, so a crash between storing and resolving is mended by the retry.
    async addEdges(edges) {
      // Most links of a batch are known already (a user seen with the same device again): one batched
      // read finds them, and only the others pay for conditional writes.
      const stored = await batchGetEdges(edges);
      const todo = edges.filter((e) => {
        const s = stored.get(e.id);
        return !s || (s.status === 'active' && s.resolved === false);
      });
      const fresh = await pMap(
        todo,
        async (e) => {
          const { commit, mirror } = copiesOf(e);
          const created = await conditional(
            new PutCommand({
              TableName: table,
              Item: { ...commit, ...edgeFields(e), resolved: false },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
          let edge: StoredEdge | undefined = { ...edgeFields(e), resolved: false };
          if (!created) {
            const out = await client.send(
              new GetCommand({ TableName: table, Key: commit, ConsistentRead: true }),
            );
            edge = out.Item ? StoredEdge.parse(out.Item) : undefined;
          }
          if (edge === undefined) return undefined;
          const { resolved, ...fields } = edge;
          await conditional(
            new PutCommand({
              TableName: table,
              Item: { ...mirror, ...fields },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
          return fields.status === 'active' && resolved === false ? fields : undefined;
        },
        { concurrency: CONCURRENCY },
      );
      return fresh.filter((e): e is Edge => e !== undefined);
    },

    async markResolved(edges) {
      await pMap(
        edges,
        (e) =>
          client.send(
            new UpdateCommand({
              TableName: table,
              Key: copiesOf(e).commit,
              UpdateExpression: 'SET resolved = :true',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':true': true },
            }),
          ),
        { concurrency: CONCURRENCY },
      );
    },

    async edgesOf(node) {
      const items = await queryAll(client, {
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :edge)',
        ExpressionAttributeValues: { ':pk': nodePk(node), ':edge': 'E#' },
        ConsistentRead: true,
      });
      return items.map((item): Edge => {
        const { resolved: _resolved, ...edge } = StoredEdge.parse(item);
        return edge;
      });
    },

    async getNodes(keys) {
      const found = new Map<string, NodeRecord>();
      await pMap(
        [...new Set(keys)],
        async (key) => {
          const out = await client.send(
            new GetCommand({ TableName: table, Key: { pk: nodePk(key), sk: NODE }, ConsistentRead: true }),
          );
          if (out.Item) found.set(key, NodeRecord.parse(out.Item));
        },
        { concurrency: CONCURRENCY },
      );
      return found;
    },

    async getCustomer(customerId) {
      const out = await client.send(
        new GetCommand({
          TableName: table,
          Key: { pk: customerPk(customerId), sk: CUSTOMER },
          ConsistentRead: true,
        }),
      );
      return out.Item ? CustomerRecord.parse(out.Item) : undefined;
    },

    async nextTicket() {
      const out = await client.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: '#TICKET', sk: '#TICKET' },
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return z.object({ n: z.number() }).parse(out.Attributes).n;
    },

    async writeResolution(w) {
      const newer = 'attribute_not_exists(pk) OR ticket < :t';
      await pMap(
        w.nodes,
        (n) =>
          conditional(
            new UpdateCommand({
              TableName: table,
              Key: { pk: nodePk(n.key), sk: NODE },
              UpdateExpression:
                'SET customerId = :c, ticket = :t, #key = if_not_exists(#key, :k), #type = if_not_exists(#type, :type), display = if_not_exists(display, :k), recordedAt = if_not_exists(recordedAt, :now)',
              ConditionExpression: newer,
              ExpressionAttributeNames: { '#key': 'key', '#type': 'type' },
              ExpressionAttributeValues: {
                ':c': n.customerId,
                ':t': w.ticket,
                ':k': n.key,
                ':type': nodeType(n.key),
                ':now': new Date().toISOString(),
              },
            }),
          ),
        { concurrency: CONCURRENCY },
      );
      await pMap(
        w.customers,
        (c) =>
          conditional(
            new PutCommand({
              TableName: table,
              Item: {
                pk: customerPk(c.customerId),
                sk: CUSTOMER,
                customerId: c.customerId,
                anchor: c.anchor,
                members: [...c.members],
                ticket: w.ticket,
              },
              ConditionExpression: newer,
              ExpressionAttributeValues: { ':t': w.ticket },
            }),
          ),
        { concurrency: CONCURRENCY },
      );
      await pMap(
        w.retired,
        (r) =>
          conditional(
            new PutCommand({
              TableName: table,
              Item: {
                pk: customerPk(r.customerId),
                sk: CUSTOMER,
                customerId: r.customerId,
                members: [],
                mergedInto: r.mergedInto,
                ticket: w.ticket,
              },
              ConditionExpression: newer,
              ExpressionAttributeValues: { ':t': w.ticket },
            }),
          ),
        { concurrency: CONCURRENCY },
      );
    },

    async appendLog(entries) {
      await pMap(
        entries,
        (e) =>
          conditional(
            new PutCommand({
              TableName: table,
              Item: { pk: customerPk(e.customerId), sk: `L#${e.id}`, ...e },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          ),
        { concurrency: CONCURRENCY },
      );
    },

    async mergeLog(customerId) {
      const items = await queryAll(client, {
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :log)',
        ExpressionAttributeValues: { ':pk': customerPk(customerId), ':log': 'L#' },
      });
      return items
        .map((item) => MergeLogEntry.parse(item))
        .sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.id < y.id ? -1 : 1));
    },

    async setEdgeStatus(edge, status) {
      // The commit copy first: a mirror still missing is then written from it, with the new status.
      const { commit, mirror } = copiesOf(edge);
      for (const key of [commit, mirror]) {
        try {
          await client.send(
            new UpdateCommand({
              TableName: table,
              Key: key,
              UpdateExpression: 'SET #status = :s',
              // Only a copy that exists: an update would otherwise create a stub (pk, sk, status) that
              // StoredEdge.parse refuses, breaking edgesOf, so every later object touching the node.
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':s': status },
            }),
          );
        } catch (error) {
          // A copy not written yet, skipped as markResolved does: a missing mirror is written later from
          // the commit copy, status included (unless its writer read the commit copy before this update).
          // A missing commit copy is an edge this store never returned.
          if (!isConditionFailed(error)) throw error;
        }
      }
    },
  };
}
