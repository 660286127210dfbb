// The canonical event inside Precis: what the ingest edge enqueues, the consumer archives and later
// stages (profiles, segmentation) read. Validated again wherever it is read back from a queue or store.
import { z } from 'zod';
import { EventType } from './spec.js';

const Json = z.record(z.string(), z.unknown());
const Iso = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'must be an ISO-8601 date-time' });

/**
 * An identifier the edge found in traits or context (email, phone, device id, CRM id, mini-program open
 * id...), as the identity graph keys it: a keyed hash (HMAC), never the value, plus a masked form to show.
 */
export const EventIdentifier = z.object({
  type: z.string().min(1),
  hash: z.string().min(1),
  mask: z.string(),
});
export type EventIdentifier = z.infer<typeof EventIdentifier>;

export const NormalizedEvent = z.object({
  messageId: z.string().min(1),
  type: EventType,
  /** track: the event name after standardization to the e-commerce spec. */
  event: z.string().optional(),
  /** track: the name as sent, when standardization renamed it. */
  originalEvent: z.string().optional(),
  name: z.string().optional(),
  category: z.string().optional(),
  userId: z.string().optional(),
  anonymousId: z.string().optional(),
  groupId: z.string().optional(),
  previousId: z.string().optional(),
  properties: Json.optional(),
  traits: Json.optional(),
  context: Json.optional(),
  integrations: Json.optional(),
  /** When the event happened, corrected for the client's clock skew (see normalize.ts). */
  timestamp: Iso,
  /** The client's own timestamp, as sent. */
  originalTimestamp: Iso.optional(),
  sentAt: Iso.optional(),
  receivedAt: Iso,
  /** The source (write key owner) the event came from. */
  sourceId: z.string().min(1),
  /** Extra identifiers for identity resolution, hashed at the edge (lib/pii). */
  identifiers: z.array(EventIdentifier).optional(),
});
export type NormalizedEvent = z.infer<typeof NormalizedEvent>;
