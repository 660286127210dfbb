// The messaging state the send decision reads, and the atomic writes around it: the port (implemented by
// lib/adapters/dynamodb/messagingTable.ts), the records it stores, the one snapshot a decision takes, and
// the decision log's read use cases. Every write is conditional, so concurrent triggers and redeliveries
// cannot exceed a cap, send twice or log twice; docs/campaigns.md describes the design.
import { z } from 'zod';
import { type ConsentRecord, type ConsentStore, IsoTime, type SuppressionRecord } from './consent.js';
import { CampaignId, Channel, type Purpose } from './model.js';

/** A calendar day in the customer's time zone, YYYY-MM-DD: caps count per local day. */
export const LocalDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** Sends counted on one local day: overall and per channel. */
export interface DayCount {
  readonly overall: number;
  readonly channels: Partial<Record<Channel, number>>;
}

/** The last time a customer entered a campaign (re-entry: once, or again after a cooldown). */
export const Entry = z.object({ triggerKey: z.string().min(1).max(512), at: IsoTime });
export type Entry = z.infer<typeof Entry>;

/** An address the decision may use, by its keyed hash (lib/pii/hmac.ts): checked against suppression. */
export interface Address {
  readonly channel: Channel;
  readonly addressHash: string;
}

/**
 * Everything the send decision reads of one customer's messaging state, taken at once: one Query of the
 * customer's partition (consent, unsubscribe, caps of the asked days, entries) and, for the addresses the
 * caller names, their suppression items.
 */
export interface MessagingSnapshot {
  readonly customerId: string;
  /** Per purpose and channel; absent = never asked (no consent). */
  readonly consent: Partial<Record<Purpose, Partial<Record<Channel, ConsentRecord>>>>;
  /** The global switch: `revoked` = unsubscribed from all marketing. */
  readonly unsubscribe?: ConsentRecord;
  /** Per local day asked for (days without a send are absent). */
  readonly caps: Readonly<Record<string, DayCount>>;
  /** Per campaign id. */
  readonly entries: Readonly<Partial<Record<string, Entry>>>;
  /** Per channel, when one of the given addresses is suppressed. */
  readonly suppressed: Partial<Record<Channel, SuppressionRecord>>;
}

/** Daily caps of one reservation: the channel's, and all channels together. */
export interface CapLimits {
  readonly channel: number;
  readonly overall: number;
}

export const SendStatus = z.enum(['claimed', 'sent', 'failed']);

/**
 * A send, claimed before any channel is called. `sendId` (snd_ + hash of campaign, trigger key and
 * customer) is the claim's key, the webhook's idempotency key and the coupon's.
 */
export const SendClaim = z.object({
  sendId: z.string().regex(/^snd_[A-Za-z0-9_-]{8,100}$/),
  customerId: z.string().min(1).max(200),
  campaignId: CampaignId,
  campaignVersion: z.number().int().min(1).optional(),
  triggerKey: z.string().min(1).max(512),
  channel: Channel,
  variant: z.string().max(32),
  couponCode: z.string().max(64).optional(),
  claimedAt: IsoTime,
  /** What attribution needs later: goal event, window end, segment, RFM label... */
  attribution: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type SendClaim = z.infer<typeof SendClaim>;

export const SendRecord = SendClaim.extend({
  status: SendStatus,
  sentAt: IsoTime.optional(),
  failedAt: IsoTime.optional(),
  error: z.string().max(1000).optional(),
  /** The channel's id of the message (SES MessageId...). */
  providerMessageId: z.string().max(500).optional(),
}).meta({ id: 'SendRecord' });
export type SendRecord = z.infer<typeof SendRecord>;

export type ClaimResult =
  | { readonly status: 'claimed' }
  | { readonly status: 'already_claimed'; readonly record: SendRecord };

/** One evaluated candidate: its outcome and reason (decision.ts), logged whatever it was. */
export const DecisionRecord = z
  .object({
    customerId: z.string().min(1).max(200),
    campaignId: CampaignId,
    campaignVersion: z.number().int().min(1).optional(),
    triggerKey: z.string().min(1).max(512),
    /** When the decision was made (not the trigger event's time). */
    at: IsoTime,
    outcome: z.string().min(1).max(64).meta({ example: 'send' }),
    reason: z.string().min(1).max(200).meta({ example: 'consent_missing' }),
    channel: Channel.optional(),
    variant: z.string().max(32).optional(),
    sendId: z.string().max(120).optional(),
    /** A deferred decision's new time. */
    deferUntil: IsoTime.optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'DecisionRecord' });
export type DecisionRecord = z.infer<typeof DecisionRecord>;

/** A page of a listing; `nextCursor` is absent on the last page. */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}
export interface PageQuery {
  readonly limit: number;
  readonly cursor?: string;
}

export interface MessagingStore extends ConsentStore {
  /** One Query of the customer's partition (and one BatchGet of the addresses' suppressions, if any). */
  snapshot(
    customerId: string,
    query: { readonly localDays: readonly string[]; readonly addresses?: readonly Address[] },
  ): Promise<MessagingSnapshot>;
  /** Counts one send on the local day if the channel's and the overall count are below their caps. */
  reserve(
    customerId: string,
    localDay: string,
    channel: Channel,
    caps: CapLimits,
  ): Promise<'reserved' | 'capped'>;
  /** Gives a reservation back: only when the channel certainly did not send. */
  release(customerId: string, localDay: string, channel: Channel): Promise<void>;
  claimSend(claim: SendClaim): Promise<ClaimResult>;
  getSend(customerId: string, sendId: string): Promise<SendRecord | undefined>;
  /** claimed → sent; false when the send is not (or no longer) claimed. */
  markSent(customerId: string, sendId: string, at: string, providerMessageId?: string): Promise<boolean>;
  /** claimed → failed; false when the send is not (or no longer) claimed. */
  markFailed(customerId: string, sendId: string, at: string, error: string): Promise<boolean>;
  /** Keeps the latest entry per customer and campaign. */
  recordEntry(customerId: string, campaignId: string, entry: Entry): Promise<void>;
  /** Idempotent per decision key (customer, time, campaign, trigger key). */
  logDecision(decision: DecisionRecord): Promise<void>;
  customerDecisions(customerId: string, page: PageQuery): Promise<Page<DecisionRecord>>;
  campaignDecisions(campaignId: string, page: PageQuery): Promise<Page<DecisionRecord>>;
  campaignSends(campaignId: string, page: PageQuery): Promise<Page<SendRecord>>;
}

/** The sort-key prefixes of the two logs (the store's keys; cursors resume from one of them). */
export const LOG_PREFIX = { decision: 'decision#', send: 'send#' } as const;
export type LogKind = keyof typeof LOG_PREFIX;

/**
 * Where a listing stopped: the last item's keys (base64url JSON), opaque to clients. Made by the store,
 * checked at the edge (a forged cursor is a 400 naming `cursor`, not a store error), read back by the
 * store.
 */
export const ListingCursor = z.strictObject({
  pk: z.string().min(1).max(300),
  sk: z.string().min(1).max(1024),
  at: IsoTime,
});
export type ListingCursor = z.infer<typeof ListingCursor>;

export const encodeListingCursor = (c: ListingCursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

/** The cursor a string encodes for a listing of `kind`, or undefined for one this API did not make. */
export function decodeListingCursor(s: string, kind: LogKind): ListingCursor | undefined {
  try {
    const parsed = ListingCursor.safeParse(JSON.parse(Buffer.from(s, 'base64url').toString()));
    return parsed.success && parsed.data.sk.startsWith(LOG_PREFIX[kind]) ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
