// Any string a client sends as a name, id or key survives the profiles table on the DynamoDB emulator:
// written, read back (single and batched) and merged, every key is where the reducer put it. An event
// named `constructor` once made every write of its node throw, and its archive object went to the DLQ.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { profilesTable } from '../../lib/adapters/dynamodb/profilesTable.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import { attributionNode } from '../../lib/identity/nodes.js';
import { get } from '../../lib/profiles/maps.js';
import { mergePartials } from '../../lib/profiles/merge.js';
import { emptyPartial } from '../../lib/profiles/partial.js';
import { applyObject } from '../../lib/profiles/reduce.js';
import { clientKey, eventsKeyedBy, expectedKeys, PROTOTYPE_NAMES } from '../support/mapKeys.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const db = createDynamoDb(config);
const table = profilesTable(db, config.tables.profiles);
afterAll(() => db.destroy());

const OBJECT_AT = Date.parse('2026-03-10T00:00:00.000Z');

/** Applies eventsKeyedBy(key) to a fresh node, stores it, and reads it back both ways. */
async function roundTrip(key: string) {
  const userId = `u-${randomUUID()}`;
  const written = applyObject(
    emptyPartial(`user:${userId}`),
    eventsKeyedBy(key, userId),
    `raw/dt=2026-03-10/${userId}.ndjson.gz`,
    OBJECT_AT,
  ).partial;
  expect(await table.put(written, undefined)).toBe(true);
  const read = await table.get(written.node);
  const batched = (await table.getMany([written.node])).get(written.node);
  return { written, read, batched };
}

function expectKeysOf(key: string, partial: Record<string, unknown> | undefined): void {
  for (const [field, stored] of expectedKeys(key)) {
    if (stored === undefined) continue;
    const map = partial?.[field] as Record<string, unknown>;
    expect(Object.hasOwn(map, stored), `${field} holds ${JSON.stringify(stored)}`).toBe(true);
  }
}

describe('profiles table with client strings as map keys', () => {
  it.each([...PROTOTYPE_NAMES, ' constructor '])('stores and reads back %j in every map', async (key) => {
    const { written, read, batched } = await roundTrip(key);
    expect(read).toEqual(written);
    expect(batched).toEqual(written);
    expectKeysOf(key, read);
    // The conditional update path: the next object applies on top of what was read.
    const next = applyObject(
      read ?? written,
      eventsKeyedBy(key, written.node.slice('user:'.length)).map((e) => ({
        ...e,
        messageId: `${e.messageId}b`,
      })),
      'raw/dt=2026-03-10/next.ndjson.gz',
      OBJECT_AT + 1,
    ).partial;
    expect(await table.put(next, written.version)).toBe(true);
    const name = expectedKeys(key)[0]?.[1] as string;
    expect(get(mergePartials([(await table.get(written.node)) ?? written]).eventCounts, name)).toBe(2);
  });

  it('stores the partial of a userId of the longest length ingestion accepts', async () => {
    // 1,024 characters of 3 bytes: `user:<id>` as the item's key was over DynamoDB's 2,048 bytes.
    const userId = `${randomUUID()}${'客'.repeat(988)}`;
    const node = attributionNode({ userId });
    expect(node).toBeDefined();
    const written = applyObject(
      emptyPartial(node as string),
      eventsKeyedBy('constructor', userId),
      'raw/dt=2026-03-10/long.ndjson.gz',
      OBJECT_AT,
    ).partial;
    expect(written.eventCounts.constructor).toBe(1);
    expect(await table.put(written, undefined)).toBe(true);
    expect(await table.get(written.node)).toEqual(written);
  });

  it('round-trips any string used as a name, id or key', async () => {
    await fc.assert(
      fc.asyncProperty(clientKey, async (key) => {
        const { written, read, batched } = await roundTrip(key);
        expect(read).toEqual(written);
        expect(batched).toEqual(written);
        expectKeysOf(key, read);
      }),
      { numRuns: 60 },
    );
  });
});
