// The unsubscribe token: what is signed verifies to the same claims; any change of payload or signature,
// another stage's secret, the identity HMAC of the same text, an expired or future token are refused with
// a reason naming `token`.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  signUnsubscribeToken,
  UNSUBSCRIBE_TOKEN_TTL_DAYS,
  type UnsubscribeClaims,
  verifyUnsubscribeToken,
} from '../../lib/campaigns/unsubscribeToken.js';
import type { Outcome } from '../../lib/outcome.js';

const SECRET = 'a-test-secret-of-enough-length';
const NOW = Date.parse('2026-12-01T10:00:00.000Z');
const DAY = 86_400_000;
const claims: UnsubscribeClaims = {
  customerId: 'cus_0a1b2c3d',
  channel: 'email',
  campaignId: 'abandoned-cart',
  issuedAt: NOW,
};

const codeOf = (outcome: Outcome<unknown>) =>
  outcome.ok ? 'ok' : outcome.reason === 'invalid' ? outcome.issues?.[0]?.code : outcome.reason;

describe('unsubscribe token', () => {
  it('verifies to the claims it was signed with, and is URL-safe', () => {
    fc.assert(
      fc.property(
        fc.record({
          customerId: fc.string({ minLength: 1, maxLength: 60 }),
          channel: fc.constantFrom('email', 'sms', 'push', 'webhook') as fc.Arbitrary<
            UnsubscribeClaims['channel']
          >,
          campaignId: fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,20}$/),
          issuedAt: fc.integer({ min: NOW - 300 * DAY, max: NOW }),
        }),
        (c) => {
          const token = signUnsubscribeToken(c, SECRET);
          expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
          expect(verifyUnsubscribeToken(token, SECRET, NOW)).toEqual({ ok: true, value: c });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a token with any character changed, in the payload or the signature', () => {
    const token = signUnsubscribeToken(claims, SECRET);
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      const changed = `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
      const outcome = verifyUnsubscribeToken(changed, SECRET, NOW);
      expect(outcome.ok, `changed at ${i}`).toBe(false);
    }
  });

  it('refuses a token for another customer made by re-encoding the payload', () => {
    const [, mac] = signUnsubscribeToken(claims, SECRET).split('.');
    const forged = Buffer.from(JSON.stringify([1, 'cus_other', 'email', 'abandoned-cart', NOW])).toString(
      'base64url',
    );
    expect(codeOf(verifyUnsubscribeToken(`${forged}.${mac}`, SECRET, NOW))).toBe('bad_signature');
  });

  it('refuses another secret, and a MAC made with the secret itself (the identity hash key)', () => {
    const token = signUnsubscribeToken(claims, SECRET);
    expect(codeOf(verifyUnsubscribeToken(token, 'another-secret-of-enough-length', NOW))).toBe(
      'bad_signature',
    );
    const [payload = ''] = token.split('.');
    const direct = createHmac('sha256', SECRET).update(payload).digest('base64url');
    expect(codeOf(verifyUnsubscribeToken(`${payload}.${direct}`, SECRET, NOW))).toBe('bad_signature');
  });

  it('expires after the TTL, and is refused when issued in the future', () => {
    const token = signUnsubscribeToken(claims, SECRET);
    const ttl = UNSUBSCRIBE_TOKEN_TTL_DAYS * DAY;
    expect(codeOf(verifyUnsubscribeToken(token, SECRET, NOW + ttl))).toBe('ok');
    const expired = verifyUnsubscribeToken(token, SECRET, NOW + ttl + 1);
    expect(expired).toMatchObject({
      ok: false,
      reason: 'invalid',
      issues: [{ path: 'token', code: 'expired' }],
    });
    expect(codeOf(verifyUnsubscribeToken(token, SECRET, NOW - DAY))).toBe('not_yet_valid');
  });

  it('refuses malformed tokens with a clear reason', () => {
    for (const token of ['', 'abc', 'a.b.c', '.', `${Buffer.from('[2,"x"]').toString('base64url')}.x`]) {
      const outcome = verifyUnsubscribeToken(token, SECRET, NOW);
      expect(outcome.ok, token).toBe(false);
      if (!outcome.ok) expect(outcome.message).toMatch(/^The unsubscribe link is not valid: /);
    }
    // Well signed but not a payload this code makes.
    const payload = Buffer.from('{"c":"cus_1"}').toString('base64url');
    const key = createHmac('sha256', SECRET).update('precis:unsubscribe-token:v1').digest();
    const mac = createHmac('sha256', key).update(payload).digest('base64url');
    expect(codeOf(verifyUnsubscribeToken(`${payload}.${mac}`, SECRET, NOW))).toBe('malformed');
  });
});
