// Resolves the credentials of a request to an API key: HTTP Basic with the key as user name (as
// Segment's write keys), a Bearer token, or — for ingestion only, as Segment allows — `writeKey` in the
// body. Lookups are cached briefly per container (least recently used keys forgotten first), so a
// revocation takes effect within the cache TTL.
import { forbidden, type Outcome, ok, unauthorized } from '../outcome.js';
import { type ApiKeyRecord, type ApiKeyStore, allows, hashKey, type Role } from './apiKeys.js';
import { LruCache } from './lruCache.js';

export interface Credentials {
  readonly authorization?: string | undefined;
  readonly bodyWriteKey?: string | undefined;
}

export function keyFromCredentials(c: Credentials): string | undefined {
  const header = c.authorization?.trim();
  if (header) {
    const [scheme, value = ''] = header.split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
      return user || undefined;
    }
    if (scheme?.toLowerCase() === 'bearer') return value || undefined;
    return undefined;
  }
  return c.bodyWriteKey || undefined;
}

export interface Authenticator {
  /** The caller's key, or why it is refused (unauthorized: no valid key; forbidden: the wrong role). */
  authenticate(credentials: Credentials, required: Role): Promise<Outcome<ApiKeyRecord>>;
}

/** Keys remembered per container, known and unknown each: far more than a deployment has. */
const CACHE_ENTRIES = 1_000;

export function authenticator(
  store: Pick<ApiKeyStore, 'findByHash'>,
  cacheMs: number,
  now = Date.now,
): Authenticator {
  // Unknown keys have a cache of their own, so a caller trying many keys cannot evict the known ones
  // (and make every legitimate request hit the table); both forget the least recently used first.
  const known = new LruCache<string, { record: ApiKeyRecord; until: number }>(CACHE_ENTRIES);
  const unknown = new LruCache<string, number>(CACHE_ENTRIES);
  const lookup = async (keyHash: string): Promise<ApiKeyRecord | undefined> => {
    const hit = known.get(keyHash);
    if (hit && hit.until > now()) return hit.record;
    if ((unknown.get(keyHash) ?? 0) > now()) return undefined;
    const record = await store.findByHash(keyHash);
    if (record) {
      known.set(keyHash, { record, until: now() + cacheMs });
      unknown.delete(keyHash);
    } else {
      unknown.set(keyHash, now() + cacheMs);
      known.delete(keyHash);
    }
    return record;
  };
  return {
    async authenticate(credentials, required) {
      const key = keyFromCredentials(credentials);
      if (!key) {
        return unauthorized(
          'Missing API key: send it as the user name of HTTP Basic auth (as Segment write keys).',
        );
      }
      const record = await lookup(hashKey(key));
      if (!record || record.revokedAt) return unauthorized('Unknown or revoked API key.');
      if (!allows(record.role, required)) {
        return forbidden(`This ${record.role} key cannot call this route; it needs a ${required} key.`);
      }
      return ok(record);
    },
  };
}
