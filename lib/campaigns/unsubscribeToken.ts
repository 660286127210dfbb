// The one-click unsubscribe token of every message's link and List-Unsubscribe header: who (customer),
// from what (channel, campaign) and when it was issued, signed with HMAC-SHA-256 so that the public route
// needs no key or cookie and nobody can unsubscribe someone else by editing a link. The key is derived
// from the stage's HMAC secret (lib/pii/hmac.ts) under a label of its own: a token's MAC is never an
// identifier hash, and one secret per stage stays the only thing to keep.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { invalid, type Outcome, ok } from '../outcome.js';
import { CampaignId, Channel } from './model.js';

/** Links in old messages keep working for a bit more than a year. */
export const UNSUBSCRIBE_TOKEN_TTL_DAYS = 400;
const DAY_MS = 86_400_000;
/** Tolerated clock difference between the signer and the verifier. */
const SKEW_MS = 5 * 60_000;
const LABEL = 'precis:unsubscribe-token:v1';
const VERSION = 1;

export const UnsubscribeClaims = z.object({
  customerId: z.string().min(1).max(200),
  channel: Channel,
  campaignId: CampaignId,
  /** Epoch milliseconds. */
  issuedAt: z.number().int().min(0),
});
export type UnsubscribeClaims = z.infer<typeof UnsubscribeClaims>;

/** The payload: a compact JSON array, base64url (links stay short). */
const Payload = z.tuple([
  z.literal(VERSION),
  UnsubscribeClaims.shape.customerId,
  UnsubscribeClaims.shape.channel,
  UnsubscribeClaims.shape.campaignId,
  UnsubscribeClaims.shape.issuedAt,
]);

const tokenKey = (secret: string) => createHmac('sha256', secret).update(LABEL).digest();
const macOf = (secret: string, payload: string) =>
  createHmac('sha256', tokenKey(secret)).update(payload).digest();

/** `<payload>.<mac>`, both base64url: safe in a URL query without escaping. */
export function signUnsubscribeToken(claims: UnsubscribeClaims, secret: string): string {
  const c = UnsubscribeClaims.parse(claims);
  const payload = Buffer.from(
    JSON.stringify([VERSION, c.customerId, c.channel, c.campaignId, c.issuedAt]),
  ).toString('base64url');
  return `${payload}.${macOf(secret, payload).toString('base64url')}`;
}

const refused = (code: string, message: string) =>
  invalid(`The unsubscribe link is not valid: ${message}`, [{ path: 'token', code, message }]);

/** The token's claims, or why it is refused (malformed, bad signature, expired): a 400 naming `token`. */
export function verifyUnsubscribeToken(
  token: string,
  secret: string,
  now: number,
): Outcome<UnsubscribeClaims> {
  const [payload, mac, extra] = token.split('.');
  if (!payload || !mac || extra !== undefined) {
    return refused('malformed', 'it is incomplete (was the link cut when copied?)');
  }
  const given = Buffer.from(mac, 'base64url');
  const expected = macOf(secret, payload);
  // Constant time: how much of a forged MAC matched must not show in the response time.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refused('bad_signature', 'its signature does not match (the link was altered)');
  }
  let parsed: ReturnType<typeof Payload.safeParse>;
  try {
    parsed = Payload.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    return refused('malformed', 'its content cannot be read');
  }
  if (!parsed.success) return refused('malformed', 'its content cannot be read');
  const [, customerId, channel, campaignId, issuedAt] = parsed.data;
  if (issuedAt > now + SKEW_MS) return refused('not_yet_valid', 'it was issued in the future');
  if (now - issuedAt > UNSUBSCRIBE_TOKEN_TTL_DAYS * DAY_MS) {
    return refused('expired', `it is older than ${UNSUBSCRIBE_TOKEN_TTL_DAYS} days`);
  }
  return ok({ customerId, channel, campaignId, issuedAt });
}
