// Definitions shipped as JSON files (the demo's campaigns/ and tags/ at the repository's root): each
// checked as a save through the API would check it, and named after its id. A broken file is the
// repository's bug: the loader throws naming each file and field.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Outcome } from './outcome.js';

export async function loadDefinitionFiles<T extends { id: string }>(
  dir: string,
  check: (raw: unknown) => Outcome<T>,
  what: string,
): Promise<T[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const definitions: T[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const checked = check(JSON.parse(await readFile(join(dir, file), 'utf8')));
    if (!checked.ok) {
      const issues = checked.reason === 'invalid' ? (checked.issues ?? []) : [];
      problems.push(`${file}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ') || checked.message}`);
    } else if (`${checked.value.id}.json` !== file) {
      problems.push(`${file}: the id is ${checked.value.id}, the file must be named after it`);
    } else {
      definitions.push(checked.value);
    }
  }
  if (problems.length > 0) throw new Error(`Invalid ${what}: ${problems.join(' | ')}`);
  return definitions;
}
