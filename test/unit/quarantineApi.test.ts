// The quarantine API's request shapes: a list cursor is one this API returned (checked at the edge, a 400
// naming `cursor`, not an error thrown from the table adapter), and ids are bounded before any lookup.
import { describe, expect, it } from 'vitest';
import { listEntries, QuarantineIdPath, QuarantineListQuery } from '../../lib/quarantine/api.js';
import { decodeQuarantineCursor, encodeQuarantineCursor } from '../../lib/quarantine/cursor.js';
import type { QuarantineQuery } from '../../lib/quarantine/model.js';
import { expectRejection, expectValue } from '../support/outcome.js';

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

describe('quarantine list days', () => {
  it('refuses a day that is not on the calendar instead of rolling it over or reading it as NaN', () => {
    for (const day of ['2024-02-30', '2023-02-29', '2024-13-45', '2024-00-10', '2024-04-31']) {
      expect(issuesOf({ from: day }), day).toEqual([['from', expect.any(String)]]);
      expect(issuesOf({ to: day }), day).toEqual([['to', expect.any(String)]]);
    }
    expect(issuesOf({ from: '2024-02-29', to: '2024-03-01' })).toEqual([]);
  });

  /** A store that records the queries it is asked, and fails the test if a refused query reaches it. */
  const recording = () => {
    const asked: QuarantineQuery[] = [];
    return {
      asked,
      deps: {
        now: () => Date.parse('2026-11-22T09:00:00Z'),
        quarantine: {
          list: async (q: QuarantineQuery) => {
            asked.push(q);
            return { items: [] };
          },
        },
      },
    };
  };
  const list = (query: Record<string, unknown>, deps: ReturnType<typeof recording>['deps']) =>
    listEntries(QuarantineListQuery.parse(query), deps);

  it('refuses a cursor whose day lies outside from..to (a forged 9999-12-31 would walk millions of days)', async () => {
    const store = recording();
    for (const day of ['9999-12-31', '2026-11-23', '2026-11-15', '0001-01-01']) {
      const cursor = encodeQuarantineCursor({ day });
      const refused = await expectRejection(
        list({ from: '2026-11-16', to: '2026-11-22', cursor }, store.deps),
      );
      expect(refused, day).toMatchObject({ reason: 'invalid', issues: [{ path: 'cursor' }] });
      // Also with the default range (the last 7 days to today).
      expect((await expectRejection(list({ cursor }, store.deps))).reason).toBe('invalid');
    }
    expect(store.asked).toEqual([]);
  });

  it('takes a cursor whose day is within from..to, ends included', async () => {
    const store = recording();
    for (const day of ['2026-11-16', '2026-11-19', '2026-11-22']) {
      const cursor = encodeQuarantineCursor({ day, id: 'q_1', sortKey: `${day}T10:00:00.000Z#q_1` });
      await expectValue(list({ from: '2026-11-16', to: '2026-11-22', cursor }, store.deps));
    }
    expect(store.asked.map((q) => q.cursor && decodeQuarantineCursor(q.cursor)?.day)).toEqual([
      '2026-11-16',
      '2026-11-19',
      '2026-11-22',
    ]);
  });
});
