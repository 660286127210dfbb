// API keys table. Key: keyHash (the clear key is never stored). Revoking by keyId scans: it is an
// operator action on a table of a few dozen keys.
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ApiKeyRecord, type ApiKeyStore } from '../../auth/apiKeys.js';

export function apiKeysTable(client: DynamoDBDocumentClient, table: string): ApiKeyStore {
  const list = async () => {
    const records: ApiKeyRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
      for (const item of out.Items ?? []) records.push(ApiKeyRecord.parse(item));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return records;
  };
  return {
    async findByHash(keyHash) {
      const out = await client.send(new GetCommand({ TableName: table, Key: { keyHash } }));
      return out.Item ? ApiKeyRecord.parse(out.Item) : undefined;
    },
    async put(record) {
      await client.send(new PutCommand({ TableName: table, Item: record }));
    },
    async revoke(keyId, at) {
      const record = (await list()).find((r) => r.keyId === keyId);
      if (!record) return false;
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: { keyHash: record.keyHash },
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return true;
    },
    list,
  };
}
