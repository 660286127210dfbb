// The quarantine API's request shapes: a list cursor is one this API returned (checked at the edge, a 400
// naming `cursor`, not an error thrown from the table adapter), and ids are bounded before any lookup.
import { describe, expect, it } from 'vitest';
import { QuarantineIdPath, QuarantineListQuery } from '../../lib/quarantine/api.js';
import { decodeQuarantineCursor, encodeQuarantineCursor } from '../../lib/quarantine/cursor.js';

const issuesOf = (input: unknown) => {
  const parsed = QuarantineListQuery.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => [i.path.join('.'), i.message]);
};

describe('quarantine list cursor', () => {
  it('round-trips the cursors the listing hands out', () => {
    const cursor = { day: '2026-11-22', id: 'q_1', sortKey: '2026-11-22T10:00:00.000Z#q_1' };
    const encoded = encodeQuarantineCursor(cursor);
    expect(decodeQuarantineCursor(encoded)).toEqual(cursor);
    expect(issuesOf({ cursor: encoded })).toEqual([]);
  });

  it('refuses, at the request schema, a cursor this API did not make', () => {
    const forged = [
      'garbage',
      Buffer.from('{"day":5}').toString('base64url'),
      Buffer.from('[]').toString('base64url'),
      Buffer.from('{"day":"2026-11-22","id":{"S":"x"}}').toString('base64url'),
    ];
    for (const cursor of forged) {
      expect(decodeQuarantineCursor(cursor), cursor).toBeUndefined();
      expect(issuesOf({ cursor }), cursor).toEqual([['cursor', 'is not a cursor this API returned']]);
    }
  });
});

describe('quarantine id', () => {
  it('is bounded in bytes, far below DynamoDB key limits', () => {
    expect(QuarantineIdPath.safeParse({ id: `q_${'a'.repeat(32)}` }).success).toBe(true);
    expect(QuarantineIdPath.safeParse({ id: 'q'.repeat(65) }).success).toBe(false);
    expect(QuarantineIdPath.safeParse({ id: 'é'.repeat(33) }).success).toBe(false);
  });
});
