// npm run openapi: writes docs/openapi.json from the zod schemas; `-- --check` fails if it is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openApiDocument } from '../lib/openapi.js';
import { PROJECT_ROOT } from '../local/service.js';
import { runCli } from './target.js';

runCli(async () => {
  const file = join(PROJECT_ROOT, 'docs', 'openapi.json');
  const fresh = `${JSON.stringify(openApiDocument(), null, 2)}\n`;
  if (process.argv.includes('--check')) {
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current !== fresh) throw new Error('docs/openapi.json is stale: run `npm run openapi`');
    console.log('docs/openapi.json is up to date');
    return;
  }
  await writeFile(file, fresh);
  console.log(`wrote ${file}`);
});
