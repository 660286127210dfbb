// Small typed factories for the archive tests: random ids, NormalizedEvents, queue records carrying
// envelopes, a logger that remembers what it was told, and a bounded poll.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { packEnvelopes } from '../../lib/ingest/envelope.js';
import { NormalizedEvent } from '../../lib/ingest/normalized.js';
import type { Logger } from '../../lib/log.js';
import type { QueueRecord } from '../../lib/queue/record.js';

export const DAY_MS = 86_400_000;

/** A unique id for this test's data (tests share the emulators for the whole run). */
export const newId = (prefix: string): string => `${prefix}-${randomUUID()}`;

/** A random UTC day between 2021 and 2025, so that tests rarely share an archive partition. */
export function randomDay(): string {
  const start = Date.parse('2021-01-01T00:00:00Z');
  return new Date(start + Math.floor(Math.random() * 1800) * DAY_MS).toISOString().slice(0, 10);
}

/** A valid NormalizedEvent (parsed, so a bad override fails here rather than in the code under test). */
export function makeEvent(sourceId: string, overrides: Partial<NormalizedEvent> = {}): NormalizedEvent {
  const receivedAt = overrides.receivedAt ?? '2024-05-01T12:00:00.000Z';
  return NormalizedEvent.parse({
    messageId: newId('msg'),
    type: 'track',
    event: 'Order Completed',
    userId: newId('user'),
    properties: { revenue: 42.5, currency: 'EUR' },
    timestamp: receivedAt,
    receivedAt,
    ...overrides,
    sourceId,
  });
}

export const makeEvents = (sourceId: string, n: number, overrides: Partial<NormalizedEvent> = {}) =>
  Array.from({ length: n }, () => makeEvent(sourceId, overrides));

/** One queue record (one SQS message) whose body is the envelope of `events`. */
export function recordOf(events: readonly NormalizedEvent[], id: string = randomUUID()): QueueRecord {
  const bodies = packEnvelopes(events);
  if (bodies.length !== 1 || bodies[0] === undefined) {
    throw new Error(`expected one envelope for ${events.length} events, got ${bodies.length}`);
  }
  return { id, body: bodies[0] };
}

/** Records of `perRecord` events each, in order. */
export function recordsOf(events: readonly NormalizedEvent[], perRecord: number): QueueRecord[] {
  const out: QueueRecord[] = [];
  for (let i = 0; i < events.length; i += perRecord) out.push(recordOf(events.slice(i, i + perRecord)));
  return out;
}

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly extra: unknown[];
}

/** A Logger that keeps its entries, so a test can tell which path the code took. */
export function recordingLogger(): {
  log: Logger;
  entries: LogEntry[];
  messages: (level?: string) => string[];
} {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (message: unknown, ...extra: unknown[]) => {
      entries.push({ level, message: String(message), extra });
    };
  return {
    log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    entries,
    messages: (level) => entries.filter((e) => !level || e.level === level).map((e) => e.message),
  };
}

/**
 * Polls `probe` until it returns something other than undefined/false, at most `timeoutMs`; then fails
 * with a message naming what was awaited.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  { timeoutMs = 15_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** How often each value occurs. */
export function countsOf(values: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

export const sorted = (values: Iterable<string>): string[] => [...values].sort();
