// Outbox table (day, sk), two item kinds, both expiring (TTL expiresAt) after OUTBOX_DAYS:
//   day "YYYY-MM-DD"      sk "<at>#<sendId>"  an entry, in its day's partition: a day lists newest first
//   day "send#<sendId>"   sk "claim"          the time the send was first recorded (idempotency)
// A redelivered send finds its claim and writes its entry again at the claimed time: the same key, so
// one entry, even when the first delivery died between the two writes.
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  encodeOutboxCursor,
  OUTBOX_DAYS,
  OutboxEntry,
  type OutboxPage,
  type OutboxQuery,
  type OutboxStore,
} from '../../campaigns/outbox.js';
import { isConditionFailed } from '../dynamodb/errors.js';
import { queryItems } from '../dynamodb/query.js';

const CLAIM = 'claim';
/** Items read per Query while filling a page. */
const PAGE = 100;

const Claim = z.object({ at: z.iso.datetime() });
const claimKey = (sendId: string) => ({ day: `send#${sendId}`, sk: CLAIM });
const entryKey = (e: Pick<OutboxEntry, 'at' | 'sendId'>) => ({
  day: e.at.slice(0, 10),
  sk: `${e.at}#${e.sendId}`,
});
const expiresAt = (at: string) => Math.floor(Date.parse(at) / 1000) + OUTBOX_DAYS * 86_400;

export function outboxTable(client: DynamoDBDocumentClient, table: string): OutboxStore {
  /** The time the send was first recorded: `at`, or an earlier delivery's. */
  async function claim(sendId: string, at: string): Promise<string> {
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...claimKey(sendId), at, expiresAt: expiresAt(at) },
          ConditionExpression: 'attribute_not_exists(#day)',
          ExpressionAttributeNames: { '#day': 'day' },
        }),
      );
      return at;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    const out = await client.send(
      new GetCommand({ TableName: table, Key: claimKey(sendId), ConsistentRead: true }),
    );
    return Claim.parse(out.Item).at;
  }

  /** A day's entries newest first, page by page, from just after `startKey` if given. */
  async function* entriesOfDay(day: string, channel?: string, startKey?: Record<string, unknown>) {
    const items = queryItems(client, {
      TableName: table,
      KeyConditionExpression: '#day = :day',
      FilterExpression: channel ? 'channel = :channel' : undefined,
      ExpressionAttributeNames: { '#day': 'day' },
      ExpressionAttributeValues: { ':day': day, ...(channel ? { ':channel': channel } : {}) },
      ScanIndexForward: false,
      ExclusiveStartKey: startKey,
      Limit: PAGE,
    });
    for await (const raw of items) yield OutboxEntry.parse(raw);
  }

  return {
    async record(entry) {
      const at = await claim(entry.sendId, entry.at);
      const stored = { ...entry, at };
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...stored, ...entryKey(stored), expiresAt: expiresAt(at) },
        }),
      );
      return stored;
    },

    async list(query: OutboxQuery): Promise<OutboxPage> {
      const items: OutboxEntry[] = [];
      const from = query.cursor ? query.days.indexOf(query.cursor.day) : 0;
      // A cursor of a day that left the window: the listing has nothing more.
      if (from < 0) return { items };
      for (const day of query.days.slice(from)) {
        const resumeAt = query.cursor?.day === day ? { day, sk: query.cursor.sk } : undefined;
        for await (const entry of entriesOfDay(day, query.channel, resumeAt)) {
          items.push(entry);
          if (items.length === query.limit) {
            return { items, nextCursor: encodeOutboxCursor({ day, sk: entryKey(entry).sk }) };
          }
        }
      }
      return { items };
    },
  };
}
