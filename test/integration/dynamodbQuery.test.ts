// The shared Query pager and BatchGet reader on the DynamoDB emulator: a small Limit forces many pages,
// more than 100 keys many batches, and every reader built on them (edges, waits, caps, quarantine and
// outbox days; profiles, edges, dates) must see each item once; keys DynamoDB leaves unprocessed under
// throttling (injected) are asked for again.
import { randomUUID } from 'node:crypto';
import { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchGet } from '../../lib/adapters/dynamodb/batchGet.js';
import { queryAll, queryItems } from '../../lib/adapters/dynamodb/query.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const db = createDynamoDb(config);
const table = config.tables.identity;
const pk = `test-query#${randomUUID()}`;
const sks = Array.from({ length: 7 }, (_, i) => `s#${String(i).padStart(2, '0')}`);
const byPk = {
  TableName: table,
  KeyConditionExpression: 'pk = :pk',
  ExpressionAttributeValues: { ':pk': pk },
};

beforeAll(async () => {
  await db.send(
    new BatchWriteCommand({
      RequestItems: { [table]: sks.map((sk) => ({ PutRequest: { Item: { pk, sk } } })) },
    }),
  );
});

afterAll(async () => {
  await db.send(
    new BatchWriteCommand({
      RequestItems: { [table]: sks.map((sk) => ({ DeleteRequest: { Key: { pk, sk } } })) },
    }),
  );
  db.destroy();
});

describe('queryAll / queryItems', () => {
  it('follows LastEvaluatedKey through every page, each item once and in key order', async () => {
    const items = await queryAll(db, { ...byPk, Limit: 2 });
    expect(items.map((i) => i.sk)).toEqual(sks);
  });

  it('continues after a given start key (a listing cursor) and backwards when asked', async () => {
    const after = { pk, sk: sks[2] };
    const forward: unknown[] = [];
    for await (const item of queryItems(db, { ...byPk, Limit: 3, ExclusiveStartKey: after }))
      forward.push(item.sk);
    expect(forward).toEqual(sks.slice(3));
    const backward = await queryAll(db, { ...byPk, Limit: 2, ScanIndexForward: false });
    expect(backward.map((i) => i.sk)).toEqual([...sks].reverse());
  });

  it('returns nothing for an empty partition', async () => {
    expect(await queryAll(db, { ...byPk, ExpressionAttributeValues: { ':pk': `${pk}-none` } })).toEqual([]);
  });
});

describe('batchGet', () => {
  it('reads more than 100 keys in batches, each found item once, missing keys left out', async () => {
    const keys = [
      ...sks.map((sk) => ({ pk, sk })),
      ...Array.from({ length: 150 }, (_, i) => ({ pk, sk: `none#${i}` })),
    ];
    const items = await batchGet(db, table, keys);
    expect(items.map((i) => i.sk).sort()).toEqual(sks);
  });

  it('asks again for the keys left unprocessed, and gives up with an error after its attempts', async () => {
    const throttled = createDynamoDb(config);
    const mock = mockClient(throttled);
    try {
      const [first, second] = sks;
      mock
        .on(BatchGetCommand)
        .resolvesOnce({
          Responses: { [table]: [{ pk, sk: first }] },
          UnprocessedKeys: { [table]: { Keys: [{ pk, sk: second }] } },
        })
        .resolves({ Responses: { [table]: [{ pk, sk: second }] } });
      const items = await batchGet(throttled, table, [
        { pk, sk: first },
        { pk, sk: second },
      ]);
      expect(items.map((i) => i.sk)).toEqual([first, second]);
      expect(mock.commandCalls(BatchGetCommand)[1]?.args[0].input.RequestItems?.[table]?.Keys).toEqual([
        { pk, sk: second },
      ]);

      mock.reset();
      mock.on(BatchGetCommand).resolves({
        Responses: { [table]: [] },
        UnprocessedKeys: { [table]: { Keys: [{ pk, sk: first }] } },
      });
      await expect(batchGet(throttled, table, [{ pk, sk: first }])).rejects.toThrow(/left 1 keys/);
    } finally {
      mock.restore();
      throttled.destroy();
    }
  }, 30_000);
});
