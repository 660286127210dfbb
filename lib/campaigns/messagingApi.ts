// The messaging API's use cases and request shapes: a customer's consent (read; recorded by POS/CRM
// sources with write keys), and the decision log per customer and per campaign. Handlers in
// functions/http/messaging.ts stay thin; {id} of a customer is any identifier the customer API takes.
import { z } from 'zod';
import { customerNamed, type LookupDeps } from '../customers/lookup.js';
import { invalid, type Outcome, ok } from '../outcome.js';
import {
  ConsentChange,
  ConsentRecord,
  ConsentSource,
  ConsentStatus,
  IsoTime,
  type Recorded,
} from './consent.js';
import {
  DecisionRecord,
  decodeListingCursor,
  type LogKind,
  type MessagingStore,
  type Page,
} from './messaging.js';
import { Channel, Purpose } from './model.js';

export interface MessagingApiDeps {
  readonly store: MessagingStore;
  readonly lookup: LookupDeps;
  readonly now: () => number;
}

/** A consent time a little ahead of ours is clock skew; further ahead it is a mistake. */
const MAX_FUTURE_MS = 5 * 60_000;

export const ConsentRequest = z
  .object({
    purpose: Purpose.default('marketing'),
    channel: z.union([Channel, z.literal('all')]).meta({
      description:
        '`all`: the global switch of all marketing (revoked = unsubscribed, granted = subscribed again)',
    }),
    status: ConsentStatus,
    source: ConsentSource.default('api'),
    at: IsoTime.optional().meta({
      description:
        'When the customer chose (a signed form, a POS screen); default now. An older choice never overrides a newer one',
    }),
  })
  .refine((r) => r.channel !== 'all' || r.purpose === 'marketing', {
    error: 'the global switch (channel all) is for marketing only',
    path: ['channel'],
  })
  .meta({ id: 'ConsentRequest' });
export type ConsentRequest = z.infer<typeof ConsentRequest>;

export const ConsentEntry = ConsentChange.meta({ id: 'ConsentEntry' });

export const CustomerConsentResponse = z
  .object({
    customerId: z.string(),
    unsubscribe: ConsentRecord.nullable().meta({
      description: 'The global switch: revoked = unsubscribed from all marketing; null = never used',
    }),
    consent: z
      .array(ConsentEntry)
      .meta({ description: 'Per purpose and channel; absent = never asked (no consent)' }),
  })
  .meta({ id: 'CustomerConsent' });
export type CustomerConsentResponse = z.infer<typeof CustomerConsentResponse>;

export const ConsentWriteResponse = z
  .object({
    customerId: z.string(),
    purpose: Purpose,
    channel: z.union([Channel, z.literal('all')]),
    applied: z.boolean().meta({ description: 'false: a newer record was already stored; it stays' }),
    current: ConsentRecord,
  })
  .meta({ id: 'ConsentWrite' });
export type ConsentWriteResponse = z.infer<typeof ConsentWriteResponse>;

export async function customerConsent(
  id: string,
  deps: MessagingApiDeps,
): Promise<Outcome<CustomerConsentResponse>> {
  const customer = await customerNamed(id, deps.lookup);
  if (!customer.ok) return customer;
  const { customerId } = customer.value;
  const snapshot = await deps.store.snapshot(customerId, { localDays: [] });
  const consent = Object.entries(snapshot.consent).flatMap(([purpose, channels]) =>
    Object.entries(channels ?? {}).map(([channel, record]) =>
      ConsentChange.parse({ purpose, channel, ...record }),
    ),
  );
  return ok({ customerId, unsubscribe: snapshot.unsubscribe ?? null, consent });
}

export async function recordCustomerConsent(
  id: string,
  request: ConsentRequest,
  by: string,
  deps: MessagingApiDeps,
): Promise<Outcome<ConsentWriteResponse>> {
  const now = deps.now();
  if (request.at && Date.parse(request.at) > now + MAX_FUTURE_MS) {
    return invalid('The consent time is in the future.', [
      { path: 'at', code: 'future_time', message: 'must not be in the future' },
    ]);
  }
  const customer = await customerNamed(id, deps.lookup);
  if (!customer.ok) return customer;
  const { customerId } = customer.value;
  const { purpose, channel, status, source } = request;
  const record: ConsentRecord = { status, source, at: request.at ?? new Date(now).toISOString(), by };
  const written: Recorded<ConsentRecord> =
    channel === 'all'
      ? await deps.store.putUnsubscribe(customerId, record)
      : await deps.store.putConsent(customerId, { purpose, channel, ...record });
  return ok({ customerId, purpose, channel, ...written });
}

const cursorOf = (kind: LogKind) =>
  z
    .string()
    .max(2000)
    .refine((c) => decodeListingCursor(c, kind) !== undefined, { error: 'is not a cursor this API returned' })
    .optional()
    .meta({ description: 'nextCursor of the previous page' });

export const DecisionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursorOf('decision'),
});
export type DecisionsQuery = z.infer<typeof DecisionsQuery>;

export const DecisionsPage = z
  .object({
    customerId: z.string().optional(),
    campaignId: z.string().optional(),
    items: z.array(DecisionRecord),
    nextCursor: z.string().optional().meta({ description: 'Absent on the last page' }),
  })
  .meta({ id: 'DecisionsPage' });

/** A customer's decisions, newest first. */
export async function customerDecisions(
  id: string,
  query: DecisionsQuery,
  deps: MessagingApiDeps,
): Promise<Outcome<Page<DecisionRecord> & { customerId: string }>> {
  const customer = await customerNamed(id, deps.lookup);
  if (!customer.ok) return customer;
  const { customerId } = customer.value;
  return ok({ customerId, ...(await deps.store.customerDecisions(customerId, query)) });
}

/** A campaign's decisions, newest first (a campaign never decided on simply has none). */
export async function campaignDecisions(
  campaignId: string,
  query: DecisionsQuery,
  deps: Pick<MessagingApiDeps, 'store'>,
): Promise<Outcome<Page<DecisionRecord> & { campaignId: string }>> {
  return ok({ campaignId, ...(await deps.store.campaignDecisions(campaignId, query)) });
}
