// Reads a secret's current value from Secrets Manager (the HMAC secret of identifiers). The value is
// returned to the caller only: never logged, never put in an error message.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export async function secretValue(client: SecretsManagerClient, secretId: string): Promise<string> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (typeof out.SecretString !== 'string' || out.SecretString === '') {
    throw new Error(`secret ${secretId} has no SecretString (binary secrets are not supported)`);
  }
  return out.SecretString;
}
