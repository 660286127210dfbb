// Waits table (pk, sk): campaign waits and deferred sends, swept every minute (docs/campaigns.md,
// "Triggers and timers"; docs/data-model.md has the access patterns).
//   pk <customerId>  sk w#<campaignId>#<waitKey>   one row per customer x campaign x wait key: open is a
//                                                   conditional put (no pending row of that key), so a
//                                                   second cart add during the wait opens nothing
//   pk #sweep        sk #sweep                      the sweep's watermark: the oldest due hour that may
//                                                   still hold pending rows
// GSI `due` (dueBucket, dueAt) is sparse: only pending rows carry dueBucket (`<due hour>#<shard>`), and
// firing or cancelling removes it, so a sweep reads due pending rows and nothing else. Rows spread over
// SHARDS buckets per hour: a flash sale's opens (all due the same hour) would otherwise write one index
// partition, which takes about 1,000 writes a second.
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import pMap from 'p-map';
import { CLOSED_RETENTION_DAYS, NewWait, Wait, type WaitRef, type WaitStore } from '../../campaigns/waits.js';
import { isConditionFailed } from './errors.js';
import { queryAll, queryItems } from './query.js';

export const WAITS_DUE_INDEX = 'due';
export const SHARDS = 16;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const SWEEP = '#sweep';
/**
 * The watermark stays this far behind the sweep's clock: an opener whose clock lags a little may still
 * write the hour the sweep just left.
 */
const WATERMARK_MARGIN = 10 * 60_000;

const iso = (ms: number) => new Date(ms).toISOString();
const epochSeconds = (ms: number) => Math.floor(ms / 1000);
/** `YYYY-MM-DDTHH` of an instant: the due hour. */
const hourOf = (ms: number) => iso(ms).slice(0, 13);
const sortKey = (w: Pick<Wait, 'campaignId' | 'waitKey'>) => `w#${w.campaignId}#${w.waitKey}`;
const shardOf = (pk: string, sk: string) =>
  createHash('sha256').update(pk).update('\0').update(sk).digest().readUInt16BE(0) % SHARDS;
const bucketOf = (hour: string, shard: number) => `${hour}#${String(shard).padStart(2, '0')}`;

/** A stored row as a wait (keys and index attributes dropped; the context is kept as JSON text). */
function fromRow(item: Record<string, unknown>): Wait {
  const context = typeof item.context === 'string' ? JSON.parse(item.context) : item.context;
  return Wait.parse({ ...item, context });
}

export interface WaitsTableOptions {
  /** Due-hour buckets queried at once. */
  queryConcurrency?: number;
  /**
   * Hours a sweep looks back when there is no watermark yet: a new table, whose sweep schedule started
   * with it. Each hour costs SHARDS queries, once.
   */
  firstLookbackHours?: number;
}

export function waitsTable(
  client: DynamoDBDocumentClient,
  table: string,
  options: WaitsTableOptions = {},
): WaitStore {
  const concurrency = options.queryConcurrency ?? SHARDS;
  const firstLookbackHours = options.firstLookbackHours ?? 24;

  /** Closes a pending row of this opening: fired or cancelled. */
  async function close(ref: WaitRef, status: 'fired' | 'cancelled', now: number): Promise<boolean> {
    try {
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: ref.customerId, sk: sortKey(ref) },
          UpdateExpression: 'SET #status = :status, closedAt = :now, expiresAt = :expires REMOVE dueBucket',
          ConditionExpression: '#status = :pending AND triggerKey = :triggerKey',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': status,
            ':now': iso(now),
            ':expires': epochSeconds(now + CLOSED_RETENTION_DAYS * DAY),
            ':pending': 'pending',
            ':triggerKey': ref.triggerKey,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async function watermark(now: number): Promise<string> {
    const out = await client.send(
      new GetCommand({ TableName: table, Key: { pk: SWEEP, sk: SWEEP }, ConsistentRead: true }),
    );
    const hour = out.Item?.hour;
    return typeof hour === 'string' ? hour : hourOf(now - firstLookbackHours * HOUR);
  }

  /** Moves the watermark forward only (concurrent sweeps may race; the later hour wins). */
  async function advance(hour: string): Promise<void> {
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { pk: SWEEP, sk: SWEEP, hour },
          ConditionExpression: 'attribute_not_exists(pk) OR #hour < :hour',
          ExpressionAttributeNames: { '#hour': 'hour' },
          ExpressionAttributeValues: { ':hour': hour },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  /** Due pending rows of one bucket, earliest first. */
  async function dueIn(bucket: string, now: number, limit: number): Promise<Wait[]> {
    const rows: Wait[] = [];
    const due = queryItems(client, {
      TableName: table,
      IndexName: WAITS_DUE_INDEX,
      KeyConditionExpression: 'dueBucket = :bucket AND dueAt <= :now',
      ExpressionAttributeValues: { ':bucket': bucket, ':now': iso(now) },
      Limit: limit,
    });
    for await (const item of due) {
      rows.push(fromRow(item));
      if (rows.length >= limit) break;
    }
    return rows;
  }

  return {
    async open(wait, now) {
      const w = NewWait.parse(wait);
      const pk = w.customerId;
      const sk = sortKey(w);
      // A wait already due (a late event, a deferral to now) goes in the current hour, never behind the
      // sweep's watermark.
      const dueMs = Math.max(Date.parse(w.dueAt), now);
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...w,
              pk,
              sk,
              context: JSON.stringify(w.context),
              status: 'pending',
              openedAt: iso(now),
              dueBucket: bucketOf(hourOf(dueMs), shardOf(pk, sk)),
              // A row the sweep never reached (it was stopped for a month) is not worth sending.
              expiresAt: epochSeconds(dueMs + CLOSED_RETENTION_DAYS * DAY),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR #status <> :pending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':pending': 'pending' },
          }),
        );
        return 'opened';
      } catch (error) {
        if (isConditionFailed(error)) return 'already_open';
        throw error;
      }
    },

    async cancel(request, now) {
      const before = iso(Date.parse(request.before));
      const pending = await pMap(
        [...new Set(request.campaignIds)],
        async (campaignId) => {
          const items = await queryAll(client, {
            TableName: table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            FilterExpression: '#status = :pending AND contains(cancelOn, :event) AND triggeredAt <= :before',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':pk': request.customerId,
              ':prefix': `w#${campaignId}#`,
              ':pending': 'pending',
              ':event': request.event,
              ':before': before,
            },
            ConsistentRead: true,
          });
          return items.map(fromRow);
        },
        { concurrency: 4 },
      );
      const closed = await pMap(pending.flat(), (w) => close(w, 'cancelled', now), { concurrency: 8 });
      return closed.filter(Boolean).length;
    },

    async due(now, limit) {
      const from = await watermark(now);
      const hours: string[] = [];
      for (let h = Date.parse(`${from}:00:00Z`); hourOf(h) <= hourOf(now); h += HOUR) hours.push(hourOf(h));
      const found: Wait[] = [];
      /** Leading hours found empty: the watermark may pass them. */
      let emptyUntil: string | undefined;
      let stillEmpty = true;
      for (const hour of hours) {
        if (found.length >= limit) break;
        const perShard = await pMap(
          Array.from({ length: SHARDS }, (_, shard) => bucketOf(hour, shard)),
          (bucket) => dueIn(bucket, now, limit - found.length),
          { concurrency },
        );
        const rows = perShard.flat();
        found.push(...rows);
        if (stillEmpty && rows.length === 0) emptyUntil = hour;
        else stillEmpty = false;
      }
      // Up to the hours the sweep has left for good: an hour still running may receive rows.
      if (emptyUntil !== undefined) {
        const hour = hourOf(Math.min(Date.parse(`${emptyUntil}:00:00Z`) + HOUR, now - WATERMARK_MARGIN));
        if (hour > from) await advance(hour);
      }
      return found.sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0)).slice(0, limit);
    },

    fire: (ref, now) => close(ref, 'fired', now),
  };
}
