// The KMS key provider and the Secrets Manager read, against aws-sdk-client-mock: there is no KMS or
// Secrets Manager emulator here, so these tests pin the contract (the commands sent and how answers are
// read), not the services. The cipher on top is exercised end to end with the local provider elsewhere.
import { randomBytes } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { kmsKeyProvider } from '../../lib/adapters/kms/kmsKeyProvider.js';
import { secretValue } from '../../lib/adapters/secrets/secretValue.js';
import { createPiiCipher } from '../../lib/pii/cipher.js';
import type { DataKeyStore } from '../../lib/pii/keys.js';

const KEY_ID = 'arn:aws:kms:eu-west-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const kms = new KMSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const kmsMock = mockClient(kms);
afterEach(() => kmsMock.reset());

describe('kmsKeyProvider', () => {
  it('makes data keys with GenerateDataKey (AES_256, the configured key) and unwraps them with Decrypt', async () => {
    const plaintext = randomBytes(32);
    const blob = randomBytes(184);
    kmsMock
      .on(GenerateDataKeyCommand)
      .resolves({ Plaintext: plaintext, CiphertextBlob: blob, KeyId: KEY_ID });
    kmsMock.on(DecryptCommand).resolves({ Plaintext: plaintext, KeyId: KEY_ID });
    const provider = kmsKeyProvider(kms, KEY_ID);

    const made = await provider.newDataKey();
    expect(made.plaintext.equals(plaintext)).toBe(true);
    expect(made.encrypted.equals(blob)).toBe(true);
    const [generate] = kmsMock.commandCalls(GenerateDataKeyCommand);
    expect(generate?.args[0].input).toEqual({
      KeyId: KEY_ID,
      KeySpec: 'AES_256',
      EncryptionContext: { purpose: 'precis-pii-data-key' },
    });

    expect((await provider.decryptDataKey(blob)).equals(plaintext)).toBe(true);
    const [decrypt] = kmsMock.commandCalls(DecryptCommand);
    expect(Buffer.from(decrypt?.args[0].input.CiphertextBlob ?? []).equals(blob)).toBe(true);
    expect(decrypt?.args[0].input).toMatchObject({
      KeyId: KEY_ID,
      EncryptionContext: { purpose: 'precis-pii-data-key' },
    });
  });

  it('refuses an answer without a 32-byte key, and lets KMS errors through', async () => {
    kmsMock
      .on(GenerateDataKeyCommand)
      .resolves({ Plaintext: randomBytes(16), CiphertextBlob: randomBytes(8) });
    await expect(kmsKeyProvider(kms, KEY_ID).newDataKey()).rejects.toThrow(/no 32-byte data key/);
    kmsMock.on(DecryptCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(kmsKeyProvider(kms, KEY_ID).decryptDataKey(randomBytes(8))).rejects.toThrow('denied');
  });

  it('under the cipher: one GenerateDataKey per data key, one Decrypt per key another process meets', async () => {
    const plaintext = randomBytes(32);
    const blob = randomBytes(184);
    kmsMock.on(GenerateDataKeyCommand).resolves({ Plaintext: plaintext, CiphertextBlob: blob });
    kmsMock.on(DecryptCommand).resolves({ Plaintext: plaintext });
    const keys = new Map<string, Buffer>();
    const store: DataKeyStore = {
      put: async (keyId, encrypted) => void keys.set(keyId, encrypted),
      get: async (keyId) => keys.get(keyId),
    };
    const writer = createPiiCipher({ provider: kmsKeyProvider(kms, KEY_ID), store });
    const tokens = await Promise.all(['a', 'b', 'c'].map((v) => writer.encrypt(v)));
    const reader = createPiiCipher({ provider: kmsKeyProvider(kms, KEY_ID), store });
    expect(await Promise.all(tokens.map((t) => reader.decrypt(t)))).toEqual(['a', 'b', 'c']);
    expect(kmsMock.commandCalls(GenerateDataKeyCommand)).toHaveLength(1);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(1);
  });
});

describe('secretValue', () => {
  const sm = new SecretsManagerClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const smMock = mockClient(sm);
  afterEach(() => smMock.reset());

  it('reads SecretString by id and refuses a secret without one, without showing the value', async () => {
    smMock
      .on(GetSecretValueCommand, { SecretId: 'arn:secret:hmac' })
      .resolves({ SecretString: 's3cr3t-value' });
    expect(await secretValue(sm, 'arn:secret:hmac')).toBe('s3cr3t-value');
    smMock
      .on(GetSecretValueCommand, { SecretId: 'arn:secret:binary' })
      .resolves({ SecretBinary: randomBytes(8) });
    await expect(secretValue(sm, 'arn:secret:binary')).rejects.toThrow(/no SecretString/);
  });
});
