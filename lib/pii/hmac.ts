// Keyed hashes of identifiers (e-mail, phone, device, CRM and open ids): the identity index matches
// customers by these, never by the values. Keyed, so that the index cannot be reversed by hashing a list
// of known e-mail addresses without the secret. The secret is set once per stage: changing it re-keys
// the whole identity index.
import { createHmac } from 'node:crypto';
import { ConfigError, type PiiConfig } from '../config.js';

/** base64url of the first 16 bytes of HMAC-SHA256(secret, `${type}:${value}`): 22 characters. */
export function identifierHash(secret: string, type: string, normalizedValue: string): string {
  return createHmac('sha256', secret)
    .update(`${type}:${normalizedValue}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}

/** Shorter secrets are refused: the hash is only as strong as the secret is hard to guess. */
export const MIN_HMAC_SECRET_LENGTH = 16;

/** Fetched secrets by ARN, one fetch per process (a failed fetch is forgotten, so the next call retries). */
const fetched = new Map<string, Promise<string>>();

/**
 * The HMAC secret: PRECIS_HMAC_SECRET when set (local stacks, tests), else the Secrets Manager secret
 * PRECIS_HMAC_SECRET_ARN names (fetched once per process with `fetchSecret`). Never logged.
 */
export async function loadHmacSecret(
  pii: PiiConfig,
  /** Reads a Secrets Manager secret (lib/runtime.ts passes the adapter: no SDK in this module). */
  fetchSecret?: (arn: string) => Promise<string>,
): Promise<string> {
  if (pii.hmacSecret) return checked(pii.hmacSecret, 'PRECIS_HMAC_SECRET');
  const arn = pii.hmacSecretArn;
  if (!arn) {
    throw new ConfigError(
      'Identifier hashing has no secret: set PRECIS_HMAC_SECRET_ARN (a Secrets Manager secret) in the ' +
        'cloud, or PRECIS_HMAC_SECRET (at least 16 random characters) locally',
    );
  }
  let pending = fetched.get(arn);
  if (!pending) {
    if (!fetchSecret) throw new ConfigError(`No way to read the secret ${arn} was given`);
    pending = fetchSecret(arn).then((s) => checked(s, `the secret ${arn}`));
    pending.catch(() => fetched.delete(arn));
    fetched.set(arn, pending);
  }
  return pending;
}

function checked(secret: string, from: string): string {
  if (secret.length < MIN_HMAC_SECRET_LENGTH) {
    throw new ConfigError(
      `The HMAC secret from ${from} must be at least ${MIN_HMAC_SECRET_LENGTH} characters`,
    );
  }
  return secret;
}
