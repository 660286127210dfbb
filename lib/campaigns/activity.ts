// What the campaign engine receives per archived event, after identity resolution: the customer, the
// event's identity and times, and the few standardized properties triggers, waits and templates use.
// Small on purpose: it travels on a queue and into the waits table, and carries no personal data
// (traits and context stay in the archive and the profile).
import { z } from 'zod';
import type { NormalizedEvent } from '../ingest/normalized.js';
import { EventType } from '../ingest/spec.js';

const Id = z.string().min(1).max(1024);

/**
 * An instant as ISO-8601 UTC with milliseconds (toISOString), whatever offset it was written with: strings
 * of one length compare in time order, in memory and in DynamoDB conditions alike.
 */
export const Instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

/** The e-commerce spec's properties the engine reads (lib/ingest/ecommerce.ts standardizes them). */
export const ActivityProperties = z.object({
  cart_id: Id.optional(),
  product_id: Id.optional(),
  order_id: Id.optional(),
  /** `revenue`, else `total`. */
  revenue: z.number().optional(),
  currency: z.string().max(16).optional(),
  category: z.string().max(1024).optional(),
});
export type ActivityProperties = z.infer<typeof ActivityProperties>;

/** The property names a trigger's `where` can test: any other key never matches. */
export const ACTIVITY_PROPERTY_KEYS = Object.keys(ActivityProperties.shape) as (keyof ActivityProperties)[];

export const Activity = z.object({
  v: z.literal(1),
  customerId: Id,
  messageId: Id,
  type: EventType,
  /** track: the standardized event name. */
  event: z.string().min(1).optional(),
  /** When the event happened (UTC, clock-skew corrected): what waits and the staleness guard count from. */
  timestamp: Instant,
  receivedAt: Instant,
  properties: ActivityProperties,
});
export type Activity = z.infer<typeof Activity>;

const utc = (iso: string): string => new Date(Date.parse(iso)).toISOString();
const text = (v: unknown, max: number): string | undefined =>
  typeof v === 'string' && v !== '' && v.length <= max ? v : undefined;
const finite = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/** The activity of an archived event attributed to `customerId`. */
export function activityOf(customerId: string, e: NormalizedEvent): Activity {
  const p = e.properties ?? {};
  const properties: ActivityProperties = {};
  for (const key of ['cart_id', 'product_id', 'order_id'] as const) {
    const id = text(p[key], 1024);
    if (id !== undefined) properties[key] = id;
  }
  const revenue = finite(p.revenue) ?? finite(p.total);
  if (revenue !== undefined) properties.revenue = revenue;
  const currency = text(p.currency, 16);
  if (currency !== undefined) properties.currency = currency;
  const category = text(p.category, 1024);
  if (category !== undefined) properties.category = category;
  const activity: Activity = {
    v: 1,
    customerId,
    messageId: e.messageId,
    type: e.type,
    timestamp: utc(e.timestamp),
    receivedAt: utc(e.receivedAt),
    properties,
  };
  if (e.type === 'track' && e.event !== undefined && e.event !== '') activity.event = e.event;
  return activity;
}
