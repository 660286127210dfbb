// The storage port of partial profiles (lib/adapters/dynamodb/profilesTable.ts implements it).
import type { NodeKey } from '../identity/nodes.js';
import type { PartialProfile } from './partial.js';

export interface PartialStore {
  get(node: NodeKey): Promise<PartialProfile | undefined>;
  getMany(nodes: readonly NodeKey[]): Promise<Map<NodeKey, PartialProfile>>;
  /**
   * Writes the partial if the stored version is still `expected` (undefined: none may exist yet).
   * Returns false when another writer got there first; the caller reads again and reapplies.
   */
  put(partial: PartialProfile, expected: number | undefined): Promise<boolean>;
}
