// The SQS message format between the ingest edge and the consumer. Events are packed many to a message
// (SQS bills per request; a 500 KB batch would otherwise be ~1,600 sends), each event serialized once.
import { z } from 'zod';
import { NormalizedEvent } from './normalized.js';

export const ENVELOPE_VERSION = 1;

export const IngestEnvelope = z.object({
  v: z.literal(ENVELOPE_VERSION),
  events: z.array(NormalizedEvent).min(1),
});
export type IngestEnvelope = z.infer<typeof IngestEnvelope>;

/**
 * SQS bills per 64 KB chunk, so larger messages save nothing; smaller ones bound the work one consumer
 * invocation gets (batchSize x 64 KB) and what a single failure sends back to the queue.
 */
export const MAX_ENVELOPE_BYTES = 64 * 1024 - 512;

const HEAD = `{"v":${ENVELOPE_VERSION},"events":[`;
const TAIL = ']}';

/** Packs events into as few envelopes (JSON strings) as fit under maxBytes each. */
export function packEnvelopes(events: readonly NormalizedEvent[], maxBytes = MAX_ENVELOPE_BYTES): string[] {
  const out: string[] = [];
  let parts: string[] = [];
  let size = HEAD.length + TAIL.length;
  for (const event of events) {
    const json = JSON.stringify(event);
    const bytes = Buffer.byteLength(json);
    // Every event after the first is preceded by a comma.
    if (parts.length > 0 && size + 1 + bytes > maxBytes) {
      out.push(HEAD + parts.join(',') + TAIL);
      parts = [];
      size = HEAD.length + TAIL.length;
    }
    size += (parts.length > 0 ? 1 : 0) + bytes;
    parts.push(json);
  }
  if (parts.length > 0) out.push(HEAD + parts.join(',') + TAIL);
  return out;
}

export type ParsedEnvelope = { ok: true; envelope: IngestEnvelope } | { ok: false; reason: string };

/** Validates a message body read back from the queue; never throws. */
export function parseEnvelope(body: string): ParsedEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'message body is not JSON' };
  }
  const parsed = IngestEnvelope.safeParse(json);
  if (parsed.success) return { ok: true, envelope: parsed.data };
  const first = parsed.error.issues[0];
  return {
    ok: false,
    reason: `not an ingest envelope: ${first?.path.join('.') ?? ''} ${first?.message ?? ''}`,
  };
}
