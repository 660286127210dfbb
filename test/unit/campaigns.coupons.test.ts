import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COUPON_ALPHABET,
  CouponCode,
  type CouponKey,
  type CouponStore,
  candidateCoupon,
  couponCode,
  type IssuedCoupon,
  type IssueOutcome,
  issueCoupon,
  normalizeCouponCode,
} from '../../lib/campaigns/coupons.js';
import { Coupon } from '../../lib/campaigns/model.js';

const bytes = (values: number[]) => () => Uint8Array.from(values);
const key: CouponKey = { customerId: 'cus_1', campaignId: 'abandoned-cart', triggerKey: 'cart-9' };
const terms = Coupon.parse({ kind: 'percent', value: 10, expiresInDays: 14, prefix: 'CART' });
const NOW = Date.parse('2026-03-01T10:00:00.000Z');

/** A store that refuses the first `taken` candidates' codes, then keeps what it is given. */
function scriptedStore(taken: number): CouponStore & { candidates: IssuedCoupon[] } {
  const candidates: IssuedCoupon[] = [];
  return {
    candidates,
    async issue(_key, candidate): Promise<IssueOutcome> {
      candidates.push(candidate);
      return candidates.length <= taken ? { status: 'code_taken' } : { status: 'issued', coupon: candidate };
    },
    async byCode() {
      return undefined;
    },
  };
}

describe('coupon codes', () => {
  it('are <prefix>-XXXX-XXXX over Crockford base32 for any random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5, maxLength: 5 }), (random) => {
        const code = couponCode('CART', () => random);
        expect(code).toMatch(/^CART-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
        expect(CouponCode.safeParse(code).success).toBe(true);
        expect([...code.slice(5).replace('-', '')].every((c) => COUPON_ALPHABET.includes(c))).toBe(true);
      }),
    );
  });

  it('never contain I, L, O or U', () => {
    expect(COUPON_ALPHABET).toHaveLength(32);
    expect(COUPON_ALPHABET).not.toMatch(/[ILOU]/);
  });

  it('spend 5 bits per symbol, most significant first', () => {
    expect(couponCode('P', bytes([0, 0, 0, 0, 0]))).toBe('P-0000-0000');
    expect(couponCode('P', bytes([255, 255, 255, 255, 255]))).toBe('P-ZZZZ-ZZZZ');
    // 00001|000 00|…: the first five bits are the first symbol.
    expect(couponCode('P', bytes([0b00001000, 0, 0, 0, 0]))).toBe('P-1000-0000');
    expect(couponCode('P', bytes([0, 0, 0, 0, 1]))).toBe('P-0000-0001');
  });

  it('differ for different random bytes (no two inputs share a code)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 5, maxLength: 5 }),
        fc.uint8Array({ minLength: 5, maxLength: 5 }),
        (a, b) => {
          fc.pre(Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0);
          expect(couponCode('X', () => a)).not.toBe(couponCode('X', () => b));
        },
      ),
    );
  });

  it('refuse a random source that gives too few bytes', () => {
    expect(() => couponCode('X', bytes([1, 2]))).toThrow(/2 of 5 bytes/);
  });

  it('are read back the way people type them', () => {
    expect(normalizeCouponCode(' cart-oil1-abcd ')).toBe('CART-0111-ABCD');
    // The prefix is the campaign's own: only the random groups are Crockford's.
    expect(normalizeCouponCode('COOL-0000-0000')).toBe('COOL-0000-0000');
  });
});

describe('candidate coupons', () => {
  it('carry the key, the terms and an expiry expiresInDays after issue', () => {
    const c = candidateCoupon(key, terms, NOW, bytes([0, 0, 0, 0, 0]));
    expect(c).toEqual({
      ...key,
      code: 'CART-0000-0000',
      kind: 'percent',
      value: 10,
      currency: undefined,
      issuedAt: '2026-03-01T10:00:00.000Z',
      expiresAt: '2026-03-15T10:00:00.000Z',
    });
  });
});

describe('issueCoupon', () => {
  it('tries new codes while the store says a code is taken', async () => {
    const coupons = scriptedStore(2);
    const result = await issueCoupon(key, terms, NOW, { coupons });
    expect(coupons.candidates).toHaveLength(3);
    expect(new Set(coupons.candidates.map((c) => c.code)).size).toBe(3);
    expect(result).toEqual({ coupon: coupons.candidates[2], issued: true });
  });

  it('returns an existing coupon as not issued', async () => {
    const existing = candidateCoupon(key, terms, NOW - 1000);
    const coupons: CouponStore = {
      issue: async () => ({ status: 'existing', coupon: existing }),
      byCode: async () => undefined,
    };
    expect(await issueCoupon(key, terms, NOW, { coupons })).toEqual({ coupon: existing, issued: false });
  });

  it('gives up (throws) when no free code is found in a few tries', async () => {
    const coupons = scriptedStore(Number.POSITIVE_INFINITY);
    await expect(issueCoupon(key, terms, NOW, { coupons })).rejects.toThrow(/no free coupon code/);
    expect(coupons.candidates.length).toBeGreaterThan(1);
  });
});
