// Consent, global unsubscribe and suppression: what a customer allowed, per purpose and channel (PIPL:
// explicit and separate), recorded with its source and time and revocable; the one switch that stops all
// marketing; and the addresses no channel may use again (hard bounces, complaints). The latest record by
// time wins everywhere, so a late event or an old import never overrides a newer choice. Stored through
// the messaging port (messaging.ts); docs/campaigns.md, "Consent, unsubscribe, suppression, caps".
import { z } from 'zod';
import { CHANNELS, Channel, PURPOSES, Purpose } from './model.js';

export const ConsentStatus = z.enum(['granted', 'revoked']);
export type ConsentStatus = z.infer<typeof ConsentStatus>;

/**
 * Where a consent came from: `web-form`, `api`, `import`, `event` (an identify or `Consent Updated`),
 * `unsubscribe-link`, `complaint`, or a caller's own short label (`pos`, `crm`).
 */
export const ConsentSource = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lowercase letters, digits and dashes, at most 40')
  .meta({ description: 'Where the consent was given or revoked', example: 'web-form' });
export type ConsentSource = z.infer<typeof ConsentSource>;

/** ISO-8601 UTC with milliseconds (toISOString): strings of one length compare in time order. */
export const IsoTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

export const ConsentRecord = z
  .object({
    status: ConsentStatus,
    source: ConsentSource,
    /** When the customer made the choice (an event's time, a form's time), not when it was stored. */
    at: IsoTime,
    /** Who recorded it through the API (`key:<keyId>`), for the audit trail. */
    by: z.string().max(200).optional(),
  })
  .meta({ id: 'ConsentRecord' });
export type ConsentRecord = z.infer<typeof ConsentRecord>;

/** One purpose × channel choice. */
export const ConsentChange = ConsentRecord.extend({ purpose: Purpose, channel: Channel });
export type ConsentChange = z.infer<typeof ConsentChange>;

/**
 * Why an address is suppressed: a permanent bounce or a complaint (SES events), an address or number the
 * provider refused for good or a number opted out at the carrier (at send time), or an operator.
 */
export const SuppressionReason = z.enum([
  'hard_bounce',
  'complaint',
  'invalid_address',
  'opted_out',
  'manual',
]);
export type SuppressionReason = z.infer<typeof SuppressionReason>;

/**
 * An address no message may go to on a channel. `addressHash` is the identity index's keyed hash of the
 * normalized address (lib/pii/hmac.ts identifierHash, type `email` or `phone`): the list holds no address.
 */
export const SuppressionRecord = z.object({
  channel: Channel,
  addressHash: z.string().min(8).max(200),
  reason: SuppressionReason,
  at: IsoTime,
  customerId: z.string().min(1).max(200).optional(),
});
export type SuppressionRecord = z.infer<typeof SuppressionRecord>;

/**
 * Whether `next` replaces `current`: a later time wins; at the same instant a revocation beats a grant
 * (when in doubt, do not contact). The store's conditional write states the same rule.
 */
export function supersedes(next: Pick<ConsentRecord, 'at' | 'status'>, current?: ConsentRecord): boolean {
  if (!current) return true;
  if (next.at !== current.at) return next.at > current.at;
  return next.status === 'revoked' && current.status === 'granted';
}

/** The outcome of a conditional write: whether it applied, and what is stored now. */
export interface Recorded<T> {
  readonly applied: boolean;
  readonly current: T;
}

/** The writes consent needs (the messaging store implements them). */
export interface ConsentStore {
  putConsent(customerId: string, change: ConsentChange): Promise<Recorded<ConsentRecord>>;
  /** The global switch: `revoked` = unsubscribed from all marketing, `granted` = subscribed again. */
  putUnsubscribe(customerId: string, record: ConsentRecord): Promise<Recorded<ConsentRecord>>;
  /** The first suppression of an address stays (its reason and time); later ones change nothing. */
  suppress(record: SuppressionRecord): Promise<Recorded<SuppressionRecord>>;
}

export const recordConsent = (customerId: string, change: ConsentChange, store: ConsentStore) =>
  store.putConsent(customerId, change);

/**
 * A hard bounce or complaint: the address is suppressed on its channel; a complaint also revokes the
 * customer's marketing consent on that channel (source `complaint`), when the caller knows the customer
 * (the send's tags name it).
 */
export async function suppress(
  record: SuppressionRecord,
  store: ConsentStore,
): Promise<{ suppression: Recorded<SuppressionRecord>; consent?: Recorded<ConsentRecord> }> {
  const suppression = await store.suppress(record);
  if (record.reason !== 'complaint' || !record.customerId) return { suppression };
  const consent = await store.putConsent(record.customerId, {
    purpose: 'marketing',
    channel: record.channel,
    status: 'revoked',
    source: 'complaint',
    at: record.at,
  });
  return { suppression, consent };
}

/** The fields of an activity (a NormalizedEvent) consent is read from. */
export interface ConsentActivity {
  readonly type: string;
  readonly event?: string;
  readonly traits?: Record<string, unknown>;
  readonly properties?: Record<string, unknown>;
  readonly timestamp: string;
}

export const CONSENT_EVENT = 'Consent Updated';

const isPurpose = (p: unknown): p is Purpose => PURPOSES.some((x) => x === p);
const isChannel = (c: unknown): c is Channel => CHANNELS.some((x) => x === c);

/** true/false, or the words `granted`/`revoked`; anything else says nothing. */
function statusOf(value: unknown): ConsentStatus | undefined {
  if (value === true || value === 'granted') return 'granted';
  if (value === false || value === 'revoked') return 'revoked';
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `{ marketing: { email: true, sms: false } }`: unknown purposes, channels and values are ignored. */
function fromNested(map: unknown, base: Pick<ConsentRecord, 'source' | 'at'>): ConsentChange[] {
  if (!isObject(map)) return [];
  const changes: ConsentChange[] = [];
  for (const [purpose, channels] of Object.entries(map)) {
    if (!isPurpose(purpose) || !isObject(channels)) continue;
    for (const [channel, value] of Object.entries(channels)) {
      const status = statusOf(value);
      if (isChannel(channel) && status) changes.push({ purpose, channel, status, ...base });
    }
  }
  return changes;
}

/**
 * The consent choices an event carries, stamped with the event's time (so a late event never overrides a
 * newer choice):
 * - identify with `traits.consent = { marketing: { email: true, sms: false }, recommendations: {...} }`;
 * - track `Consent Updated` with the same map in `properties.consent`, or one choice as
 *   `properties = { purpose, channel, granted: true|false }` (or `status: 'granted'|'revoked'`).
 * The source is `properties.source`/`traits.consentSource` when it is a valid label, else `event`.
 * Pure; the activity consumer records each with recordConsent.
 */
export function consentFromActivity(activity: ConsentActivity): ConsentChange[] {
  const at = IsoTime.safeParse(activity.timestamp);
  if (!at.success) return [];
  if (activity.type === 'identify') {
    const source = ConsentSource.safeParse(activity.traits?.consentSource);
    return fromNested(activity.traits?.consent, { at: at.data, source: source.data ?? 'event' });
  }
  if (activity.type !== 'track' || activity.event !== CONSENT_EVENT) return [];
  const p = activity.properties ?? {};
  const base = { at: at.data, source: ConsentSource.safeParse(p.source).data ?? 'event' };
  const nested = fromNested(p.consent, base);
  const status = statusOf(p.granted) ?? statusOf(p.status);
  if (isPurpose(p.purpose) && isChannel(p.channel) && status) {
    nested.push({ purpose: p.purpose, channel: p.channel, status, ...base });
  }
  return nested;
}
