// Features of a customer from its aggregates, built with the profiles' reducer from hand-written events:
// every expected figure is worked out by hand from the events.
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { mergePartials } from '../../lib/profiles/merge.js';
import { emptyPartial } from '../../lib/profiles/partial.js';
import { applyObject } from '../../lib/profiles/reduce.js';
import { featuresOf } from '../../lib/segmentation/features.js';
import { normalizedEvent } from './factories.js';

const DAY = 86_400_000;
const AS_OF = Date.parse('2026-03-31T00:00:00.000Z');
const at = (day: number) => new Date(Date.parse('2026-03-01T10:00:00.000Z') + day * DAY).toISOString();

let seq = 0;
function track(
  event: string,
  day: number,
  properties: Record<string, unknown>,
  userId = 'u1',
): NormalizedEvent {
  seq += 1;
  return normalizedEvent({
    messageId: `m${seq}`,
    type: 'track',
    event,
    userId,
    timestamp: at(day),
    properties,
  });
}

function featuresFrom(events: NormalizedEvent[], nodes = ['user:u1']) {
  const partials = nodes.map(
    (node, i) => applyObject(emptyPartial(node), events, `raw/dt=2026-03-31/o${i}.ndjson.gz`, AS_OF).partial,
  );
  return featuresOf('cus_1', mergePartials(partials), AS_OF).values;
}

describe('RFM features', () => {
  it('counts paid orders only, nets refunds, and takes cancelled orders out of F, M and R', () => {
    const values = featuresFrom([
      track('Order Completed', 0, { order_id: 'o1', revenue: 100 }),
      track('Order Completed', 5, { order_id: 'o2', revenue: 0 }), // a free replacement
      track('Order Completed', 10, { order_id: 'o3', revenue: 50 }),
      track('Order Refunded', 11, { order_id: 'o1', total: 30 }),
      track('Order Completed', 20, { order_id: 'o4', revenue: 80 }),
      track('Order Refunded', 21, { order_id: 'o4', total: 20 }),
      track('Order Cancelled', 22, { order_id: 'o4' }),
      track('Order Cancelled', 23, { order_id: 'o4' }), // re-sent
    ]);
    // Paid and not cancelled: o1, o3. Monetary: 100 + 0 + 50 + 80 - 30 - 20 - (80 - 20) = 120, i.e. what
    // is left of o1 (70) and o3 (50).
    expect(values.frequency).toBe(2);
    expect(values.monetary).toBe(120);
    // The last paid order standing is o3, on day 10 (2026-03-11 10:00): 19 whole days before the 31st.
    expect(values.recencyDays).toBe(19);
    expect(values.averageOrderValue).toBe(60);
  });

  it('never lets monetary value go below zero', () => {
    const values = featuresFrom([
      track('Order Completed', 0, { order_id: 'o1', revenue: 10 }),
      track('Order Refunded', 1, { order_id: 'older', total: 50 }),
    ]);
    expect(values.monetary).toBe(0);
    expect(values.frequency).toBe(1);
  });

  it('counts one order once when two merged identities both carry it', () => {
    const order = track('Order Completed', 3, { order_id: 'o9', revenue: 42 });
    const values = featuresFrom(
      [order, { ...order, userId: 'u2', messageId: 'copy' }],
      ['user:u1', 'user:u2'],
    );
    expect(values.frequency).toBe(1);
    expect(values.monetary).toBe(42);
  });

  it('makes a customer without a paid order a prospect with behavior only', () => {
    const f = featuresOf(
      'cus_2',
      mergePartials([
        applyObject(
          emptyPartial('user:u1'),
          [
            track('Product Viewed', 25, { product_id: 'p1', category: 'shoes' }),
            track('Product Added', 26, { product_id: 'p1' }),
          ],
          'raw/dt=2026-03-31/o.ndjson.gz',
          AS_OF,
        ).partial,
      ]),
      AS_OF,
    );
    expect(f.buyer).toBe(false);
    expect(f.values).toMatchObject({
      frequency: 0,
      recencyDays: 0,
      productViews: 1,
      cartAdds: 1,
      categoryBreadth: 1,
    });
    expect(f.values.abandonmentRate).toBe(1);
    expect(f.values.visitRecencyDays).toBe(3);
  });
});
