// The partial profile: everything Precis knows about the behavior of one attribution node (`user:<id>` or
// `anon:<id>`), folded from the archive. One stored item per node; a customer is the merge of its nodes'
// partials (merge.ts), so identity merges and unmerges never rewrite counters.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { NodeKey } from '../identity/nodes.js';
import { dict } from './maps.js';
import { TimelineEvent } from './timeline.js';

/** Ledger entries older than this, relative to the newest entry, are dropped. */
export const LEDGER_DAYS = 14;
/** At most this many ledger entries are kept (the newest). */
export const LEDGER_MAX = 2_000;
/** Distinct track event names counted by name; the rest are counted under OTHER. */
export const EVENT_NAMES_MAX = 200;
/** Categories and brands kept per affinity map (the heaviest). */
export const AFFINITY_MAX = 200;
export const SOURCES_MAX = 50;
export const DEVICES_MAX = 20;
/** Session ids remembered to recognize a session seen in an earlier object. */
export const RECENT_SESSIONS_MAX = 20;
/** Inactivity after which an event without a session id starts a new session. */
export const SESSION_GAP_MS = 30 * 60 * 1000;
/** Products in the cart, tombstones of removed lines included (the most recently changed). */
export const CART_MAX = 100;
export const ORDER_IDS_MAX = 300;
export const REFUND_IDS_MAX = 100;
export const CANCELLED_IDS_MAX = 100;
/** Ten years of distinct order days. */
export const ORDER_DAYS_MAX = 3_660;
export const TRAITS_MAX = 64;
/**
 * A trait whose JSON is longer than this is not kept. With every cap full and every key at its longest,
 * an item is about 360 KB of JSON, under DynamoDB's 400 KB limit; typical items are 2-20 KB.
 */
export const TRAIT_MAX_CHARS = 1_024;
/** Objects and arrays nested deeper than this in a trait value are not kept (DynamoDB allows 32 levels). */
export const TRAIT_MAX_DEPTH = 8;
export const IDENTIFIERS_MAX = 50;
/** Map keys taken from events (event names, categories, brands, devices...) are cut to this length. */
export const KEY_MAX_CHARS = 100;
/** Ids (products, orders, sessions) are cut to this length. */
export const ID_MAX_CHARS = 100;
/** The bucket of counted maps past their cap. */
export const OTHER = '(other)';

export const AFFINITY_WEIGHTS = { view: 1, click: 1, add: 3, purchase: 5 } as const;

export const CHANNELS = ['web', 'app', 'mini-program', 'store', 'social', 'server', 'other'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Canonical UTC ISO-8601 (`toISOString()`), so that string order is time order. */
const Iso = z.iso.datetime();
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const Count = z.number().int().nonnegative();
/** Amounts are kept rounded to thousandths, so sums are exact in any order (see reduce.ts `addMoney`). */
const Amount = z.number().nonnegative();
const EpochMs = z.number().int();
/**
 * A map keyed by client data, read back as a dict (maps.ts): z.record would drop a `__proto__` key and
 * return a plain object, where `constructor` and friends read as inherited members.
 */
const Keyed = <T extends z.ZodType>(value: T) =>
  z
    .custom<Record<string, unknown>>(
      (input) => input !== null && typeof input === 'object' && !Array.isArray(input),
      'must be an object',
    )
    .transform((input, ctx) => {
      const out = dict<z.output<T>>();
      for (const key of Object.keys(input)) {
        const parsed = value.safeParse(input[key]);
        if (parsed.success) out[key] = parsed.data;
        else
          for (const issue of parsed.error.issues)
            ctx.addIssue({ code: 'custom', message: issue.message, path: [key, ...issue.path] });
      }
      return out;
    });
const Counts = Keyed(Count);

/** A value with the event time it was seen at: the latest time wins, whatever the arrival order. */
const Latest = <T extends z.ZodType>(value: T) => z.object({ v: value, at: Iso });

export const CallCounts = z.object({
  track: Count,
  page: Count,
  screen: Count,
  identify: Count,
  group: Count,
  alias: Count,
});
export type CallCounts = z.infer<typeof CallCounts>;

export const ChannelCounts = z.object({
  web: Count,
  app: Count,
  'mini-program': Count,
  store: Count,
  social: Count,
  server: Count,
  other: Count,
});
export type ChannelCounts = z.infer<typeof ChannelCounts>;

/** A session: `start` and `last` are the earliest and latest event times seen in it (epoch ms). */
export const SessionSpan = z.object({ start: EpochMs, last: EpochMs });
export type SessionSpan = z.infer<typeof SessionSpan>;

/**
 * A cart line. `quantity` 0 is a tombstone: the line was removed at `at`, so an add timestamped before
 * that, arriving late, is ignored. `price` is the unit price of the latest add that had one.
 */
export const CartLine = z.object({ quantity: z.number().nonnegative(), price: Amount.optional(), at: Iso });
export type CartLine = z.infer<typeof CartLine>;

export const OrderRef = z.object({ at: Iso, revenue: Amount });
export type OrderRef = z.infer<typeof OrderRef>;

export const RefundRef = z.object({ at: Iso, amount: Amount });
export type RefundRef = z.infer<typeof RefundRef>;

export const Region = z.object({
  country: z.string().optional(),
  region: z.string().optional(),
  city: z.string().optional(),
  at: Iso,
});
export type Region = z.infer<typeof Region>;

/** Trait values are stored as sent, opaque `enc:v1:` tokens included; the API layer decrypts or masks. */
export const TraitValue = z.object({ v: z.unknown(), at: Iso });
export type TraitValue = z.infer<typeof TraitValue>;

/** An identifier of the node, as the edge hashed it (lib/pii): never the clear value. */
export const SeenIdentifier = z.object({ type: z.string(), hash: z.string(), mask: z.string(), at: Iso });
export type SeenIdentifier = z.infer<typeof SeenIdentifier>;

export const LastView = z.object({
  at: EpochMs,
  session: z.string(),
  /** The view stated its own dwell, so the time to the next view is not added again. */
  timed: z.boolean(),
});
export type LastView = z.infer<typeof LastView>;

export const PartialProfile = z.object({
  /** The attribution node the item belongs to (`user:<userId>` or `anon:<anonymousId>`). */
  node: z.string().min(1),
  /** Optimistic lock: incremented by every write; a write is conditional on the version it read. */
  version: Count,
  /** When the last write was computed (the consumer's clock). */
  updatedAt: Iso.optional(),
  /**
   * Idempotency ledger: `ledgerKey(objectKey)` -> the archive object's time (epoch ms), for every object
   * already applied. Entries older than LEDGER_DAYS before the newest one are pruned and at most LEDGER_MAX
   * are kept, so an object redelivered later than that (the queue keeps messages 4 days, the DLQ 14)
   * would be counted twice.
   */
  applied: Keyed(EpochMs),

  /** Earliest event time applied. */
  firstSeen: Iso.optional(),
  /** Latest event time applied. */
  lastSeen: Iso.optional(),
  /** Events by call type. */
  counts: CallCounts,
  /** Track events by (standardized) name; past EVENT_NAMES_MAX names, the lightest go to `(other)`. */
  eventCounts: Counts,

  /** Sessions: distinct `context.sessionId`s, plus sessions inferred from 30 min of inactivity. */
  sessions: Count,
  /** The RECENT_SESSIONS_MAX latest sessions by id (inferred ones are `~<start in base 36>`). */
  recentSessions: Keyed(SessionSpan),
  /** Page and screen views: page/screen calls and `Page Viewed` / `Screen Viewed` tracks. */
  pageViews: Count,
  screenViews: Count,
  /** Seconds spent on views: stated (`dwell_time`, `duration`, `time_on_page`) or the time to the next view. */
  dwellSeconds: Amount,
  /** How many view durations `dwellSeconds` sums. */
  dwellSamples: Count,
  /** The latest view, to measure the time to the next one in the same session. */
  lastView: LastView.optional(),

  /** `Product Viewed` events. */
  productViews: Count,
  /** `Product Clicked` events. */
  productClicks: Count,
  /** `Product Added` (and `Wishlist Product Added to Cart`) events. */
  cartAdds: Count,
  /** `Product Removed` events. */
  cartRemoves: Count,
  /** `Product Shared` and `Cart Shared` events. */
  shares: Count,
  /** `Checkout Started` events. */
  checkouts: Count,
  /** Current cart: product_id -> line. Lines changed at or before the latest order are cleared. */
  cart: Keyed(CartLine),
  /** Time of the latest `Order Completed`: cart events timestamped at or before it no longer count. */
  cartClearedAt: Iso.optional(),
  /** Latest time of a cart add, remove, view or checkout start. */
  lastCartActivity: Iso.optional(),

  /** `Order Completed` events, each order_id counted once. */
  orders: Count,
  /** The ORDER_IDS_MAX latest order ids -> time and revenue: dedup of orders re-sent under a new messageId. */
  orderIds: Keyed(OrderRef),
  /** Distinct UTC days (YYYY-MM-DD) with an order, ascending, the latest ORDER_DAYS_MAX. */
  orderDays: z.array(Day),
  /** Sum of order `revenue`, else `total`, else the products' price × quantity. */
  revenue: Amount,
  /** Sum of `Order Refunded` `total`, else `revenue`, else the products' price × quantity. */
  refunds: Amount,
  /** `Order Refunded` events, each (order_id, amount) counted once. */
  refundCount: Count,
  /** The REFUND_IDS_MAX latest `<order_id> <amount in thousandths>` -> refund: dedup, and matching to orders. */
  refundIds: Keyed(RefundRef),
  /** `Order Cancelled` events. */
  cancellations: Count,
  /**
   * The CANCELLED_IDS_MAX latest cancelled order ids -> the earliest cancellation: segmentation takes a
   * cancelled order out of frequency and monetary value. (Defaulted: items written before it existed.)
   */
  cancelledIds: Keyed(z.object({ at: Iso })).default(dict),
  firstOrderAt: Iso.optional(),
  lastOrderAt: Iso.optional(),
  /** Currency of the latest event that named one. */
  currency: Latest(z.string()).optional(),

  /** Category -> weight (view 1, click 1, add 3, purchase 5), the AFFINITY_MAX heaviest. */
  categoryAffinity: Counts,
  /** Brand -> weight, as categoryAffinity. */
  brandAffinity: Counts,

  /** Behavior events (track, page, screen) by hour of day 0-23, in the customer's time zone. */
  hours: z.array(Count).length(24),
  /** Behavior events by weekday, Monday = 0, in the customer's time zone. */
  weekdays: z.array(Count).length(7),
  /** The latest valid IANA `context.timezone`. */
  timezone: Latest(z.string()).optional(),

  /** Events by channel (context.channel, else the SDK, else the source). */
  channels: ChannelCounts,
  /** Events by sourceId, the SOURCES_MAX largest. */
  sources: Counts,
  /** Events by device type (`context.device.type`, else `context.os.name`), lower case, capped. */
  devices: Counts,
  /** Latest location from `context.location` or the clear parts of `traits.address`. */
  region: Region.optional(),

  /** Latest value of each trait (identify `traits`, `context.traits` of any call), the TRAITS_MAX latest. */
  traits: Keyed(TraitValue),
  /** Identifiers seen on the node's events, keyed `<type>:<hash>`, the IDENTIFIERS_MAX latest. */
  identifiers: Keyed(SeenIdentifier),
  /** The RECENT_EVENTS_MAX latest events by time, newest first (the customer's timeline). */
  recentEvents: z.array(TimelineEvent).default([]),
});
export type PartialProfile = z.infer<typeof PartialProfile>;

export const emptyCallCounts = (): CallCounts => ({
  track: 0,
  page: 0,
  screen: 0,
  identify: 0,
  group: 0,
  alias: 0,
});

export const emptyChannelCounts = (): ChannelCounts => ({
  web: 0,
  app: 0,
  'mini-program': 0,
  store: 0,
  social: 0,
  server: 0,
  other: 0,
});

export function emptyPartial(node: NodeKey): PartialProfile {
  return {
    node,
    version: 0,
    applied: dict(),
    counts: emptyCallCounts(),
    eventCounts: dict(),
    sessions: 0,
    recentSessions: dict(),
    pageViews: 0,
    screenViews: 0,
    dwellSeconds: 0,
    dwellSamples: 0,
    productViews: 0,
    productClicks: 0,
    cartAdds: 0,
    cartRemoves: 0,
    shares: 0,
    checkouts: 0,
    cart: dict(),
    orders: 0,
    orderIds: dict(),
    orderDays: [],
    revenue: 0,
    refunds: 0,
    refundCount: 0,
    refundIds: dict(),
    cancellations: 0,
    cancelledIds: dict(),
    categoryAffinity: dict(),
    brandAffinity: dict(),
    hours: new Array<number>(24).fill(0),
    weekdays: new Array<number>(7).fill(0),
    channels: emptyChannelCounts(),
    sources: dict(),
    devices: dict(),
    traits: dict(),
    identifiers: dict(),
    recentEvents: [],
  };
}

/** The ledger key of an archive object: 16 base64url characters (96 bits) of its key's SHA-256. */
export function ledgerKey(objectKey: string): string {
  return createHash('sha256').update(objectKey).digest('base64url').slice(0, 16);
}
