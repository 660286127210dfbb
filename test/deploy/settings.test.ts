// Every operator setting documented in docs/operations.md reaches the functions: serverless.yml passes
// it from the shell that deploys or runs `npm start` (serverless-offline gives a function only the
// provider environment, like Lambda), and lib/config.ts reads an unset one as its default. Before this,
// PRECIS_MIN_TIMESTAMP set for the local stack never reached the ingest function (issue 7, defect 10).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.js';
import { OSLS_BIN, PROJECT_ROOT } from '../../local/service.js';

/** The provider environment of the local stage, resolved by osls from `env` (not cached). */
async function localEnvironment(env: Record<string, string>): Promise<Record<string, string>> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PRECIS_')));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [OSLS_BIN, 'print', '--stage', 'local', '--format', 'json'],
    {
      cwd: PROJECT_ROOT,
      env: { ...clean, ...env, SLS_TELEMETRY_DISABLED: '1' },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return (JSON.parse(stdout) as { provider: { environment: Record<string, string> } }).provider.environment;
}

const SETTINGS = {
  PRECIS_DEDUP_WINDOW_DAYS: '40',
  PRECIS_QUARANTINE_RETENTION_DAYS: '30',
  PRECIS_API_KEY_CACHE_SECONDS: '5',
  PRECIS_MAX_AMOUNT: '2500000',
  PRECIS_MAX_QUANTITY: '500',
  PRECIS_MAX_FUTURE_HOURS: '48',
  PRECIS_MIN_TIMESTAMP: '1985-01-01T00:00:00Z',
  PRECIS_JUNK_IDS: 'guest,null',
  PRECIS_IDENTIFIERS: 'user:1:1,email:2:5',
};

describe('operator settings on the local stack', () => {
  it('reach the functions from the shell that starts the stack', async () => {
    const config = parseConfig(await localEnvironment(SETTINGS));
    expect(config).toMatchObject({
      dedupWindowDays: 40,
      quarantineRetentionDays: 30,
      apiKeyCacheSeconds: 5,
      quality: {
        maxAmount: 2_500_000,
        maxQuantity: 500,
        maxFutureMs: 48 * 3_600_000,
        minTimestampMs: Date.parse('1985-01-01T00:00:00Z'),
        junkIds: new Set(['guest', 'null']),
      },
      identifiers: [
        { type: 'user', priority: 1, limit: 1 },
        { type: 'email', priority: 2, limit: 5 },
      ],
    });
  }, 120_000);

  it('fall back to the documented defaults when unset', async () => {
    const environment = await localEnvironment({});
    expect(environment.PRECIS_MIN_TIMESTAMP).toBe('');
    expect(parseConfig(environment)).toMatchObject({
      dedupWindowDays: 35,
      quarantineRetentionDays: 90,
      apiKeyCacheSeconds: 60,
      quality: parseConfig({}).quality,
      identifiers: parseConfig({}).identifiers,
    });
  }, 120_000);
});
