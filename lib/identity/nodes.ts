// Identity nodes: the keys of the identity graph. userId and anonymousId are pseudonymous and kept as
// sent (`user:<id>`, `anon:<id>`); every other identifier type is keyed by its HMAC (`email:<hash>`...),
// so the index never holds an e-mail address or phone number.
import type { NormalizedEvent } from '../ingest/normalized.js';

export type NodeKey = string;

export const USER = 'user';
export const ANON = 'anon';

export const userNode = (userId: string): NodeKey => `${USER}:${userId}`;
export const anonNode = (anonymousId: string): NodeKey => `${ANON}:${anonymousId}`;
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
