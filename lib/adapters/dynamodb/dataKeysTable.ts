// Data keys table: the wrapped data keys of PII encryption (lib/pii/cipher.ts). Key: keyId. Items are
// written once, before the key's first use, and read by any process that meets a token naming them.
// Nothing here is secret without the master key (KMS or the local key): the blobs are wrapped.
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { DataKeyStore } from '../../pii/keys.js';
import { isConditionFailed } from './errors.js';

export const DataKeyItem = z.object({
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** The data key wrapped under the master key, base64. */
  encryptedKey: z.base64().min(1),
  createdAt: z.iso.datetime({ offset: true }),
});
export type DataKeyItem = z.infer<typeof DataKeyItem>;

export function dataKeysTable(client: DynamoDBDocumentClient, table: string): DataKeyStore {
  return {
    async put(keyId, encrypted, createdAt) {
      const item: DataKeyItem = DataKeyItem.parse({
        keyId,
        encryptedKey: encrypted.toString('base64'),
        createdAt,
      });
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(keyId)',
          }),
        );
      } catch (error) {
        // 64 random bits make this practically impossible; a key is never replaced under its tokens.
        if (isConditionFailed(error)) throw new Error(`data key ${keyId} already exists`, { cause: error });
        throw error;
      }
    },
    async get(keyId) {
      // Consistent: a token may be read (by a consumer, a replay) moments after its key was registered.
      const out = await client.send(
        new GetCommand({ TableName: table, Key: { keyId }, ConsistentRead: true }),
      );
      return out.Item ? Buffer.from(DataKeyItem.parse(out.Item).encryptedKey, 'base64') : undefined;
    },
  };
}
