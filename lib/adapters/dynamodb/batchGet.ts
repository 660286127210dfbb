// BatchGetItem in chunks of 100 keys, consistent, asking again for the keys DynamoDB leaves unprocessed
// (throttling returns them, not an error), with a growing pause; the counterpart of batchWrite.ts.

import { setTimeout as sleep } from 'node:timers/promises';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const MAX_ATTEMPTS = 7;
const CHUNK = 100;

/** Every item found for `keys` (distinct keys: DynamoDB refuses a batch that repeats one), in no order. */
export async function batchGet(
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += CHUNK) {
    let pending: Record<string, unknown>[] = keys.slice(i, i + CHUNK);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_ATTEMPTS)
        throw new Error(`BatchGetItem left ${pending.length} keys of ${table} unread`);
      if (attempt > 1) await sleep(25 * 2 ** attempt);
      const out = await client.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
      );
      items.push(...(out.Responses?.[table] ?? []));
      pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return items;
}
