// Dedup claims table: one item per event, i.e. per source and messageId (the dedup scope, as in Segment).
// Key attribute: messageId, holding `<source>/<messageId>` (dedupKey). TTL attribute: expiresAt (epoch
// seconds), so the table holds the dedup window and no more.
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { DedupClaim, DedupRecord, DedupStore } from '../../archive/ports.js';
import { batchWrite } from './batchWrite.js';
import { isConditionFailed } from './errors.js';

/**
 * The key of an event's claim. The attribute keeps its name `messageId` (renaming a key attribute would
 * replace the table and lose the window); its value is scoped to the source since 2026-12. The source
 * is URI-encoded, so the first `/` ends it whatever either id holds.
 */
export const dedupKey = (sourceId: string, messageId: string) =>
  `${encodeURIComponent(sourceId)}/${messageId}`;

function parseDedupKey(key: string): { sourceId: string; messageId: string } {
  const slash = key.indexOf('/');
  if (slash < 0) throw new Error(`dedup item ${key} has no source: written before dedup was scoped`);
  return { sourceId: decodeURIComponent(key.slice(0, slash)), messageId: key.slice(slash + 1) };
}

/** A dedup item as stored (expiresAt in epoch seconds, for the table's TTL). */
export const DedupItem = z.object({
  /** dedupKey(sourceId, messageId). */
  messageId: z.string(),
  status: z.enum(['pending', 'done']),
  token: z.string(),
  objectKey: z.string(),
  leaseUntil: z.number(),
  expiresAt: z.number(),
});
type DedupItem = z.infer<typeof DedupItem>;

const seconds = (ms: number) => Math.floor(ms / 1000);

const toItem = (c: DedupClaim, status: DedupRecord['status']): DedupItem => ({
  messageId: dedupKey(c.sourceId, c.messageId),
  status,
  token: c.token,
  objectKey: c.objectKey,
  leaseUntil: c.leaseUntil,
  expiresAt: seconds(c.expiresAt),
});

const fromItem = (raw: unknown): DedupRecord => {
  const item = DedupItem.parse(raw);
  return { ...item, ...parseDedupKey(item.messageId), expiresAt: item.expiresAt * 1000 };
};

export function dedupTable(client: DynamoDBDocumentClient, table: string): DedupStore {
  return {
    async tryClaim(claim, now) {
      // A record past its window (TTL deletion lags by up to days) counts as absent.
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await client.send(
            new PutCommand({
              TableName: table,
              Item: toItem(claim, 'pending'),
              ConditionExpression: 'attribute_not_exists(messageId) OR expiresAt < :now',
              ExpressionAttributeValues: { ':now': seconds(now) },
            }),
          );
          return 'claimed';
        } catch (error) {
          if (!isConditionFailed(error)) throw error;
        }
        const existing = await client.send(
          new GetCommand({
            TableName: table,
            Key: { messageId: dedupKey(claim.sourceId, claim.messageId) },
            ConsistentRead: true,
          }),
        );
        // Released between our put and get: claim again.
        if (existing.Item) return fromItem(existing.Item);
      }
      throw new Error(`claim on ${dedupKey(claim.sourceId, claim.messageId)} kept changing under us`);
    },

    async takeOver(claim, previousToken) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: toItem(claim, 'pending'),
            // Or already ours: an SDK retry of a write whose first attempt was applied.
            ConditionExpression: '#status = :pending AND #token IN (:previous, :mine)',
            ExpressionAttributeNames: { '#token': 'token', '#status': 'status' },
            ExpressionAttributeValues: {
              ':previous': previousToken,
              ':mine': claim.token,
              ':pending': 'pending',
            },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },

    async markDone(claims) {
      await batchWrite(
        client,
        table,
        claims.map((c) => ({ PutRequest: { Item: toItem(c, 'done') } })),
      );
    },

    async release(claims) {
      await Promise.all(
        claims.map(async (c) => {
          try {
            await client.send(
              new DeleteCommand({
                TableName: table,
                Key: { messageId: dedupKey(c.sourceId, c.messageId) },
                ConditionExpression: '#token = :token AND #status = :pending',
                ExpressionAttributeNames: { '#token': 'token', '#status': 'status' },
                ExpressionAttributeValues: { ':token': c.token, ':pending': 'pending' },
              }),
            );
          } catch (error) {
            if (!isConditionFailed(error)) throw error;
          }
        }),
      );
    },
  };
}
