// The one structured logger (Powertools, JSON to stdout). PII never reaches a log line: event bodies
// and personal fields are redacted by key, and e-mail addresses are masked wherever they appear.
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { config } from './config.js';

/** What domain code needs of a logger; tests hand in their own. */
export type Logger = Pick<PowertoolsLogger, 'debug' | 'info' | 'warn' | 'error'>;

/** Keys whose values are never logged, compared case-insensitively. */
const REDACTED_KEYS = new Set(
  [
    'authorization',
    'writeKey',
    'apiKey',
    'key',
    'token',
    'password',
    'secret',
    'hmacSecret',
    'localKey',
    'plaintext',
    'encryptedKey',
    'email',
    'phone',
    // Not `name`: error names and page names are needed to debug, and a person's name only arrives
    // inside traits or properties, which are redacted whole.
    'firstName',
    'lastName',
    'birthday',
    'address',
    'ip',
    'traits',
    'properties',
    'context',
    'payload',
    'body',
    'raw',
  ].map((k) => k.toLowerCase()),
);
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
export const REDACTED = '[REDACTED]';

/** JSON replacer that removes PII; exported so the redaction itself can be tested. */
export function redact(key: string, value: unknown): unknown {
  if (key !== '' && REDACTED_KEYS.has(key.toLowerCase()) && value !== undefined) return REDACTED;
  if (typeof value === 'string' && value.includes('@')) return value.replace(EMAIL, '[email]');
  return value;
}

export function createLogger(options: { level?: string; serviceName?: string } = {}): PowertoolsLogger {
  return new PowertoolsLogger({
    serviceName: options.serviceName ?? 'precis',
    logLevel: (options.level ?? config().logLevel) as 'INFO',
    jsonReplacerFn: redact,
  });
}

let shared: PowertoolsLogger | undefined;

/** The process-wide logger (lazy, so that importing this module never reads config). */
export function logger(): PowertoolsLogger {
  shared ??= createLogger();
  return shared;
}
