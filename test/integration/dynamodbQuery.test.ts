// The shared Query pager on the DynamoDB emulator: a small Limit forces many pages, and every
// reader built on it (edges, waits, caps, quarantine and outbox days) must see each item once.
import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
