// What a track event means to a profile, by its (standardized) name: one table for the live reducer
// (reduce.ts) and for the columnar archive's facts (lib/history/facts.ts), so the SQL features count
// exactly the events the reducer counts.

export type TrackKind =
  | 'productView'
  | 'productClick'
  | 'cartAdd'
  | 'cartRemove'
  | 'cartView'
  | 'checkout'
  | 'share'
  | 'order'
  | 'refund'
  | 'cancellation'
  | 'pageView'
  | 'screenView';

const KINDS: ReadonlyMap<string, TrackKind> = new Map<string, TrackKind>([
  ['Product Viewed', 'productView'],
  ['Product Clicked', 'productClick'],
  ['Product Added', 'cartAdd'],
  ['Wishlist Product Added to Cart', 'cartAdd'],
  ['Product Removed', 'cartRemove'],
  ['Cart Viewed', 'cartView'],
  ['Checkout Started', 'checkout'],
  ['Product Shared', 'share'],
  ['Cart Shared', 'share'],
  ['Order Completed', 'order'],
  ['Order Refunded', 'refund'],
  ['Order Cancelled', 'cancellation'],
  // Not e-commerce spec names, but what many trackers send for views as track calls.
  ['Page Viewed', 'pageView'],
  ['page_view', 'pageView'],
  ['Screen Viewed', 'screenView'],
  ['screen_view', 'screenView'],
]);

export const trackKind = (event: string | undefined): TrackKind | undefined =>
  event === undefined ? undefined : KINDS.get(event);

/** Kinds whose category and brand add to the affinities. */
export const AFFINITY_KINDS: ReadonlySet<TrackKind> = new Set([
  'productView',
  'productClick',
  'cartAdd',
  'order',
]);
