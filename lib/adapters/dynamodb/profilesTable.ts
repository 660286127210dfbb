// Profiles table: one partial profile per attribution node (key: node). Written by read-modify-write
// under a version condition, so concurrent consumers never lose each other's increments.
//
// The partial is stored as one JSON document (`doc`) beside its key and version, not as DynamoDB maps:
// its maps are keyed by client data, and the SDK's marshaller both sniffs a map's `constructor` member
// (a map holding the key `constructor` throws, so an event named "constructor" failed its archive object
// forever) and builds maps with `obj[key] = ...` (a `__proto__` key is lost). JSON round-trips every key.
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { NodeKey } from '../../identity/nodes.js';
import { PartialProfile } from '../../profiles/partial.js';
import type { PartialStore } from '../../profiles/store.js';
import { batchGet } from './batchGet.js';
import { isConditionFailed } from './errors.js';

const Item = z.object({ node: z.string(), version: z.number().int(), doc: z.string() });

export const toItem = (partial: PartialProfile): z.infer<typeof Item> => ({
  node: partial.node,
  version: partial.version,
  doc: JSON.stringify(partial),
});

/** Items written before the document format hold the partial's fields as attributes: read them as such. */
export const fromItem = (item: Record<string, unknown>): PartialProfile =>
  PartialProfile.parse(typeof item.doc === 'string' ? JSON.parse(Item.parse(item).doc) : item);

export function profilesTable(client: DynamoDBDocumentClient, table: string): PartialStore {
  return {
    async get(node) {
      const out = await client.send(
        new GetCommand({ TableName: table, Key: { node }, ConsistentRead: true }),
      );
      return out.Item ? fromItem(out.Item) : undefined;
    },

    async getMany(nodes) {
      const found = new Map<NodeKey, PartialProfile>();
      const keys = [...new Set(nodes)].map((node) => ({ node }));
      for (const item of await batchGet(client, table, keys)) {
        const partial = fromItem(item);
        found.set(partial.node, partial);
      }
      return found;
    },

    async put(partial, expected) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: toItem(partial),
            ConditionExpression:
              expected === undefined ? 'attribute_not_exists(node)' : 'version = :expected',
            ExpressionAttributeValues: expected === undefined ? undefined : { ':expected': expected },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },
  };
}
