// Envelope packing: as few SQS messages as fit, none over the limit, every event once and in order,
// and parsing back either yields the events or a reason — never an exception.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ENVELOPE_VERSION,
  MAX_ENVELOPE_BYTES,
  packEnvelopes,
  parseEnvelope,
} from '../../lib/ingest/envelope.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { normalizedEvent } from './factories.js';

const bytes = (s: string) => Buffer.byteLength(s);
/** The smallest possible envelope around one event, written out independently of the packer. */
const alone = (e: NormalizedEvent) => bytes(`{"v":${ENVELOPE_VERSION},"events":[${JSON.stringify(e)}]}`);

function unpack(bodies: readonly string[]): NormalizedEvent[] {
  return bodies.flatMap((body) => {
    const parsed = parseEnvelope(body);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.envelope.events;
  });
}

/** Events with random ids, sizes and multi-byte text, so that bytes and characters differ. */
const events = fc.array(
  fc
    .record({
      n: fc.nat(),
      note: fc.string({ unit: fc.constantFrom('a', 'é', '€', '𝄞', '"', '\\'), maxLength: 300 }),
    })
    .map(({ n, note }) => normalizedEvent({ messageId: `m-${n}`, properties: { note } })),
  { maxLength: 40 },
);

describe('packEnvelopes', () => {
  it('never writes a body over maxBytes, keeps every event once and in order, and packs greedily', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 2_500, max: 6_000 }), (input, maxBytes) => {
        fc.pre(input.every((e) => alone(e) <= maxBytes));
        const bodies = packEnvelopes(input, maxBytes);
        for (const body of bodies) expect(bytes(body)).toBeLessThanOrEqual(maxBytes);
        expect(unpack(bodies)).toEqual(input);
        // Greedy: the first event of each envelope did not fit into the previous one.
        for (let i = 1; i < bodies.length; i++) {
          const first = unpack([bodies[i] ?? ''])[0];
          expect(bytes(bodies[i - 1] ?? '') + 1 + bytes(JSON.stringify(first))).toBeGreaterThan(maxBytes);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('fills an envelope up to exactly maxBytes', () => {
    const a = normalizedEvent({ messageId: 'a' });
    const b = normalizedEvent({ messageId: 'b' });
    const exact = bytes(`{"v":1,"events":[${JSON.stringify(a)},${JSON.stringify(b)}]}`);
    expect(packEnvelopes([a, b], exact)).toHaveLength(1);
    expect(packEnvelopes([a, b], exact - 1)).toHaveLength(2);
  });

  it('returns no envelope for no events, and one for a few small ones under the default limit', () => {
    expect(packEnvelopes([])).toEqual([]);
    const few = [normalizedEvent({ messageId: 'x' }), normalizedEvent({ messageId: 'y' })];
    const bodies = packEnvelopes(few);
    expect(bodies).toHaveLength(1);
    expect(bytes(bodies[0] ?? '')).toBeLessThan(MAX_ENVELOPE_BYTES);
  });
});

describe('parseEnvelope', () => {
  it('round-trips what packEnvelopes wrote', () => {
    const input = [
      normalizedEvent({
        messageId: 'p',
        type: 'page',
        event: undefined,
        name: 'Home',
        properties: { path: '/' },
      }),
      normalizedEvent({
        messageId: 'i',
        type: 'identify',
        event: undefined,
        properties: undefined,
        traits: { a: 1 },
      }),
    ];
    const [body] = packEnvelopes(input);
    const parsed = parseEnvelope(body ?? '');
    expect(parsed).toEqual({ ok: true, envelope: { v: ENVELOPE_VERSION, events: input } });
  });

  it.each([
    ['not JSON', '{"v":1,"events":['],
    ['empty', ''],
    ['JSON null', 'null'],
    ['a wrong version', JSON.stringify({ v: 2, events: [normalizedEvent()] })],
    ['no version', JSON.stringify({ events: [normalizedEvent()] })],
    ['no events', JSON.stringify({ v: 1 })],
    ['an empty event list', JSON.stringify({ v: 1, events: [] })],
    [
      'an event without messageId',
      JSON.stringify({ v: 1, events: [{ ...normalizedEvent(), messageId: undefined }] }),
    ],
    [
      'an event with a bad timestamp',
      JSON.stringify({ v: 1, events: [normalizedEvent({ timestamp: 'soon' })] }),
    ],
  ])('rejects %s with a reason instead of throwing', (_what, body) => {
    const parsed = parseEnvelope(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason.trim()).not.toBe('');
  });

  it('names the failing field in the reason', () => {
    const parsed = parseEnvelope(JSON.stringify({ v: 1, events: [{ ...normalizedEvent(), sourceId: '' }] }));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain('events.0.sourceId');
  });
});
