// Coupons table (pk only), two item kinds:
//   pk "key#<sha256 of [campaign, customer, trigger key]>"  the coupon issued for that key (one per key)
//   pk "code#<CODE>"                                         the coupon a code is, with its owner key
//                                                            (redemption sets redeemedAt here)
// The key is hashed: customer ids and trigger keys are any strings, the hash is fixed-length and cannot
// be confused across fields; the fields themselves are kept on the item for support.
// Dynalite has no transactions, and none are needed: the key item is claimed first (conditional put),
// then its code is bound (conditional put on the code item). A code is only returned once bound to the
// key, and a bound code never changes owner, so every caller of one key returns the same code; a key
// whose code turned out to be another key's (never handed out) is moved to the next candidate's code.
import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  type CouponKey,
  type CouponStore,
  IssuedCoupon,
  type IssueOutcome,
  normalizeCouponCode,
} from '../../campaigns/coupons.js';
import { isConditionFailed } from './errors.js';

/** Rounds of claim, bind and rebind: more than one only when concurrent issues of a key rebind it. */
const MAX_ROUNDS = 4;

export const couponKeyPk = (key: CouponKey) =>
  `key#${createHash('sha256')
    .update(JSON.stringify([key.campaignId, key.customerId, key.triggerKey]))
    .digest('hex')}`;
export const couponCodePk = (code: string) => `code#${code}`;

/** The coupon part of an item (zod drops pk, type and owner). */
const couponOf = (item: unknown): IssuedCoupon => IssuedCoupon.parse(item);

export function couponsTable(client: DynamoDBDocumentClient, table: string): CouponStore {
  const get = async (pk: string) =>
    (await client.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true }))).Item;

  /** Puts `item` unless `condition` fails; false when it did. */
  async function putIf(
    item: Record<string, unknown>,
    condition: string,
    names?: Record<string, string>,
    values?: Record<string, unknown>,
  ) {
    try {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  /** The key's coupon: the stored one, or `candidate` once it is stored. */
  async function claimKey(pk: string, candidate: IssuedCoupon): Promise<IssuedCoupon> {
    if (await putIf({ ...candidate, pk, type: 'key' }, 'attribute_not_exists(pk)')) return candidate;
    const stored = await get(pk);
    // Keys are never deleted: a failed condition means the item is there.
    if (!stored) throw new Error(`coupon key ${pk} refused a put but cannot be read`);
    return couponOf(stored);
  }

  /** Binds the coupon's code to the key; false if the code is another key's. */
  async function bindCode(owner: string, coupon: IssuedCoupon): Promise<boolean> {
    const pk = couponCodePk(coupon.code);
    // Never overwrite a code item: a redelivered trigger must not erase a redemption.
    if (await putIf({ ...coupon, pk, type: 'code', owner }, 'attribute_not_exists(pk)')) return true;
    return (await get(pk))?.owner === owner;
  }

  return {
    async issue(key, candidate): Promise<IssueOutcome> {
      const pk = couponKeyPk(key);
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const coupon = await claimKey(pk, candidate);
        if (await bindCode(pk, coupon)) {
          return { status: coupon.code === candidate.code ? 'issued' : 'existing', coupon };
        }
        if (coupon.code === candidate.code) return { status: 'code_taken' };
        // The key holds a code another key had first (so it was never handed out): move it to the
        // candidate's. A failed condition means a concurrent issue moved it: read it again.
        await putIf(
          { ...candidate, pk, type: 'key' },
          '#code = :code',
          { '#code': 'code' },
          { ':code': coupon.code },
        );
      }
      throw new Error(`coupon key ${pk} changed ${MAX_ROUNDS} times while issuing`);
    },

    async byCode(code) {
      const item = await get(couponCodePk(normalizeCouponCode(code)));
      return item ? couponOf(item) : undefined;
    },
  };
}
