// The tests that need the public datasets skip when they are absent on a laptop, but in CI a missing
// dataset must fail the run: a green CI that silently skipped the acceptance tests proves nothing.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetPath, datasetsForTests } from '../../lib/datasets/index.js';
import { runningInCi } from '../../local/config.js';
import { PROJECT_ROOT } from '../../local/service.js';

let empty: string;
let full: string;
beforeAll(async () => {
  empty = await mkdtemp(join(tmpdir(), 'precis-no-data-'));
  full = await mkdtemp(join(tmpdir(), 'precis-data-'));
  for (const name of ['online_retail', 'rees46', 'marketing_campaign'] as const) {
    await writeFile(datasetPath(name, full), '');
  }
});
afterAll(async () => {
  await rm(empty, { recursive: true, force: true });
  await rm(full, { recursive: true, force: true });
});

describe('datasetsForTests', () => {
  it('lets a laptop without the datasets skip the tests that need them', () => {
    expect(datasetsForTests({ ci: false, dataDir: empty })).toBe(false);
  });

  it('fails in CI when a dataset is missing, naming the files and the folder', () => {
    expect(() => datasetsForTests({ ci: true, dataDir: empty })).toThrow(
      /online_retail\.csv\.gz.*precis-no-data-/s,
    );
  });

  it('runs the tests where the datasets are, in CI and on a laptop', () => {
    expect(datasetsForTests({ ci: true, dataDir: full })).toBe(true);
    expect(datasetsForTests({ ci: false, dataDir: full })).toBe(true);
  });
});

describe('runningInCi', () => {
  it('reads CI as CI services set it', () => {
    for (const value of ['true', '1', 'TRUE']) expect(runningInCi({ CI: value }), value).toBe(true);
    for (const value of [undefined, '', 'false', '0'])
      expect(runningInCi({ CI: value }), String(value)).toBe(false);
  });
});

describe('tests that need the datasets', () => {
  it('all decide through datasetsPresent (the CI rule), none through datasetsAvailable', async () => {
    const root = join(PROJECT_ROOT, 'test');
    const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThan(10);
    const offenders: string[] = [];
    for (const file of files) {
      if (/datasetsAvailable\(/.test(await readFile(join(root, file), 'utf8'))) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});
