// docs/archive.md states the archive's schema twice (Athena DDL, DuckDB view): both must say what the
// writer writes, ARCHIVE_COLUMNS, in its order.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_COLUMNS } from '../../lib/archive/record.js';
import { projectRoot } from '../../lib/projectRoot.js';

const doc = await readFile(join(projectRoot(), 'docs', 'archive.md'), 'utf8');

describe('docs/archive.md', () => {
  it("gives the Athena DDL with the writer's columns in order", () => {
    const ddl = doc.match(/CREATE EXTERNAL TABLE raw_events \(([\s\S]*?)\n\)/)?.[1] ?? '';
    const columns = ddl
      .split(',')
      .map((line) => line.trim().split(/\s+/)[0]?.replaceAll('`', ''))
      .filter(Boolean);
    expect(columns).toEqual([...ARCHIVE_COLUMNS]);
  });

  it("gives the DuckDB view with the writer's columns in order", () => {
    const struct = doc.match(/columns = \{([\s\S]*?)\}\n\);/)?.[1] ?? '';
    const columns = [...struct.matchAll(/'(\w+)': '(\w+)'/g)].map((m) => m[1]);
    expect(columns).toEqual([...ARCHIVE_COLUMNS]);
  });
});
