import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../../lib/adapters/webhook/signature.js';

const SECRET = 'whsec_test_secret';
const T = 1_767_225_600;
const BODY = '{"sendId":"snd_1","coupon":"CART-7KQ2-M9XD"}';

describe('webhook signatures', () => {
  it('are HMAC-SHA256 of "<t>.<body>" in hex, as openssl computes it', () => {
    // printf '%s' '1767225600.<body>' | openssl dgst -sha256 -hmac whsec_test_secret
    expect(signWebhook(SECRET, T, BODY)).toBe(
      't=1767225600,v1=537b1b978364cfee93cb32aa3ce10529de6cb0e033cbc20be417a355496f5c45',
    );
  });

  it('verify for the body, secret and a time within the tolerance, and for nothing else', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ minLength: 1 }),
        fc.integer({ min: 1_000_000_000, max: 3_000_000_000 }),
        fc.integer({ min: -300, max: 300 }),
        (body, secret, t, skew) => {
          const header = signWebhook(secret, t, body);
          expect(verifyWebhookSignature(header, body, secret, t + skew)).toBe(true);
          expect(verifyWebhookSignature(header, `${body} `, secret, t)).toBe(false);
          expect(verifyWebhookSignature(header, body, `${secret}x`, t)).toBe(false);
          expect(verifyWebhookSignature(header, body, secret, t + 301)).toBe(false);
          expect(verifyWebhookSignature(header, body, secret, t - 301)).toBe(false);
        },
      ),
    );
  });

  it('refuse a timestamp changed after signing (it is part of what is signed)', () => {
    const forged = signWebhook(SECRET, T, BODY).replace(`t=${T}`, `t=${T + 60}`);
    expect(verifyWebhookSignature(forged, BODY, SECRET, T + 60)).toBe(false);
  });

  it('accept any of several v1 values (a secret being rotated) and refuse malformed headers', () => {
    const old = signWebhook('old-secret', T, BODY).split(',')[1];
    const both = `${signWebhook(SECRET, T, BODY)},${old}`;
    expect(verifyWebhookSignature(both, BODY, 'old-secret', T)).toBe(true);
    expect(verifyWebhookSignature(both, BODY, SECRET, T)).toBe(true);
    for (const bad of ['', 'v1=abc', `t=${T}`, `t=x,v1=${'0'.repeat(64)}`, `t=${T},v1=zz`]) {
      expect(verifyWebhookSignature(bad, BODY, SECRET, T)).toBe(false);
    }
  });
});
