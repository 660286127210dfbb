// The outbox: where messages go when their channel is configured as `outbox` (locally: SMS, push and
// webhooks; any stage may route a channel there), and what `GET /v1/outbox` lists. Entries keep the
// rendered content and a masked address only: the outbox shows that and what was sent, never who to
// contact. It keeps a week (TTL), the listing looks a week back.
import { z } from 'zod';
import { invalid, type Outcome, ok } from '../outcome.js';
import { type ChannelMessage, maskAddress } from './channels.js';
import { CampaignId, Channel } from './model.js';

export const OUTBOX_DAYS = 7;
const DAY_MS = 86_400_000;

export const OutboxEntry = z
  .object({
    sendId: z.string(),
    channel: Channel,
    campaignId: CampaignId,
    customerId: z.string(),
    /** Masked (maskAddress). */
    to: z.string(),
    at: z.iso.datetime(),
    /** The rendered message without its address: subject/html/text/headers, text, title/body, body. */
    // z.unknown, not z.json: the OpenAPI generator cannot walk a recursive schema.
    content: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'OutboxEntry' });
export type OutboxEntry = z.infer<typeof OutboxEntry>;

/** The entry recording `message` sent at `now`. */
export function outboxEntryOf(message: ChannelMessage, now: number): OutboxEntry {
  const { channel, sendId, campaignId, customerId, ...rest } = message;
  // The address (`to`, a webhook's `url`: its query may hold a token) is kept masked only.
  const content: Record<string, unknown> = { ...rest };
  delete content.to;
  delete content.url;
  return {
    sendId,
    channel,
    campaignId,
    customerId,
    to: maskAddress(message),
    at: new Date(now).toISOString(),
    content,
  };
}

/** Where a listing stopped: a day and the last entry's sort key. Opaque to clients (base64url JSON). */
const OutboxCursor = z.strictObject({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  sk: z.string().max(300),
});
export type OutboxCursor = z.infer<typeof OutboxCursor>;

export const encodeOutboxCursor = (c: OutboxCursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

export function decodeOutboxCursor(s: string): OutboxCursor | undefined {
  try {
    const parsed = OutboxCursor.safeParse(JSON.parse(Buffer.from(s, 'base64url').toString()));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface OutboxQuery {
  /** Days to read, newest first (YYYY-MM-DD, UTC). */
  readonly days: readonly string[];
  readonly channel?: Channel;
  readonly limit: number;
  readonly cursor?: OutboxCursor;
}

export interface OutboxPage {
  readonly items: OutboxEntry[];
  readonly nextCursor?: string;
}

export interface OutboxStore {
  /** Records an entry once per sendId; a second call returns the first entry. */
  record(entry: OutboxEntry): Promise<OutboxEntry>;
  list(query: OutboxQuery): Promise<OutboxPage>;
}

export const OutboxListQuery = z
  .object({
    channel: Channel.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .max(1000)
      .refine((c) => decodeOutboxCursor(c) !== undefined, { error: 'is not a cursor this API returned' })
      .optional(),
  })
  .meta({ id: 'OutboxListQuery' });
export type OutboxListQuery = z.infer<typeof OutboxListQuery>;

export const OutboxListResponse = z
  .object({ items: z.array(OutboxEntry), nextCursor: z.string().optional() })
  .meta({ id: 'OutboxListResponse' });

/** The outbox of the last OUTBOX_DAYS days (UTC), newest first. */
export async function listOutbox(
  q: OutboxListQuery,
  deps: { readonly outbox: Pick<OutboxStore, 'list'>; readonly now: () => number },
): Promise<Outcome<OutboxPage>> {
  const today = deps.now();
  const days = Array.from({ length: OUTBOX_DAYS }, (_, i) =>
    new Date(today - i * DAY_MS).toISOString().slice(0, 10),
  );
  const cursor = q.cursor === undefined ? undefined : decodeOutboxCursor(q.cursor);
  if (q.cursor !== undefined && !cursor) return invalid('cursor is not a cursor this API returned');
  return ok(await deps.outbox.list({ days, channel: q.channel, limit: q.limit, cursor }));
}
