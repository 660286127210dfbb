// Standardizes track events to the Segment e-commerce spec (v2): event names from older Segment
// versions, snake/camel case and GA4 are mapped to the spec name; spec properties get spec keys,
// numbers and currency codes. Custom events pass through with their names and properties untouched.

/** Every event name of the Segment e-commerce spec v2, plus sharing and reviewing. */
export const SPEC_EVENTS = [
  'Products Searched',
  'Product List Viewed',
  'Product List Filtered',
  'Promotion Viewed',
  'Promotion Clicked',
  'Product Clicked',
  'Product Viewed',
  'Product Added',
  'Product Removed',
  'Cart Viewed',
  'Checkout Started',
  'Checkout Step Viewed',
  'Checkout Step Completed',
  'Payment Info Entered',
  'Order Updated',
  'Order Completed',
  'Order Refunded',
  'Order Cancelled',
  'Coupon Entered',
  'Coupon Applied',
  'Coupon Denied',
  'Coupon Removed',
  'Product Added to Wishlist',
  'Product Removed from Wishlist',
  'Wishlist Product Added to Cart',
  'Product Shared',
  'Cart Shared',
  'Product Reviewed',
] as const;
export type SpecEventName = (typeof SPEC_EVENTS)[number];

/** Names seen in the wild for spec events: Segment e-commerce v1 and GA4 recommended events. */
const ALIASES: Record<string, SpecEventName> = {
  // Segment e-commerce spec v1
  'Viewed Product': 'Product Viewed',
  'Clicked Product': 'Product Clicked',
  'Added Product': 'Product Added',
  'Removed Product': 'Product Removed',
  'Viewed Cart': 'Cart Viewed',
  'Started Checkout': 'Checkout Started',
  'Viewed Checkout Step': 'Checkout Step Viewed',
  'Completed Checkout Step': 'Checkout Step Completed',
  'Entered Payment Info': 'Payment Info Entered',
  'Updated Order': 'Order Updated',
  'Completed Order': 'Order Completed',
  'Refunded Order': 'Order Refunded',
  'Cancelled Order': 'Order Cancelled',
  'Viewed Product Category': 'Product List Viewed',
  'Viewed Product List': 'Product List Viewed',
  'Filtered Product List': 'Product List Filtered',
  'Searched Products': 'Products Searched',
  'Viewed Promotion': 'Promotion Viewed',
  'Clicked Promotion': 'Promotion Clicked',
  'Added Product to Wishlist': 'Product Added to Wishlist',
  'Removed Product from Wishlist': 'Product Removed from Wishlist',
  'Shared Product': 'Product Shared',
  'Shared Cart': 'Cart Shared',
  'Reviewed Product': 'Product Reviewed',
  // GA4 recommended e-commerce events
  view_item: 'Product Viewed',
  select_item: 'Product Clicked',
  add_to_cart: 'Product Added',
  remove_from_cart: 'Product Removed',
  view_cart: 'Cart Viewed',
  begin_checkout: 'Checkout Started',
  add_payment_info: 'Payment Info Entered',
  purchase: 'Order Completed',
  refund: 'Order Refunded',
  view_item_list: 'Product List Viewed',
  search: 'Products Searched',
  view_promotion: 'Promotion Viewed',
  select_promotion: 'Promotion Clicked',
  add_to_wishlist: 'Product Added to Wishlist',
};

/** Letters and digits only, lower case: `Product_Viewed`, `productViewed` and `PRODUCT VIEWED` agree. */
const nameKey = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

const EVENT_BY_KEY: ReadonlyMap<string, SpecEventName> = new Map([
  ...Object.entries(ALIASES).map(([alias, spec]) => [nameKey(alias), spec] as const),
  ...SPEC_EVENTS.map((spec) => [nameKey(spec), spec] as const),
]);

const SPEC = new Set<string>(SPEC_EVENTS);

/** Whether a (standardized) event name is one of the spec's. */
export const isSpecEventName = (name: string): boolean => SPEC.has(name);

/** The spec name for an event name, or undefined for a custom event. */
export function specEventName(name: string): SpecEventName | undefined {
  return EVENT_BY_KEY.get(nameKey(name));
}

/** Spec property names under their usual other spellings (camelCase, GA4). */
const PROPERTY_ALIASES: Record<string, string> = {
  productId: 'product_id',
  item_id: 'product_id',
  item_name: 'name',
  item_brand: 'brand',
  item_category: 'category',
  item_variant: 'variant',
  imageUrl: 'image_url',
  orderId: 'order_id',
  transaction_id: 'order_id',
  checkoutId: 'checkout_id',
  cartId: 'cart_id',
  listId: 'list_id',
  couponId: 'coupon_id',
  promotionId: 'promotion_id',
  creativeId: 'creative',
  shareVia: 'share_via',
  shareMessage: 'share_message',
  reviewId: 'review_id',
  reviewBody: 'review_body',
  items: 'products',
};

/** Spec properties that hold numbers; numeric strings ("12.50") are converted, other strings are kept
 * so that the quality rules can name them. */
export const NUMERIC_PROPERTIES = [
  'price',
  'quantity',
  'revenue',
  'total',
  'subtotal',
  'value',
  'tax',
  'shipping',
  'discount',
  'position',
  'step',
  'rating',
] as const;
const NUMERIC = new Set<string>(NUMERIC_PROPERTIES);
const NUMERIC_STRING = /^\s*-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i;
const ID_PROPERTIES = new Set(['product_id', 'order_id', 'checkout_id', 'cart_id', 'sku']);

type Properties = Record<string, unknown>;

/**
 * Spec keys, numbers and currency codes for the properties of a spec event (and its products). Copy on
 * write: properties that are already standard (the common case) are returned as they are, unallocated.
 */
export function standardizeProperties(properties: Properties): Properties {
  let out: Properties | undefined;
  const keys = Object.keys(properties);
  for (let i = 0; i < keys.length; i++) {
    const rawKey = keys[i] as string;
    const value = properties[rawKey];
    const alias = PROPERTY_ALIASES[rawKey];
    // An explicit spec key wins over an alias of it sent alongside.
    const key = alias !== undefined && !Object.hasOwn(properties, alias) ? alias : rawKey;
    const standard = standardizeValue(key, value);
    if (out === undefined && (key !== rawKey || standard !== value)) {
      out = {};
      for (let j = 0; j < i; j++) out[keys[j] as string] = properties[keys[j] as string];
    }
    if (out !== undefined) out[key] = standard;
  }
  return out ?? properties;
}

function standardizeValue(key: string, value: unknown): unknown {
  if (NUMERIC.has(key) && typeof value === 'string' && NUMERIC_STRING.test(value)) {
    const n = Number(value);
    // "1e999" would become Infinity, which JSON writes as null: keep the string for the rules to name.
    return Number.isFinite(n) ? n : value;
  }
  if (ID_PROPERTIES.has(key) && typeof value === 'number') return String(value);
  if (key === 'currency' && typeof value === 'string') {
    const code = value.trim().toUpperCase();
    return code === value ? value : code;
  }
  if (key === 'products' && Array.isArray(value)) {
    let changed = false;
    const products = value.map((p) => {
      if (p === null || typeof p !== 'object' || Array.isArray(p)) return p;
      const standard = standardizeProperties(p as Properties);
      changed ||= standard !== p;
      return standard;
    });
    return changed ? products : value;
  }
  return value;
}
