// PII redaction: the replacer on its own, and what the Powertools logger really writes to stdout.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, REDACTED, redact } from '../../lib/log.js';

const scrub = (value: unknown): unknown => JSON.parse(JSON.stringify(value, redact));

describe('redact', () => {
  it('replaces personal and secret fields at any depth, whatever their value', () => {
    const input = {
      request: {
        headers: { Authorization: 'Basic d2tfc2VjcmV0Og==', 'user-agent': 'curl/8' },
        body: { writeKey: 'wk_secret', batch: [] },
      },
      event: {
        type: 'identify',
        userId: 'u1',
        traits: { email: 'jane@example.com', plan: 'pro' },
        properties: { revenue: 10 },
        context: { ip: '203.0.113.9' },
      },
      contact: { Email: 'x@y.co', phone: '+33 6 12 34 56 78', firstName: 'Jane', address: { city: 'Lyon' } },
      apiKey: 'ak_secret',
      count: 3,
    };
    expect(scrub(input)).toEqual({
      request: { headers: { Authorization: REDACTED, 'user-agent': 'curl/8' }, body: REDACTED },
      event: { type: 'identify', userId: 'u1', traits: REDACTED, properties: REDACTED, context: REDACTED },
      contact: { Email: REDACTED, phone: REDACTED, firstName: REDACTED, address: REDACTED },
      apiKey: REDACTED,
      count: 3,
    });
  });

  it('keeps error names, which operators need, while traits stay redacted whole', () => {
    const logged = scrub({
      error: { name: 'ConditionalCheckFailedException', message: 'The conditional request failed' },
      traits: { name: 'Jane Doe' },
    });
    expect(logged).toEqual({
      error: { name: 'ConditionalCheckFailedException', message: 'The conditional request failed' },
      traits: REDACTED,
    });
  });

  it('redacts a nested writeKey and email where the parent key is harmless', () => {
    expect(scrub({ meta: { source: { writeKey: 'wk_1', email: 'a@b.io', id: 's1' } } })).toEqual({
      meta: { source: { writeKey: REDACTED, email: REDACTED, id: 's1' } },
    });
  });

  it('masks e-mail addresses inside free text and leaves other text alone', () => {
    expect(redact('note', 'mail jane.doe+shop@example.co.uk or bob@corp.io today')).toBe(
      'mail [email] or [email] today',
    );
    expect(redact('note', 'handle @jane, price 5 @ 10')).toBe('handle @jane, price 5 @ 10');
    expect(redact('count', 5)).toBe(5);
  });

  it('masks e-mail addresses in arrays and in a root string', () => {
    expect(scrub(['a@b.io', 'ok'])).toEqual(['[email]', 'ok']);
    expect(scrub('from a@b.io')).toBe('from [email]');
  });

  it('never replaces the root object itself (key ""), so that its fields are visited one by one', () => {
    expect(scrub({ email: 'a@b.io', id: 'u1' })).toEqual({ email: REDACTED, id: 'u1' });
  });
});

describe('createLogger', () => {
  let written: string[];

  beforeEach(() => {
    written = [];
    // Powertools writes JSON lines through a Console bound to process.stdout/stderr (the global console
    // only in POWERTOOLS_DEV mode, which is switched off here so the capture below sees everything).
    vi.stubEnv('POWERTOOLS_DEV', 'false');
    const capture = (chunk: string | Uint8Array) => {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture as typeof process.stderr.write);
  });

  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('writes structured lines without the PII handed to it', () => {
    const log = createLogger({ level: 'DEBUG' });
    log.debug('identify from jane@example.com', {
      traits: { email: 'jane@example.com', phone: '+44 20 7946 0958' },
      authorization: 'Basic d2tfbGl2ZV9zZWNyZXQ6',
      request: { writeKey: 'wk_live_secret', path: '/v1/identify' },
      note: 'forwarded by ops@example.org',
    });
    log.error('write failed', { error: new Error('rejected for jane@example.com'), messageId: 'm-1' });

    const output = written.join('');
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const secret of [
      'jane@example.com',
      'ops@example.org',
      '+44 20',
      'wk_live_secret',
      'd2tfbGl2ZV9zZWNyZXQ6',
    ]) {
      expect(output).not.toContain(secret);
    }

    const debug = JSON.parse(lines[0] ?? '{}');
    expect(debug).toMatchObject({
      level: 'DEBUG',
      message: 'identify from [email]',
      traits: REDACTED,
      authorization: REDACTED,
      request: { writeKey: REDACTED, path: '/v1/identify' },
      note: 'forwarded by [email]',
    });
    const error = JSON.parse(lines[1] ?? '{}');
    expect(error).toMatchObject({ level: 'ERROR', message: 'write failed', messageId: 'm-1' });
    expect(error.error.message).toBe('rejected for [email]');
  });

  it('honours the level it is given', () => {
    const log = createLogger({ level: 'WARN' });
    log.info('not written');
    log.warn('written');
    expect(written.map((l) => JSON.parse(l).message)).toEqual(['written']);
  });
});
