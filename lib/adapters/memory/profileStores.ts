// Partial profiles and archive objects in memory, with the DynamoDB and S3 adapters'
// semantics (versioned writes; cloned values so callers cannot reach into the store).
import type { ArchiveRecord } from '../../archive/record.js';
import type { NodeKey } from '../../identity/nodes.js';
import type { PartialProfile } from '../../profiles/partial.js';
import type { PartialStore } from '../../profiles/store.js';

export function memoryPartialStore(): PartialStore & { size(): number } {
  const items = new Map<NodeKey, PartialProfile>();
  return {
    async get(node) {
      const p = items.get(node);
      return p ? structuredClone(p) : undefined;
    },
    async getMany(nodes) {
      const found = new Map<NodeKey, PartialProfile>();
      for (const n of nodes) {
        const p = items.get(n);
        if (p) found.set(n, structuredClone(p));
      }
      return found;
    },
    async put(partial, expected) {
      const current = items.get(partial.node);
      if (expected === undefined ? current !== undefined : current?.version !== expected) return false;
      items.set(partial.node, structuredClone(partial));
      return true;
    },
    size: () => items.size,
  };
}

export function memoryArchive(): {
  put(key: string, rows: ArchiveRecord[]): void;
  records(key: string): Promise<ArchiveRecord[]>;
} {
  const objects = new Map<string, ArchiveRecord[]>();
  return {
    put: (key, rows) => void objects.set(key, rows),
    async records(key) {
      const rows = objects.get(key);
      if (!rows) throw new Error(`no archive object ${key}`);
      return rows;
    },
  };
}
