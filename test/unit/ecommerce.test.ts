// E-commerce standardization: names and properties from Segment v1, other spellings and GA4 arrive
// under the Segment e-commerce spec v2; custom events pass through exactly as sent.
import { describe, expect, it } from 'vitest';
import { SPEC_EVENTS, specEventName, standardizeProperties } from '../../lib/ingest/ecommerce.js';
import { normalizeEvent } from '../../lib/ingest/normalize.js';
import { prepareEvent } from '../../lib/ingest/route.js';
import { SpecEvent } from '../../lib/ingest/spec.js';
import { defaultQuality, pathsAndCodes, requestContext } from './factories.js';

const track = (event: string, properties?: Record<string, unknown>) =>
  normalizeEvent(SpecEvent.parse({ type: 'track', event, userId: 'u1', properties }), requestContext());

describe('event names', () => {
  it.each([
    // Segment e-commerce v1
    ['Completed Order', 'Order Completed'],
    ['Viewed Product', 'Product Viewed'],
    ['Added Product', 'Product Added'],
    ['Viewed Product Category', 'Product List Viewed'],
    ['Started Checkout', 'Checkout Started'],
    // Other spellings of spec names
    ['order_completed', 'Order Completed'],
    ['orderCompleted', 'Order Completed'],
    ['ORDER COMPLETED', 'Order Completed'],
    ['Order-Completed', 'Order Completed'],
    ['product_added_to_wishlist', 'Product Added to Wishlist'],
    ['CheckoutStepViewed', 'Checkout Step Viewed'],
    // GA4 recommended events
    ['purchase', 'Order Completed'],
    ['add_to_cart', 'Product Added'],
    ['view_item', 'Product Viewed'],
    ['begin_checkout', 'Checkout Started'],
    ['refund', 'Order Refunded'],
    ['view_item_list', 'Product List Viewed'],
  ])('maps %s to %s and keeps the name as sent', (sent, spec) => {
    expect(specEventName(sent)).toBe(spec);
    const e = track(sent);
    expect(e.event).toBe(spec);
    expect(e.originalEvent).toBe(sent);
  });

  it('leaves every spec name as it is, without an originalEvent', () => {
    for (const name of SPEC_EVENTS) {
      const e = track(name);
      expect(e.event).toBe(name);
      expect('originalEvent' in e).toBe(false);
    }
  });

  it('leaves custom events untouched: name, and properties including camelCase and numeric strings', () => {
    const properties = {
      planId: 'pro',
      productId: 'p1',
      price: '12.50',
      items: [{ item_id: 'x' }],
      currency: 'eur',
    };
    expect(specEventName('Signed Up')).toBeUndefined();
    const e = track('Signed Up', structuredClone(properties));
    expect(e.event).toBe('Signed Up');
    expect('originalEvent' in e).toBe(false);
    expect(e.properties).toEqual(properties);
  });
});

describe('properties of spec events', () => {
  it('renames camelCase and GA4 property names to spec keys', () => {
    expect(
      standardizeProperties({
        productId: 'p1',
        imageUrl: 'https://x/p1.png',
        item_brand: 'Acme',
        cartId: 'c1',
      }),
    ).toEqual({ product_id: 'p1', image_url: 'https://x/p1.png', brand: 'Acme', cart_id: 'c1' });
  });

  it('reads a GA4 purchase into an Order Completed with products', () => {
    const e = track('purchase', {
      transaction_id: 'T-1001',
      value: '59.90',
      currency: 'usd',
      items: [
        { item_id: 'SKU_1', item_name: 'Mug', price: '19.95', quantity: '2' },
        { item_id: 42, item_name: 'Tee', price: 20, quantity: 1 },
      ],
    });
    expect(e.event).toBe('Order Completed');
    expect(e.properties).toEqual({
      order_id: 'T-1001',
      value: 59.9,
      currency: 'USD',
      products: [
        { product_id: 'SKU_1', name: 'Mug', price: 19.95, quantity: 2 },
        { product_id: '42', name: 'Tee', price: 20, quantity: 1 },
      ],
    });
  });

  it('converts numeric strings only for numeric spec properties', () => {
    expect(
      standardizeProperties({
        price: ' 12.50 ',
        quantity: '3',
        revenue: '1e3',
        discount: '.5',
        name: '123',
        sku: 'A1',
      }),
    ).toEqual({ price: 12.5, quantity: 3, revenue: 1000, discount: 0.5, name: '123', sku: 'A1' });
  });

  it('keeps strings that are not plain numbers, so that the quality rules can name them', () => {
    const props = { price: '12,50', quantity: 'three', revenue: '', total: '$5', rating: '1e999' };
    expect(standardizeProperties(props)).toEqual(props);
  });

  it('writes numeric ids as strings', () => {
    expect(standardizeProperties({ product_id: 7, order_id: 1001, sku: 3 })).toEqual({
      product_id: '7',
      order_id: '1001',
      sku: '3',
    });
  });

  it('upper-cases and trims the currency', () => {
    expect(standardizeProperties({ currency: ' eur ' })).toEqual({ currency: 'EUR' });
  });

  it('lets an explicit spec key win over an alias sent alongside, keeping the alias as it was', () => {
    expect(standardizeProperties({ productId: 'alias', product_id: 'spec' })).toEqual({
      product_id: 'spec',
      productId: 'alias',
    });
    expect(standardizeProperties({ items: [{ item_id: 'a' }], products: [{ product_id: 'b' }] })).toEqual({
      items: [{ item_id: 'a' }],
      products: [{ product_id: 'b' }],
    });
  });

  it('leaves non-object products and unknown keys alone', () => {
    expect(standardizeProperties({ products: ['p1', null, 3], gift_wrap: true })).toEqual({
      products: ['p1', null, 3],
      gift_wrap: true,
    });
  });

  it('turns a numeric string that is a negative amount into a number the quality rules reject', () => {
    const result = prepareEvent(
      {
        type: 'track',
        event: 'Completed Order',
        userId: 'u1',
        properties: { revenue: '-5.00', total: '1e999' },
      },
      requestContext(),
      defaultQuality(),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      const issues = pathsAndCodes(result.issues);
      expect(issues).toHaveLength(2);
      expect(issues).toEqual(
        expect.arrayContaining([
          ['properties.revenue', 'negative_amount'],
          ['properties.total', 'not_a_number'],
        ]),
      );
    }
  });
});
