// Configuration from an environment: stage-derived resource names, explicit overrides, and a
// ConfigError that names the variable for every bad value. parseConfig is pure; process.env is untouched.
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Config, ConfigError, parseConfig } from '../../lib/config.js';

function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

/** Every resource name in a config (tables, queues, buckets), whatever resources are added later. */
const resourceNames = (c: Config): string[] =>
  [c.tables, c.queues, c.buckets].flatMap((group) => Object.values(group) as string[]);

describe('defaults', () => {
  it('run the local stage in eu-west-1 at INFO', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ stage: 'local', region: 'eu-west-1', logLevel: 'INFO' });
    expect(c.endpoints).toEqual({ dynamodb: undefined, s3: undefined, sqs: undefined });
  });

  it('derive every resource name from the stage as precis-<stage>-...', () => {
    for (const stage of ['local', 'prod', 'pr-42']) {
      const c = parseConfig({ PRECIS_STAGE: stage });
      const names = resourceNames(c);
      expect(names.length).toBeGreaterThanOrEqual(5);
      for (const name of names) expect(name.startsWith(`precis-${stage}-`)).toBe(true);
      expect(new Set(names).size).toBe(names.length);
      expect(c.tables).toMatchObject({
        apiKeys: `precis-${stage}-api-keys`,
        dedup: `precis-${stage}-dedup`,
        quarantine: `precis-${stage}-quarantine`,
      });
      expect(c.queues.ingest).toBe(`precis-${stage}-ingest`);
      expect(c.buckets.archive).toBe(`precis-${stage}-archive`);
    }
  });

  it('hold the quality thresholds in their working units', () => {
    const { quality } = parseConfig({
      PRECIS_MAX_FUTURE_HOURS: '6',
      PRECIS_MIN_TIMESTAMP: '2010-01-01T00:00:00+02:00',
    });
    expect(quality.maxFutureMs).toBe(6 * 60 * 60 * 1000);
    expect(quality.minTimestampMs).toBe(Date.UTC(2009, 11, 31, 22));
    expect(parseConfig({}).quality).toMatchObject({ maxAmount: 1_000_000, maxQuantity: 100_000 });
  });

  it('read a custom junk-id list, trimmed and lower-cased', () => {
    const { quality } = parseConfig({ PRECIS_JUNK_IDS: ' Guest , TEST,, null ' });
    expect([...quality.junkIds].sort()).toEqual(['guest', 'null', 'test']);
  });

  it('freeze the result', () => {
    expect(Object.isFrozen(parseConfig({}))).toBe(true);
  });
});

describe('explicit values', () => {
  it('win over the stage-derived names', () => {
    const c = parseConfig({
      PRECIS_STAGE: 'prod',
      PRECIS_TABLE_API_KEYS: 'keys-table',
      PRECIS_TABLE_DEDUP: 'dedup-table',
      PRECIS_TABLE_QUARANTINE: 'q-table',
      PRECIS_QUEUE_INGEST: 'ingest-queue',
      PRECIS_BUCKET_ARCHIVE: 'archive-bucket',
    });
    expect(c.tables).toMatchObject({ apiKeys: 'keys-table', dedup: 'dedup-table', quarantine: 'q-table' });
    expect(c.queues.ingest).toBe('ingest-queue');
    expect(c.buckets.archive).toBe('archive-bucket');
  });

  it('set the emulator endpoints, and empty strings mean unset', () => {
    const set = parseConfig({
      PRECIS_ENDPOINT_DYNAMODB: 'http://127.0.0.1:4567',
      PRECIS_ENDPOINT_S3: 'http://127.0.0.1:4569',
      PRECIS_ENDPOINT_SQS: 'http://127.0.0.1:9324',
    });
    expect(set.endpoints).toEqual({
      dynamodb: 'http://127.0.0.1:4567',
      s3: 'http://127.0.0.1:4569',
      sqs: 'http://127.0.0.1:9324',
    });
    const empty = parseConfig({
      PRECIS_ENDPOINT_DYNAMODB: '',
      PRECIS_ENDPOINT_S3: '',
      PRECIS_ENDPOINT_SQS: '',
    });
    expect(empty.endpoints).toEqual({ dynamodb: undefined, s3: undefined, sqs: undefined });
  });

  it('coerce numbers from their string form', () => {
    const c = parseConfig({
      PRECIS_DEDUP_WINDOW_DAYS: '45',
      PRECIS_API_KEY_CACHE_SECONDS: '0',
      PRECIS_MAX_AMOUNT: '2500.5',
    });
    expect(c.dedupWindowDays).toBe(45);
    expect(c.apiKeyCacheSeconds).toBe(0);
    expect(c.quality.maxAmount).toBe(2500.5);
  });

  it("give history SQL the machine's threads and a folder under the system's temp folder, unless told", () => {
    const defaults = parseConfig({ PRECIS_HISTORY_DIR: '' }).history;
    expect(defaults).toEqual({
      engine: { kind: 'duckdb' },
      dir: join(tmpdir(), 'precis-history'),
      threads: availableParallelism(),
      memoryMb: 2048,
    });
    const set = parseConfig({
      PRECIS_HISTORY_DIR: '/mnt/history',
      PRECIS_HISTORY_THREADS: '4',
      PRECIS_HISTORY_MEMORY_MB: '4096',
    }).history;
    expect(set).toEqual({ engine: { kind: 'duckdb' }, dir: '/mnt/history', threads: 4, memoryMb: 4096 });
  });

  it('run history on Athena only with the workgroup and the Glue database named', () => {
    const athena = {
      PRECIS_HISTORY_ENGINE: 'athena',
      PRECIS_HISTORY_WORKGROUP: 'wg',
      PRECIS_GLUE_DATABASE: 'db',
    };
    expect(parseConfig(athena).history.engine).toEqual({ kind: 'athena', workGroup: 'wg', database: 'db' });
    const missing = configErrorOf({ ...athena, PRECIS_GLUE_DATABASE: '' });
    expect(missing.message).toContain('PRECIS_GLUE_DATABASE');
    expect(configErrorOf({ PRECIS_HISTORY_ENGINE: 'spark' }).message).toContain('PRECIS_HISTORY_ENGINE');
    // The names alone change nothing: DuckDB stays the engine.
    expect(parseConfig({ ...athena, PRECIS_HISTORY_ENGINE: '' }).history.engine).toEqual({ kind: 'duckdb' });
  });
});

describe('invalid values', () => {
  it.each([
    ['PRECIS_LOG_LEVEL', 'LOUD'],
    ['PRECIS_LOG_LEVEL', 'debug'],
    ['PRECIS_STAGE', ''],
    ['PRECIS_ENDPOINT_S3', 'not a url'],
    ['PRECIS_TABLE_DEDUP', 'ab'],
    ['PRECIS_QUARANTINE_RETENTION_DAYS', '0'],
    ['PRECIS_ARCHIVE_LEASE_SECONDS', '1.5'],
    ['PRECIS_API_KEY_CACHE_SECONDS', '-1'],
    ['PRECIS_MAX_AMOUNT', 'lots'],
    ['PRECIS_MAX_QUANTITY', '-5'],
    ['PRECIS_MAX_FUTURE_HOURS', '0'],
    ['PRECIS_MIN_TIMESTAMP', '2000-01-01'],
    ['PRECIS_PUSH_CHANNEL', 'fcm'],
    ['PRECIS_HISTORY_THREADS', '0'],
    ['PRECIS_HISTORY_MEMORY_MB', '64'],
    ['PRECIS_PUSH_PLATFORM_APPLICATION', 'arn:aws:sns:eu-west-1:123456789012:my-topic'],
  ])('throw a ConfigError naming %s=%j', (name, value) => {
    const error = configErrorOf({ [name]: value });
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain(name);
  });

  it('refuse a dedup window below 30 days and accept 30', () => {
    for (const days of ['29', '1', '0'])
      expect(configErrorOf({ PRECIS_DEDUP_WINDOW_DAYS: days }).message).toContain('PRECIS_DEDUP_WINDOW_DAYS');
    expect(parseConfig({ PRECIS_DEDUP_WINDOW_DAYS: '30' }).dedupWindowDays).toBe(30);
  });

  it('send push through SNS with a platform application when asked, and to the outbox by default', () => {
    const app = 'arn:aws:sns:eu-west-1:123456789012:app/GCM/precis-shop';
    expect(parseConfig({}).channels.push).toEqual({ mode: 'outbox' });
    expect(
      parseConfig({ PRECIS_PUSH_CHANNEL: 'sns', PRECIS_PUSH_PLATFORM_APPLICATION: app }).channels.push,
    ).toEqual({ mode: 'sns', platformApplicationArn: app });
  });

  it('name every bad variable at once', () => {
    const error = configErrorOf({ PRECIS_LOG_LEVEL: 'LOUD', PRECIS_DEDUP_WINDOW_DAYS: '7' });
    expect(error.message).toContain('PRECIS_LOG_LEVEL');
    expect(error.message).toContain('PRECIS_DEDUP_WINDOW_DAYS');
  });
});
