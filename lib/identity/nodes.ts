// Identity nodes: the keys of the identity graph. userId and anonymousId are pseudonymous and kept as
// sent (`user:<id>`, `anon:<id>`); every other identifier type is keyed by its HMAC (`email:<hash>`...),
// so the index never holds an e-mail address or phone number.
import { createHash } from 'node:crypto';
import type { NormalizedEvent } from '../ingest/normalized.js';

export type NodeKey = string;

export const USER = 'user';
export const ANON = 'anon';

/**
 * The longest node key in UTF-8 bytes. Keys are DynamoDB keys (`N#<node>`, and `E#<node>` as an edge's
 * sort key, which DynamoDB caps at 1,024 bytes), and ingestion accepts ids of 1,024 characters: such an id
 * failed every write of its archive object, forever.
 */
export const NODE_KEY_MAX_BYTES = 512;
/** What a shortened key keeps of the id, for people reading it. */
const SHORTENED_PREFIX_CHARS = 100;

/**
 * `<type>:<id>`, or for an id too long for that, `<type>:<its first 100 characters>…<SHA-256 of it>`: one
 * key per id, and still the same id's key everywhere (lookups, profiles, segmentation).
 */
function nodeKey(type: string, id: string): NodeKey {
  const key = `${type}:${id}`;
  if (key.length <= NODE_KEY_MAX_BYTES / 4 || Buffer.byteLength(key) <= NODE_KEY_MAX_BYTES) return key;
  const hash = createHash('sha256').update(id).digest('base64url');
  return `${type}:${Array.from(id).slice(0, SHORTENED_PREFIX_CHARS).join('')}…${hash}`;
}

export const userNode = (userId: string): NodeKey => nodeKey(USER, userId);
export const anonNode = (anonymousId: string): NodeKey => nodeKey(ANON, anonymousId);
export const hashedNode = (type: string, hash: string): NodeKey => `${type}:${hash}`;

/** The type of a node key (`user`, `anon`, `email`, ...). */
export const nodeType = (key: NodeKey): string => key.slice(0, key.indexOf(':'));

/**
 * The identity an event's behavior is counted under: its userId when it has one, else its anonymousId.
 * Profiles keep aggregates per attribution node; a customer is the merge of its nodes' aggregates, so
 * merging and unmerging customers never touches the counters.
 */
export function attributionNode(e: Pick<NormalizedEvent, 'userId' | 'anonymousId'>): NodeKey | undefined {
  if (e.userId !== undefined) return userNode(e.userId);
  if (e.anonymousId !== undefined) return anonNode(e.anonymousId);
  return undefined;
}
