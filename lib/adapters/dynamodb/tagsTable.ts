// Tags table (pk, sk): tag definitions, each customer's tags, and the tag -> customers index.
//   pk "definition"              sk <tagId>       one item per definition (the Tag, with its version)
//   pk "customer#<customerId>"   sk "tags"        the customer's tags and the evaluation that made them
//   pk "tag#<tagId>#<shard>"     sk <customerId>  one index entry per customer carrying the tag (value, since)
// The index is spread over SHARDS partitions by a hash of the customer id: the nightly pass writes a tag a
// million customers carry without a hot partition, and a listing walks the shards in order. Without
// transactions (dynalite has none) the record and its index are kept in step by the order of writes
// (lib/tags/ports.ts, `replace`): index first, then the record on compare-and-set; a loser repairs the index.
import { createHash } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { CustomerTags, Tag, type TagId } from '../../tags/model.js';
import type { CustomerTagStore, TagDefinitions, TaggedCustomer } from '../../tags/ports.js';
import { batchWrite } from './batchWrite.js';
import { isConditionFailed } from './errors.js';
import { queryAll } from './query.js';

const DEFINITION = 'definition';
const RECORD = 'tags';
const SHARDS = 16;

const customerKey = (customerId: string) => ({ pk: `customer#${customerId}`, sk: RECORD });
const shardOf = (customerId: string) =>
  createHash('sha1').update(customerId).digest().readUInt32BE(0) % SHARDS;
const indexPk = (tag: string, shard: number) => `tag#${tag}#${shard}`;
const indexKey = (tag: string, customerId: string) => ({
  pk: indexPk(tag, shardOf(customerId)),
  sk: customerId,
});

/** Where a listing resumes: after customer `k` of shard `s`. */
const Cursor = z.object({
  s: z
    .number()
    .int()
    .min(0)
    .max(SHARDS - 1),
  k: z.string().min(1),
});
type Cursor = z.infer<typeof Cursor>;
const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
function decodeCursor(cursor: string): Cursor | undefined {
  try {
    const parsed = Cursor.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString()));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const strip = ({ pk: _pk, sk: _sk, ...rest }: Record<string, unknown>) => rest;

type IndexChange = { tag: string; value?: string; since?: string };

/** Puts and deletes that take the index from `before`'s tags to `after`'s (value or since changed: a put). */
function indexChanges(before: CustomerTags | undefined, after: CustomerTags): IndexChange[] {
  const old = new Map((before?.tags ?? []).map((t) => [t.tag, t]));
  const changes: IndexChange[] = [];
  for (const t of after.tags) {
    const was = old.get(t.tag);
    if (was === undefined || was.value !== t.value || was.since !== t.since)
      changes.push({ tag: t.tag, value: t.value, since: t.since });
    old.delete(t.tag);
  }
  for (const tag of old.keys()) changes.push({ tag });
  return changes;
}

const touched = (changes: readonly IndexChange[]) => changes.map((c) => c.tag);

/** The index entries of `tags` for the given tag ids: a put where the record has the tag, else a delete. */
function indexOf(record: CustomerTags | undefined, tags: readonly string[]): IndexChange[] {
  const current = new Map((record?.tags ?? []).map((t) => [t.tag, t]));
  return tags.map((tag) => {
    const t = current.get(tag);
    return t === undefined ? { tag } : { tag, value: t.value, since: t.since };
  });
}

export function tagsTable(client: DynamoDBDocumentClient, table: string): TagDefinitions & CustomerTagStore {
  async function tagsOf(customerId: string): Promise<CustomerTags | undefined> {
    const out = await client.send(
      new GetCommand({ TableName: table, Key: customerKey(customerId), ConsistentRead: true }),
    );
    return out.Item ? CustomerTags.parse(strip(out.Item)) : undefined;
  }

  async function writeIndex(customerId: string, changes: readonly IndexChange[]): Promise<void> {
    await batchWrite(
      client,
      table,
      changes.map((c) =>
        c.value === undefined
          ? { DeleteRequest: { Key: indexKey(c.tag, customerId) } }
          : {
              PutRequest: {
                Item: { ...indexKey(c.tag, customerId), customerId, value: c.value, since: c.since },
              },
            },
      ),
    );
  }

  /** Up to `limit` customers of one shard after customer `after` (a filter may need several Queries). */
  async function shardPage(
    tag: string,
    shard: number,
    after: string | undefined,
    limit: number,
    value: string | undefined,
  ): Promise<TaggedCustomer[]> {
    const items: TaggedCustomer[] = [];
    let exclusive: Record<string, unknown> | undefined =
      after === undefined ? undefined : { pk: indexPk(tag, shard), sk: after };
    do {
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: {
            ':pk': indexPk(tag, shard),
            ...(value === undefined ? {} : { ':value': value }),
          },
          ...(value === undefined
            ? {}
            : { FilterExpression: '#value = :value', ExpressionAttributeNames: { '#value': 'value' } }),
          Limit: limit - items.length,
          ExclusiveStartKey: exclusive,
        }),
      );
      for (const item of out.Items ?? [])
        items.push({
          customerId: String(item.customerId),
          value: String(item.value),
          since: String(item.since),
        });
      exclusive = out.LastEvaluatedKey;
    } while (exclusive !== undefined && items.length < limit);
    return items;
  }

  return {
    async putDefinition(tag) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { ...tag, pk: DEFINITION, sk: tag.id },
            ...(tag.version === 1
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: '#version = :previous',
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':previous': tag.version - 1 },
                }),
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },

    async getDefinition(id) {
      const out = await client.send(
        new GetCommand({ TableName: table, Key: { pk: DEFINITION, sk: id }, ConsistentRead: true }),
      );
      return out.Item ? Tag.parse(strip(out.Item)) : undefined;
    },

    async listDefinitions() {
      const items = await queryAll(client, {
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': DEFINITION },
        ConsistentRead: true,
      });
      return items.map((item) => Tag.parse(strip(item)));
    },

    async deleteDefinition(id) {
      const out = await client.send(
        new DeleteCommand({ TableName: table, Key: { pk: DEFINITION, sk: id }, ReturnValues: 'ALL_OLD' }),
      );
      return out.Attributes !== undefined;
    },

    tagsOf,

    async replace(previous, next) {
      const changes = indexChanges(previous, next);
      await writeIndex(next.customerId, changes);
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { ...next, ...customerKey(next.customerId) },
            // Compare-and-set on the record this evaluation read: a `since` is never lost to a writer that
            // did not see it, and no evaluation overwrites one it did not read.
            ...(previous === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: 'evaluatedAt = :read',
                  ExpressionAttributeValues: { ':read': previous.evaluatedAt },
                }),
          }),
        );
        return 'stored';
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
      }
      // Another evaluation was stored since this one read: the index entries this one touched go back to
      // what that record says, and the caller reads it again (or stops, if it is the later one).
      const stored = await tagsOf(next.customerId);
      await writeIndex(next.customerId, indexOf(stored, touched(changes)));
      return stored !== undefined && stored.evaluatedAt > next.evaluatedAt ? 'newer' : 'changed';
    },

    async remove(customerId) {
      const stored = await tagsOf(customerId);
      if (stored === undefined) return false;
      await writeIndex(
        customerId,
        stored.tags.map((t) => ({ tag: t.tag })),
      );
      await client.send(new DeleteCommand({ TableName: table, Key: customerKey(customerId) }));
      return true;
    },

    async customersWith(tag: TagId, page) {
      const start = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
      const items: TaggedCustomer[] = [];
      for (let shard = start?.s ?? 0; shard < SHARDS && items.length < page.limit; shard++) {
        const after = start !== undefined && shard === start.s ? start.k : undefined;
        items.push(...(await shardPage(tag, shard, after, page.limit - items.length, page.value)));
      }
      const last = items.at(-1);
      if (items.length < page.limit || last === undefined) return { items };
      return { items, nextCursor: encodeCursor({ s: shardOf(last.customerId), k: last.customerId }) };
    },

    isCursor: (cursor) => decodeCursor(cursor) !== undefined,

    async count(tag) {
      const shards = await Promise.all(
        Array.from({ length: SHARDS }, (_, shard) =>
          queryAll(client, {
            TableName: table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': indexPk(tag, shard) },
            ProjectionExpression: '#value',
            ExpressionAttributeNames: { '#value': 'value' },
          }),
        ),
      );
      // A Map, then entries: a value is client data (a category may be called `__proto__`).
      const counts = new Map<string, number>();
      for (const item of shards.flat())
        counts.set(String(item.value), (counts.get(String(item.value)) ?? 0) + 1);
      return Object.fromEntries(counts);
    },
  };
}
