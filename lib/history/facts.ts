// The facts of one archived event that history SQL aggregates: who it counts for, when, what kind of
// event it is, its session, channel, stated dwell, order id and amount, categories, CRM ids. They are
// derived once, when a day is compacted into the columnar archive, by the same functions the live
// reducer uses (lib/profiles), so the SQL only sums, counts and orders typed columns: no JSON parsing,
// no second copy of the rules in SQL, and a columnar scan that reads a few narrow columns.
import { type ArchiveRecord, fromArchiveRecord } from '../archive/record.js';
import { attributionNode } from '../identity/nodes.js';
import type { NormalizedEvent } from '../ingest/normalized.js';
import { CRM_TRAITS } from '../pii/identifiers.js';
import { channelOf } from '../profiles/channel.js';
import { AFFINITY_KINDS, type TrackKind, trackKind } from '../profiles/kinds.js';
import { keyOf, tieKey } from '../profiles/maps.js';
import { ID_MAX_CHARS, KEY_MAX_CHARS } from '../profiles/partial.js';
import {
  affinityCategories,
  affinityProducts,
  orderMilli,
  statedDwell,
  storable,
} from '../profiles/reduce.js';

export interface EventFacts {
  /** The attribution node (`user:…`, `anon:…`); null when the event has neither id (it counts for no one). */
  readonly node: string | null;
  /** The event time, epoch ms. */
  readonly ts_ms: number;
  /** What the event means to a profile: a track kind, or `pageView`/`screenView` for page and screen calls. */
  readonly kind: TrackKind | null;
  /** `context.sessionId` of a behavior event (track, page, screen), as the reducer keys it. */
  readonly session_id: string | null;
  readonly channel: string;
  /** The dwell a view stated, seconds. */
  readonly dwell: number | null;
  /** Orders, refunds and cancellations: the order id. */
  readonly order_id: string | null;
  /** Orders: revenue, else total, else the products; refunds: total, else revenue, else the products. */
  readonly amount_milli: number | null;
  /** Affinity events (views, clicks, adds, orders): their categories. */
  readonly categories: readonly string[] | null;
  /** Affinity events: their product ids (recommendations, models/recommend.ts). */
  readonly products: readonly string[] | null;
  /**
   * Identify traits and `context.traits`: the CRM ids carried, each `<trait name> <tieKey of the value>`
   * (the value, typed, in the order the reducer breaks ties in). A flat string list, because the engines
   * unnest lists of structs differently.
   */
  readonly crm_traits: readonly string[] | null;
}

const BEHAVIOR: ReadonlySet<string> = new Set(['track', 'page', 'screen']);

function kindOf(e: NormalizedEvent): TrackKind | null {
  if (e.type === 'track') return trackKind(e.event) ?? null;
  if (e.type === 'page') return 'pageView';
  if (e.type === 'screen') return 'screenView';
  return null;
}

function crmTraits(e: NormalizedEvent): string[] | null {
  const out: string[] = [];
  const sources = [e.context?.traits, e.type === 'identify' ? e.traits : undefined];
  for (const traits of sources) {
    if (traits === null || typeof traits !== 'object' || Array.isArray(traits)) continue;
    for (const [key, value] of Object.entries(traits)) {
      const name = keyOf(key, KEY_MAX_CHARS);
      if (name === undefined || !(CRM_TRAITS as readonly string[]).includes(name)) continue;
      if (value !== undefined && storable(value)) out.push(`${name} ${tieKey(value)}`);
    }
  }
  return out.length > 0 ? out : null;
}

export function factsOf(e: NormalizedEvent): EventFacts {
  const kind = kindOf(e);
  const props = e.properties;
  const orderish = kind === 'order' || kind === 'refund' || kind === 'cancellation';
  const amount =
    kind === 'order'
      ? orderMilli(props ?? {}, 'revenue', 'total')
      : kind === 'refund'
        ? orderMilli(props ?? {}, 'total', 'revenue')
        : null;
  const view = kind === 'pageView' || kind === 'screenView';
  return {
    node: attributionNode(e) ?? null,
    ts_ms: Date.parse(e.timestamp),
    kind,
    session_id: BEHAVIOR.has(e.type) ? (keyOf(e.context?.sessionId, ID_MAX_CHARS) ?? null) : null,
    channel: channelOf(e),
    dwell: view ? (statedDwell(props) ?? null) : null,
    order_id: orderish ? (keyOf(props?.order_id, ID_MAX_CHARS) ?? null) : null,
    amount_milli: amount,
    categories: kind !== null && AFFINITY_KINDS.has(kind) ? affinityCategories(props) : null,
    products: kind !== null && AFFINITY_KINDS.has(kind) ? affinityProducts(props) : null,
    crm_traits: crmTraits(e),
  };
}

/** One row of the columnar archive: the raw archive row as stored, its facts, and its partition. */
export type FactRow = ArchiveRecord & EventFacts & { readonly dt: string };

export function factRowOf(record: ArchiveRecord, dt: string): FactRow {
  return { ...record, ...factsOf(fromArchiveRecord(record)), dt };
}
