// Data keys of PII envelope encryption under a KMS key: GenerateDataKey (AES_256) makes one, Decrypt
// unwraps it. The master key never leaves KMS; the encryption context binds blobs to this purpose.
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { DATA_KEY_BYTES, type KeyProvider } from '../../pii/keys.js';

const ENCRYPTION_CONTEXT = { purpose: 'precis-pii-data-key' };

export function kmsKeyProvider(client: KMSClient, keyId: string): KeyProvider {
  return {
    async newDataKey() {
      const out = await client.send(
        new GenerateDataKeyCommand({
          KeyId: keyId,
          KeySpec: 'AES_256',
          EncryptionContext: ENCRYPTION_CONTEXT,
        }),
      );
      if (out.Plaintext?.length !== DATA_KEY_BYTES || !out.CiphertextBlob) {
        throw new Error(`KMS GenerateDataKey on ${keyId} returned no 32-byte data key`);
      }
      return { plaintext: Buffer.from(out.Plaintext), encrypted: Buffer.from(out.CiphertextBlob) };
    },
    async decryptDataKey(encrypted) {
      // KeyId pins the key: a blob wrapped under another KMS key is refused rather than unwrapped.
      const out = await client.send(
        new DecryptCommand({
          CiphertextBlob: encrypted,
          KeyId: keyId,
          EncryptionContext: ENCRYPTION_CONTEXT,
        }),
      );
      if (out.Plaintext?.length !== DATA_KEY_BYTES) {
        throw new Error(`KMS Decrypt under ${keyId} returned no 32-byte data key`);
      }
      return Buffer.from(out.Plaintext);
    },
  };
}
