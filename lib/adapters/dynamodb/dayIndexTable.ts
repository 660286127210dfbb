// The date index (lib/campaigns/dateIndex.ts) in the messaging table, beside the customer's other
// messaging state:
//   pk <customerId>             sk date#<trait>   the customer's current date (the truth): monthDay, year?, zone?, at
//   pk date#<trait>#<MM-DD>     sk <customerId>   its index row: what the hourly date job queries
// A day's partition holds about customers / 366 rows (2,700 per million customers): one small Query.
// Without transactions (dynalite has none), a change writes the new index row, then the current row
// (conditioned on what was read: a concurrent change retries, an older event never overwrites a newer
// date), then deletes the old index row. An index row left by a lost race or a crash is never trusted:
// `confirm` checks the rows it is asked about against the current rows and removes those they contradict.
// Erasure finds the index row through the current row.
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DatedEntry, type DateIndex } from '../../campaigns/dateIndex.js';
import type { DateTrait } from '../../campaigns/model.js';
import { batchGet } from './batchGet.js';
import { isConditionFailed } from './errors.js';
import { queryAll } from './query.js';

const currentKey = (customerId: string, trait: DateTrait) => ({ pk: customerId, sk: `date#${trait}` });
const indexKey = (trait: DateTrait, monthDay: string, customerId: string) => ({
  pk: `date#${trait}#${monthDay}`,
  sk: customerId,
});
/** Concurrent changes of one customer's date (rare: an identify burst) each win within this many reads. */
const ATTEMPTS = 12;
const sameEntry = (a: DatedEntry, b: DatedEntry) =>
  JSON.stringify(DatedEntry.parse(a)) === JSON.stringify(DatedEntry.parse(b));

export function datesTable(client: DynamoDBDocumentClient, table: string): DateIndex {
  const current = async (customerId: string, trait: DateTrait) => {
    const { Item } = await client.send(
      new GetCommand({ TableName: table, Key: currentKey(customerId, trait), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : DatedEntry.parse(Item);
  };
  const removeIndexRow = (trait: DateTrait, monthDay: string, customerId: string) =>
    client.send(new DeleteCommand({ TableName: table, Key: indexKey(trait, monthDay, customerId) }));
  /** Puts the current row if it is still `stored` (absent, or the same time and day); false if it changed. */
  const replaceCurrent = async (trait: DateTrait, entry: DatedEntry, stored: DatedEntry | undefined) => {
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...currentKey(entry.customerId, trait), ...entry },
          ...(stored === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#at = :at AND monthDay = :monthDay',
                ExpressionAttributeNames: { '#at': 'at' },
                ExpressionAttributeValues: { ':at': stored.at, ':monthDay': stored.monthDay },
              }),
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return false;
      throw e;
    }
  };

  /** One read-then-write round of `set`: 'retry' when another writer changed the date in between. */
  const setOnce = async (
    trait: DateTrait,
    entry: DatedEntry,
  ): Promise<{ outcome: 'set' | 'stale' | 'retry'; storedDay?: string }> => {
    const { customerId, ...fields } = entry;
    const stored = await current(customerId, trait);
    // A redelivered activity: nothing to write.
    if (stored !== undefined && sameEntry(stored, entry)) return { outcome: 'set' };
    if (stored !== undefined && stored.at > entry.at) return { outcome: 'stale', storedDay: stored.monthDay };
    await client.send(
      new PutCommand({
        TableName: table,
        Item: { ...indexKey(trait, entry.monthDay, customerId), ...fields },
      }),
    );
    if (!(await replaceCurrent(trait, entry, stored))) return { outcome: 'retry' };
    if (stored !== undefined && stored.monthDay !== entry.monthDay)
      await removeIndexRow(trait, stored.monthDay, customerId);
    return { outcome: 'set' };
  };

  return {
    async set(trait, entry) {
      for (let attempt = 1; ; attempt++) {
        const round = await setOnce(trait, entry);
        if (round.outcome === 'stale' && attempt > 1 && round.storedDay !== entry.monthDay)
          // A later date won while we wrote: the index row of our attempts is not its.
          await removeIndexRow(trait, entry.monthDay, entry.customerId);
        if (round.outcome !== 'retry') return round.outcome;
        if (attempt === ATTEMPTS)
          throw new Error(`the ${trait} of a customer kept changing under ${ATTEMPTS} attempts`);
        // Writers of one customer's date take turns: jittered, growing pauses.
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    },

    async on(trait, monthDay) {
      const items = await queryAll(client, {
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `date#${trait}#${monthDay}` },
      });
      return items.map(({ pk: _pk, sk, ...fields }) => DatedEntry.parse({ ...fields, customerId: sk }));
    },

    async confirm(trait, entries) {
      const ids = [...new Set(entries.map((e) => e.customerId))];
      const truth = new Map<string, DatedEntry>();
      for (const item of await batchGet(
        client,
        table,
        ids.map((id) => currentKey(id, trait)),
      )) {
        const found = DatedEntry.parse(item);
        truth.set(found.customerId, found);
      }
      const confirmed = new Map<string, DatedEntry>();
      for (const entry of entries) {
        const now = truth.get(entry.customerId);
        if (now !== undefined && now.monthDay === entry.monthDay) confirmed.set(now.customerId, now);
        else await removeIndexRow(trait, entry.monthDay, entry.customerId);
      }
      return [...confirmed.values()];
    },
  };
}
