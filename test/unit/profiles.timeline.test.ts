// Timeline entries: stored with their properties as (possibly cut) JSON text, shown by the API as an
// object when whole and as a marked preview when cut.
import { describe, expect, it } from 'vitest';
import { toCustomerEvent, toTimelineEvent } from '../../lib/profiles/timeline.js';
import { makeEvent } from '../support/archiveFixtures.js';

describe('customer timeline events', () => {
  it('gives small properties back as the object that was sent', () => {
    const properties = { order_id: 'o-1', revenue: 120, products: [{ product_id: 'p1', price: 60 }] };
    const shown = toCustomerEvent(toTimelineEvent(makeEvent('web', { properties })));
    expect(shown.properties).toEqual(properties);
    expect(shown.propertiesPreview).toBeUndefined();
    expect(shown.propertiesTruncated).toBeUndefined();
  });

  it('cuts large properties to a 1,024-character preview, marked as cut', () => {
    const properties = { description: 'x'.repeat(5000) };
    const stored = toTimelineEvent(makeEvent('web', { properties }));
    const shown = toCustomerEvent(stored);
    expect(shown.properties).toBeUndefined();
    expect(shown.propertiesTruncated).toBe(true);
    expect(shown.propertiesPreview).toHaveLength(1024);
    expect(shown.propertiesPreview?.startsWith('{"description":"xxx')).toBe(true);
  });

  it('leaves an event without properties without them', () => {
    const shown = toCustomerEvent(toTimelineEvent(makeEvent('web', { properties: undefined })));
    expect(shown).not.toHaveProperty('properties');
    expect(shown).not.toHaveProperty('propertiesPreview');
  });
});
