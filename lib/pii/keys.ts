// Envelope encryption of PII: a master key (KMS in the cloud, a local 32-byte key on laptops and in
// tests) only ever wraps random data keys; the data keys encrypt the values (lib/pii/cipher.ts).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError, type PiiConfig } from '../config.js';

/** Makes and unwraps data keys; the master key never leaves the provider (nor KMS). */
export interface KeyProvider {
  /** A fresh 32-byte data key, in clear and wrapped under the master key. */
  newDataKey(): Promise<{ plaintext: Buffer; encrypted: Buffer }>;
  decryptDataKey(encrypted: Buffer): Promise<Buffer>;
}

/**
 * Where the wrapped data keys are registered, by keyId, before their first use: any process that holds
 * a token can then find the key it was made with. lib/adapters/dynamodb/dataKeysTable.ts implements it.
 */
export interface DataKeyStore {
  /** Conditional: fails if the keyId is taken (a new key never replaces an old one). */
  put(keyId: string, encrypted: Buffer, createdAt: string): Promise<void>;
  get(keyId: string): Promise<Buffer | undefined>;
}

export const DATA_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Binds a wrapped blob to its purpose: a blob of some other use of the same master key will not unwrap. */
const LOCAL_WRAP_AAD = Buffer.from('precis:pii-data-key:v1');

/**
 * Wraps data keys under a local master key with AES-256-GCM. A blob is iv[12] | wrapped key[32] | tag[16],
 * self-contained: unwrapping needs nothing but the master key.
 */
export function localKeyProvider(masterKey: Buffer): KeyProvider {
  if (masterKey.length !== DATA_KEY_BYTES) {
    throw new ConfigError(`PII master key must be ${DATA_KEY_BYTES} bytes, got ${masterKey.length}`);
  }
  return {
    async newDataKey() {
      const plaintext = randomBytes(DATA_KEY_BYTES);
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
      cipher.setAAD(LOCAL_WRAP_AAD);
      const wrapped = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return { plaintext, encrypted: Buffer.concat([iv, wrapped, cipher.getAuthTag()]) };
    },
    async decryptDataKey(encrypted) {
      if (encrypted.length !== IV_BYTES + DATA_KEY_BYTES + TAG_BYTES) {
        throw new Error('wrapped data key has the wrong length: not made by the local key provider');
      }
      const decipher = createDecipheriv('aes-256-gcm', masterKey, encrypted.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(LOCAL_WRAP_AAD);
      decipher.setAuthTag(encrypted.subarray(IV_BYTES + DATA_KEY_BYTES));
      try {
        return Buffer.concat([
          decipher.update(encrypted.subarray(IV_BYTES, IV_BYTES + DATA_KEY_BYTES)),
          decipher.final(),
        ]);
      } catch {
        throw new Error(
          'wrapped data key does not unwrap under the local master key (was PRECIS_PII_LOCAL_KEY changed?)',
        );
      }
    },
  };
}

/**
 * A provider that refuses every call with what to configure: a service without PII keys still starts
 * and serves events that carry no PII, and fails clearly on the first one that does.
 */
export function missingKeyProvider(): KeyProvider {
  const fail = (): never => {
    throw new ConfigError(
      'PII encryption has no master key: set PRECIS_PII_KMS_KEY_ID (a KMS key id, ARN or alias) in the ' +
        'cloud, or PRECIS_PII_LOCAL_KEY (32 random bytes, base64: `openssl rand -base64 32`) locally',
    );
  };
  return { newDataKey: async () => fail(), decryptDataKey: async () => fail() };
}

/** The provider a configuration names: KMS when a KMS key is set, else the local key, else none. */
export function keyProviderFor(pii: PiiConfig, kms: (keyId: string) => KeyProvider): KeyProvider {
  if (pii.kmsKeyId) return kms(pii.kmsKeyId);
  if (pii.localKey) return localKeyProvider(pii.localKey);
  return missingKeyProvider();
}
