// Coupons: unique codes with the campaign's terms, issued at most once per customer × campaign × trigger
// key. A redelivered trigger (SQS is at-least-once) gets the coupon its first delivery issued; a code is
// never handed to two keys (the store refuses a code already bound, and issuing retries with a new one).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CampaignId, Coupon } from './model.js';

/**
 * Crockford's base32 (no I, L, O, U: they read as 1, 1, 0, V or make words). 32 symbols, so 5 random bits
 * map to one without bias.
 */
export const COUPON_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Two groups of four: 40 random bits, 1.1 × 10¹² codes per prefix (10,000 codes collide with p ≈ 5 × 10⁻⁵). */
const GROUPS = 2;
const GROUP_LENGTH = 4;
const RANDOM_BYTES = (GROUPS * GROUP_LENGTH * 5) / 8;
/** Collisions are that rare: a few retries make a failure a sign of a broken random source. */
const MAX_ATTEMPTS = 8;
const DAY_MS = 86_400_000;

export const CouponCode = z
  .string()
  .regex(new RegExp(`^[A-Z0-9]{1,10}(-[${COUPON_ALPHABET}]{${GROUP_LENGTH}}){${GROUPS}}$`));

/** What one issue is about: a customer, a campaign, and the trigger occurrence (cart, birthday year, …). */
export const CouponKey = z.object({
  customerId: z.string().min(1),
  campaignId: CampaignId,
  triggerKey: z.string().min(1),
});
export type CouponKey = z.infer<typeof CouponKey>;

/** An issued coupon: its code, the key it was issued for and the campaign's terms at issue time. */
export const IssuedCoupon = CouponKey.extend({
  code: CouponCode,
  kind: Coupon.shape.kind,
  value: Coupon.shape.value,
  currency: Coupon.shape.currency,
  issuedAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  /** Set by redemption (not built yet): a redeemed code is never valid again. */
  redeemedAt: z.iso.datetime().optional(),
});
export type IssuedCoupon = z.infer<typeof IssuedCoupon>;

/** What the store did with a candidate coupon. */
export type IssueOutcome =
  /** The candidate is now the key's coupon. */
  | { readonly status: 'issued'; readonly coupon: IssuedCoupon }
  /** The key already had a coupon (a redelivered trigger): that one, unchanged. */
  | { readonly status: 'existing'; readonly coupon: IssuedCoupon }
  /** The candidate's code belongs to another key: try another code. */
  | { readonly status: 'code_taken' };

export interface CouponStore {
  /**
   * The key's coupon: the one it already has, else `candidate`, whose code must then be unused. Safe under
   * concurrent calls for one key: all of them end with the same coupon.
   */
  issue(key: CouponKey, candidate: IssuedCoupon): Promise<IssueOutcome>;
  /** The coupon a code was issued as (for redemption and support), or undefined. */
  byCode(code: string): Promise<IssuedCoupon | undefined>;
}

/**
 * A code as a person typed it, in the form codes are stored: upper case, and Crockford's read-alikes
 * (O → 0, I and L → 1) taken as the digits they stand for.
 */
export function normalizeCouponCode(typed: string): string {
  const [prefix = '', ...groups] = typed.trim().toUpperCase().split('-');
  return [prefix, ...groups.map((g) => g.replace(/O/g, '0').replace(/[IL]/g, '1'))].join('-');
}

/** `<prefix>-XXXX-XXXX` from `random` (crypto-random unless a test hands in its own source). */
export function couponCode(prefix: string, random: (bytes: number) => Uint8Array = randomBytes): string {
  const bytes = random(RANDOM_BYTES);
  if (bytes.length < RANDOM_BYTES)
    throw new Error(`random source gave ${bytes.length} of ${RANDOM_BYTES} bytes`);
  let bits = 0n;
  for (const byte of bytes.subarray(0, RANDOM_BYTES)) bits = (bits << 8n) | BigInt(byte);
  const symbols: string[] = [];
  for (let i = GROUPS * GROUP_LENGTH - 1; i >= 0; i--) {
    symbols.push(COUPON_ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)] ?? '');
  }
  const groups = Array.from({ length: GROUPS }, (_, g) =>
    symbols.slice(g * GROUP_LENGTH, (g + 1) * GROUP_LENGTH).join(''),
  );
  return [prefix, ...groups].join('-');
}

/** The coupon a campaign's terms give `key` if issued at `now` (a candidate: its code is not yet claimed). */
export function candidateCoupon(
  key: CouponKey,
  terms: Coupon,
  now: number,
  random?: (bytes: number) => Uint8Array,
): IssuedCoupon {
  return {
    ...key,
    code: couponCode(terms.prefix, random),
    kind: terms.kind,
    value: terms.value,
    currency: terms.currency,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + terms.expiresInDays * DAY_MS).toISOString(),
  };
}

export interface CouponDeps {
  readonly coupons: CouponStore;
  /** Random bytes for codes; crypto-random by default. */
  readonly random?: (bytes: number) => Uint8Array;
}

/**
 * The coupon of one customer × campaign × trigger key: issued now on the first call, the same one on every
 * later call (`issued` tells which). Throws only if no free code was found in MAX_ATTEMPTS tries.
 */
export async function issueCoupon(
  key: CouponKey,
  terms: Coupon,
  now: number,
  deps: CouponDeps,
): Promise<{ readonly coupon: IssuedCoupon; readonly issued: boolean }> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const outcome = await deps.coupons.issue(key, candidateCoupon(key, terms, now, deps.random));
    if (outcome.status !== 'code_taken')
      return { coupon: outcome.coupon, issued: outcome.status === 'issued' };
  }
  throw new Error(`no free coupon code after ${MAX_ATTEMPTS} attempts (prefix ${terms.prefix})`);
}
