// The repository's root folder, found by walking up from this module to the package.json that names
// Precis: right from the sources (tsx, vitest) and from esbuild bundles placed anywhere in the tree.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function find(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'precis'
    ) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('not inside the Precis repository');
    dir = parent;
  }
}

let root: string | undefined;

export function projectRoot(): string {
  root ??= find();
  return root;
}
