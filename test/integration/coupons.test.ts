// Coupons against the real coupons table: one coupon per customer × campaign × trigger key under
// concurrent and repeated issues, codes unique over 10,000 issues, and a code already bound to another
// key never handed out again (the key moves to a new code).
import { randomUUID } from 'node:crypto';
import pMap from 'p-map';
import { afterAll, describe, expect, it } from 'vitest';
import { couponsTable } from '../../lib/adapters/dynamodb/couponsTable.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import { type CouponKey, candidateCoupon, issueCoupon } from '../../lib/campaigns/coupons.js';
import { Coupon } from '../../lib/campaigns/model.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const dynamo = createDynamoDb(config);
const coupons = couponsTable(dynamo, config.tables.coupons);
afterAll(() => dynamo.destroy());

const terms = Coupon.parse({ kind: 'amount', value: 5, currency: 'EUR', expiresInDays: 30, prefix: 'CART' });
const NOW = Date.parse('2026-05-04T08:00:00.000Z');
const keyOf = (triggerKey = randomUUID()): CouponKey => ({
  customerId: `cus_${randomUUID()}`,
  campaignId: 'abandoned-cart',
  triggerKey,
});

describe('coupons table', () => {
  it('issues one code to 20 concurrent issues of one key, and the same code to a redelivery', async () => {
    const key = keyOf();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => issueCoupon(key, terms, NOW, { coupons })),
    );
    const codes = new Set(results.map((r) => r.coupon.code));
    expect(codes.size).toBe(1);
    expect(results.filter((r) => r.issued)).toHaveLength(1);

    const again = await issueCoupon(key, terms, NOW + 3_600_000, { coupons });
    expect(again).toEqual({ coupon: results[0]?.coupon, issued: false });
    const [code] = codes;
    expect(await coupons.byCode(code ?? '')).toMatchObject({
      ...key,
      code,
      kind: 'amount',
      value: 5,
      currency: 'EUR',
    });
    expect(again.coupon.expiresAt).toBe('2026-06-03T08:00:00.000Z');
  });

  it('keys by customer, campaign and trigger key: another cart gets another code', async () => {
    const key = keyOf();
    const first = await issueCoupon(key, terms, NOW, { coupons });
    const otherCart = await issueCoupon({ ...key, triggerKey: `${key.triggerKey}-2` }, terms, NOW, {
      coupons,
    });
    const otherCampaign = await issueCoupon({ ...key, campaignId: 'win-back' }, terms, NOW, { coupons });
    expect(new Set([first, otherCart, otherCampaign].map((r) => r.coupon.code)).size).toBe(3);
    expect([first, otherCart, otherCampaign].every((r) => r.issued)).toBe(true);
  });

  it('never hands out a code another key holds: the store refuses it and the key moves to a new code', async () => {
    const taken = await issueCoupon(keyOf(), terms, NOW, { coupons });
    const key = keyOf();
    const colliding = { ...candidateCoupon(key, terms, NOW), code: taken.coupon.code };
    expect(await coupons.issue(key, colliding)).toEqual({ status: 'code_taken' });
    // The key was claimed with the colliding code; the next candidate replaces it.
    const fresh = candidateCoupon(key, terms, NOW);
    expect(await coupons.issue(key, fresh)).toEqual({ status: 'issued', coupon: fresh });
    expect(await coupons.issue(key, candidateCoupon(key, terms, NOW))).toEqual({
      status: 'existing',
      coupon: fresh,
    });
    expect((await coupons.byCode(taken.coupon.code))?.customerId).toBe(taken.coupon.customerId);
  });

  it('issues 10,000 distinct codes to 10,000 keys', async () => {
    const results = await pMap(
      Array.from({ length: 10_000 }, () => keyOf()),
      (key) => issueCoupon(key, terms, NOW, { coupons }),
      { concurrency: 64 },
    );
    expect(results.every((r) => r.issued)).toBe(true);
    expect(new Set(results.map((r) => r.coupon.code)).size).toBe(10_000);
  }, 600_000);

  it('finds a code however a person types it', async () => {
    const { coupon } = await issueCoupon(keyOf(), terms, NOW, { coupons });
    expect((await coupons.byCode(coupon.code.toLowerCase()))?.code).toBe(coupon.code);
    expect(await coupons.byCode('CART-0000-000X')).toBeUndefined();
  });
});
