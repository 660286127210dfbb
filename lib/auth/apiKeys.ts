// API keys and their roles. A write key (one per source: web, app, POS...) can only ingest; a read key
// can read customer data; an admin key can do everything. Keys are stored as SHA-256 hashes only.
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

export const Role = z.enum(['write', 'read', 'admin']);
export type Role = z.infer<typeof Role>;

const PREFIX: Record<Role, string> = { write: 'wk_', read: 'rk_', admin: 'ak_' };

export const ApiKeyRecord = z.object({
  keyHash: z.string(),
  /** Public handle of the key (safe to log and to show in lists). */
  keyId: z.string(),
  role: Role,
  /** The source that events ingested with this key are attributed to. */
  sourceId: z.string(),
  name: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

export interface ApiKeyStore {
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  put(record: ApiKeyRecord): Promise<void>;
  /** Marks the key revoked; false when no key has that id. */
  revoke(keyId: string, at: string): Promise<boolean>;
  list(): Promise<ApiKeyRecord[]>;
}

/** Keys are 32 random bytes: a fast hash is enough, there is nothing to brute-force. */
export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');
export const keyIdOf = (keyHash: string): string => `key_${keyHash.slice(0, 12)}`;

export interface NewKey {
  readonly role: Role;
  readonly sourceId: string;
  readonly name: string;
}

/** Creates a key; the clear key is returned once and never stored. */
export async function createApiKey(
  input: NewKey,
  store: Pick<ApiKeyStore, 'put'>,
  now: () => number = Date.now,
  secret: string = randomBytes(32).toString('base64url'),
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = `${PREFIX[input.role]}${secret}`;
  const keyHash = hashKey(key);
  const record: ApiKeyRecord = {
    keyHash,
    keyId: keyIdOf(keyHash),
    role: input.role,
    sourceId: input.sourceId,
    name: input.name,
    createdAt: new Date(now()).toISOString(),
  };
  await store.put(record);
  return { key, record };
}

/** Whether a key of `role` may call a route that requires `required`. */
export function allows(role: Role, required: Role): boolean {
  return role === required || role === 'admin';
}
