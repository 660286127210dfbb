// Delivery feedback into the suppression list: what a provider says about an address after Precis used
// it. Two sources:
// - SES events: the stage's configuration set sends bounce and complaint events to EventBridge, a rule
//   puts them on the email-feedback queue (functions/queue/emailFeedback.ts). A permanent bounce
//   suppresses the address; a complaint suppresses it and revokes the customer's marketing consent by
//   e-mail (consent.ts: suppress). Transient bounces (a full mailbox) suppress nothing.
// - A permanent rejection at send time (an address SES cannot parse, an SMS number opted out or invalid):
//   the dispatcher suppresses the address it used (suppressionOfRejection).
// The list holds keyed hashes of addresses, as the identity index does, never the addresses; this module
// is where an address from a provider becomes one. docs/campaigns.md, "Consent, unsubscribe, suppression".
import { z } from 'zod';
import { identifierHash } from '../pii/hmac.js';
import { normalizeEmail, normalizePhone } from '../pii/identifiers.js';
import { type ConsentStore, type SuppressionReason, type SuppressionRecord, suppress } from './consent.js';
import type { Channel } from './model.js';

/** The keyed hash of an address as the identity index (and so the decision's suppression check) has it. */
export function addressHash(secret: string, channel: 'email' | 'sms', address: string): string | undefined {
  const normalized = channel === 'email' ? normalizeEmail(address) : normalizePhone(address);
  return normalized === undefined
    ? undefined
    : identifierHash(secret, channel === 'email' ? 'email' : 'phone', normalized);
}

const Recipient = z.looseObject({ emailAddress: z.string().min(1).max(1000) });
const Tags = z.record(z.string(), z.array(z.string())).optional();
const Mail = z.looseObject({ messageId: z.string().optional(), tags: Tags });

/**
 * An SES event as event publishing writes it (`eventType`; identity notifications say `notificationType`),
 * the fields read here; the rest is kept as is.
 */
export const SesEvent = z.looseObject({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  mail: Mail.optional(),
  bounce: z
    .looseObject({
      bounceType: z.string(),
      bouncedRecipients: z.array(Recipient).max(100),
      timestamp: z.string().optional(),
    })
    .optional(),
  complaint: z
    .looseObject({
      complainedRecipients: z.array(Recipient).max(100),
      timestamp: z.string().optional(),
    })
    .optional(),
});
export type SesEvent = z.infer<typeof SesEvent>;

/**
 * The SES event a queue message carries: EventBridge's envelope (`detail`), an SNS notification
 * (`Message`, a JSON string) or the event itself (SNS raw delivery).
 */
function sesEventOf(body: unknown): unknown {
  if (body !== null && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (b.source === 'aws.ses' && 'detail' in b) return b.detail;
    if (b.Type === 'Notification' && typeof b.Message === 'string') {
      try {
        return JSON.parse(b.Message);
      } catch {
        return undefined;
      }
    }
  }
  return body;
}

/** A queue message's body, unwrapped and validated as an SES event. */
export const FeedbackMessage = z.unknown().transform(sesEventOf).pipe(SesEvent);

export interface FeedbackFound {
  /** Bounce, Complaint, Delivery...: what the event was. */
  readonly kind: string;
  readonly suppressions: SuppressionRecord[];
  /** Recipients whose address could not be read (no suppression for them). */
  readonly unreadable: number;
}

const instant = (at: string | undefined, fallback: number): string => {
  const t = at === undefined ? Number.NaN : Date.parse(at);
  return new Date(Number.isNaN(t) ? fallback : t).toISOString();
};

/** The tag SES carries back: the customer the message went to (emailSender.ts sets it when tag-safe). */
const customerOf = (event: SesEvent): string | undefined => event.mail?.tags?.customer?.[0];

/** The suppressions an SES event asks for: a permanent bounce's and a complaint's recipients. */
export function suppressionsOfSesEvent(event: SesEvent, secret: string, now: number): FeedbackFound {
  const kind = event.eventType ?? event.notificationType ?? 'unknown';
  const of = (
    recipients: readonly { emailAddress: string }[],
    reason: SuppressionReason,
    at: string | undefined,
  ): FeedbackFound => {
    const suppressions: SuppressionRecord[] = [];
    let unreadable = 0;
    const customerId = customerOf(event);
    for (const r of recipients) {
      // A bounce names the address as the remote server wrote it, possibly as `Name <address>`.
      const address = r.emailAddress.match(/<([^>]+)>\s*$/)?.[1] ?? r.emailAddress;
      const hash = addressHash(secret, 'email', address);
      if (hash === undefined) {
        unreadable++;
        continue;
      }
      suppressions.push({
        channel: 'email',
        addressHash: hash,
        reason,
        at: instant(at, now),
        // A complaint revokes this customer's consent; with several recipients the tag is not theirs.
        ...(customerId !== undefined && recipients.length === 1 ? { customerId } : {}),
      });
    }
    return { kind, suppressions, unreadable };
  };
  if (kind === 'Bounce' && event.bounce?.bounceType === 'Permanent')
    return of(event.bounce.bouncedRecipients, 'hard_bounce', event.bounce.timestamp);
  if (kind === 'Complaint' && event.complaint !== undefined)
    return of(event.complaint.complainedRecipients, 'complaint', event.complaint.timestamp);
  return { kind, suppressions: [], unreadable: 0 };
}

/** Applies an SES event's suppressions (and a complaint's consent revocation). Idempotent. */
export async function applySesEvent(
  event: SesEvent,
  deps: { readonly store: ConsentStore; readonly secret: () => Promise<string>; readonly now: number },
): Promise<{ kind: string; suppressed: number; unreadable: number }> {
  const found = suppressionsOfSesEvent(event, await deps.secret(), deps.now);
  let suppressed = 0;
  for (const record of found.suppressions) {
    const { suppression } = await suppress(record, deps.store);
    if (suppression.applied) suppressed++;
  }
  return { kind: found.kind, suppressed, unreadable: found.unreadable };
}

/** What a permanent rejection at send time says about the address, by the channel adapters' reasons. */
const REJECTION_REASONS: Readonly<Record<string, SuppressionReason>> = {
  invalid_address: 'invalid_address',
  invalid_number: 'invalid_address',
  opted_out: 'opted_out',
};

/**
 * The suppression of the address a permanently rejected message went to, when the rejection is about the
 * address (not the content, the account, or a webhook's answer).
 */
export function suppressionOfRejection(
  message: { readonly channel: Channel; readonly to?: string; readonly customerId: string },
  rejection: { readonly reason: string; readonly permanent: boolean },
  secret: string,
  at: string,
): SuppressionRecord | undefined {
  const reason = REJECTION_REASONS[rejection.reason];
  if (!rejection.permanent || reason === undefined || message.to === undefined) return undefined;
  if (message.channel !== 'email' && message.channel !== 'sms') return undefined;
  const hash = addressHash(secret, message.channel, message.to);
  return hash === undefined
    ? undefined
    : { channel: message.channel, addressHash: hash, reason, at, customerId: message.customerId };
}
