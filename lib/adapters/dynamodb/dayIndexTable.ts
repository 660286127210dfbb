// Day indexes (lib/campaigns/dayIndex.ts) in the messaging table, beside the customer's other messaging
// state. For a `kind` (date, lapse) and a name (birthday, visit):
//   pk <customerId>                sk <kind>#<name>    the customer's current entry (the truth)
//   pk <kind>#<name>#<day>         sk <customerId>     its index row: what the scheduled jobs query
// `day` is the entry's bucket attribute: MM-DD for the date index (about customers / 366 rows per
// partition: 2,700 per million customers), YYYY-MM-DD for the lapse index (a day's active customers).
// Without transactions (dynalite has none), a change writes the new index row, then the current row
// (conditioned on what was read: a concurrent change retries, an older event never overwrites a newer
// value), then deletes the old index row. An index row left by a lost race or a crash is never trusted:
// `confirm` checks the rows it is asked about against the current rows and removes those they contradict.
// Erasure finds the index rows through the current rows.
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import {
  type DatedEntry,
  DatedEntry as DatedEntrySchema,
  type DateIndex,
} from '../../campaigns/dateIndex.js';
import type { DayEntry, DayIndex } from '../../campaigns/dayIndex.js';
import {
  type LapseEntry,
  LapseEntry as LapseEntrySchema,
  type LapseIndex,
  type LapseKind,
} from '../../campaigns/lapseIndex.js';
import type { DateTrait } from '../../campaigns/model.js';
import { batchGet } from './batchGet.js';
import { isConditionFailed } from './errors.js';
import { queryAll } from './query.js';

/** Concurrent changes of one customer's entry (rare: an identify burst) each win within this many reads. */
const ATTEMPTS = 12;

interface DayIndexSpec<E extends DayEntry> {
  /** The rows' key prefix. */
  readonly kind: string;
  readonly schema: z.ZodType<E>;
  /** The attribute that holds the entry's day (its index partition). */
  readonly day: keyof E & string;
}

function dayIndexTable<N extends string, E extends DayEntry>(
  client: DynamoDBDocumentClient,
  table: string,
  spec: DayIndexSpec<E>,
): DayIndex<N, E> {
  const dayOf = (e: E) => String(e[spec.day]);
  const currentKey = (customerId: string, name: N) => ({ pk: customerId, sk: `${spec.kind}#${name}` });
  const indexKey = (name: N, day: string, customerId: string) => ({
    pk: `${spec.kind}#${name}#${day}`,
    sk: customerId,
  });
  const sameEntry = (a: E, b: E) =>
    JSON.stringify(spec.schema.parse(a)) === JSON.stringify(spec.schema.parse(b));
  const current = async (customerId: string, name: N) => {
    const { Item } = await client.send(
      new GetCommand({ TableName: table, Key: currentKey(customerId, name), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : spec.schema.parse(Item);
  };
  const removeIndexRow = (name: N, day: string, customerId: string) =>
    client.send(new DeleteCommand({ TableName: table, Key: indexKey(name, day, customerId) }));
  /** Puts the current row if it is still `stored` (absent, or the same time and day); false if it changed. */
  const replaceCurrent = async (name: N, entry: E, stored: E | undefined) => {
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...currentKey(entry.customerId, name), ...entry },
          ...(stored === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#at = :at AND #day = :day',
                ExpressionAttributeNames: { '#at': 'at', '#day': spec.day },
                ExpressionAttributeValues: { ':at': stored.at, ':day': dayOf(stored) },
              }),
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return false;
      throw e;
    }
  };

  /** One read-then-write round of `set`: 'retry' when another writer changed the entry in between. */
  const setOnce = async (
    name: N,
    entry: E,
  ): Promise<{ outcome: 'set' | 'stale' | 'retry'; storedDay?: string }> => {
    const { customerId, ...fields } = entry;
    const stored = await current(customerId, name);
    // A redelivered activity: nothing to write.
    if (stored !== undefined && sameEntry(stored, entry)) return { outcome: 'set' };
    if (stored !== undefined && stored.at > entry.at) return { outcome: 'stale', storedDay: dayOf(stored) };
    await client.send(
      new PutCommand({ TableName: table, Item: { ...indexKey(name, dayOf(entry), customerId), ...fields } }),
    );
    if (!(await replaceCurrent(name, entry, stored))) return { outcome: 'retry' };
    if (stored !== undefined && dayOf(stored) !== dayOf(entry))
      await removeIndexRow(name, dayOf(stored), customerId);
    return { outcome: 'set' };
  };

  return {
    async set(name, entry) {
      for (let attempt = 1; ; attempt++) {
        const round = await setOnce(name, entry);
        if (round.outcome === 'stale' && attempt > 1 && round.storedDay !== dayOf(entry))
          // A later value won while we wrote: the index row of our attempts is not its.
          await removeIndexRow(name, dayOf(entry), entry.customerId);
        if (round.outcome !== 'retry') return round.outcome;
        if (attempt === ATTEMPTS)
          throw new Error(`the ${spec.kind} ${name} of a customer kept changing under ${ATTEMPTS} attempts`);
        // Writers of one customer's entry take turns: jittered, growing pauses.
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    },

    async on(name, day) {
      const items = await queryAll(client, {
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${spec.kind}#${name}#${day}` },
      });
      return items.map(({ pk: _pk, sk, ...fields }) => spec.schema.parse({ ...fields, customerId: sk }));
    },

    async confirm(name, entries) {
      const ids = [...new Set(entries.map((e) => e.customerId))];
      const truth = new Map<string, E>();
      for (const item of await batchGet(
        client,
        table,
        ids.map((id) => currentKey(id, name)),
      )) {
        const found = spec.schema.parse(item);
        truth.set(found.customerId, found);
      }
      const confirmed = new Map<string, E>();
      for (const entry of entries) {
        const now = truth.get(entry.customerId);
        if (now !== undefined && dayOf(now) === dayOf(entry)) confirmed.set(now.customerId, now);
        else await removeIndexRow(name, dayOf(entry), entry.customerId);
      }
      return [...confirmed.values()];
    },
  };
}

/** Who has a birthday (or an account anniversary) on a month and day: `date#<trait>` rows. */
export const datesTable = (client: DynamoDBDocumentClient, table: string): DateIndex =>
  dayIndexTable<DateTrait, DatedEntry>(client, table, {
    kind: 'date',
    schema: DatedEntrySchema,
    day: 'monthDay',
  });

/** Whose last visit (or order) was on a day: `lapse#<kind>` rows. */
export const lapsesTable = (client: DynamoDBDocumentClient, table: string): LapseIndex =>
  dayIndexTable<LapseKind, LapseEntry>(client, table, {
    kind: 'lapse',
    schema: LapseEntrySchema,
    day: 'day',
  });
