// One Query, page after page: DynamoDB stops a page at 1 MB (or `Limit`) and hands back
// LastEvaluatedKey; every reader that wants "all of it" follows that key the same way.

import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;

/** Each item of the query in order, from `input.ExclusiveStartKey` (if any) to the last page. */
export async function* queryItems(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
): AsyncGenerator<Item> {
  let start = input.ExclusiveStartKey;
  do {
    const out = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    yield* out.Items ?? [];
    start = out.LastEvaluatedKey;
  } while (start);
}

/** Every item of the query (for partitions known to stay small: a customer's edges, caps, waits). */
export async function queryAll(client: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  for await (const item of queryItems(client, input)) items.push(item);
  return items;
}
