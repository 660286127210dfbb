// Timeline entries: stored with their properties as (possibly cut) JSON text, shown by the API as an
// object when whole and as a marked preview when cut.
import { describe, expect, it } from 'vitest';
import {
  mergeTimelines,
  type TimelineEvent,
  timelineKey,
  toCustomerEvent,
  toTimelineEvent,
} from '../../lib/profiles/timeline.js';
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

describe('timeline identity: dedup is per source, so the timeline is too', () => {
  const at = '2024-05-01T12:00:00.000Z';
  const shared = (sourceId: string) =>
    toTimelineEvent(makeEvent(sourceId, { messageId: 'same-id', timestamp: at, receivedAt: at }));

  it('keeps one event per source when two sources send the same messageId', () => {
    const merged = mergeTimelines([shared('web')], [shared('ios')]);
    expect(merged.map((e) => e.sourceId).sort()).toEqual(['ios', 'web']);
    // Still each event once: merging a timeline with itself adds nothing.
    expect(mergeTimelines(merged, merged)).toEqual(merged);
  });

  it('gives events of two sources distinct keys, even with # in the ids', () => {
    const a = { timestamp: at, messageId: 'a#b', sourceId: 'c' };
    const b = { timestamp: at, messageId: 'a', sourceId: 'b#c' };
    expect(timelineKey(a)).not.toBe(timelineKey(b));
    expect(timelineKey(shared('web'))).not.toBe(timelineKey(shared('ios')));
  });

  /** Pages the way GET /events does: each cursor is the last key shown; the next page is what sorts below. */
  const pageThrough = (all: readonly TimelineEvent[], limit: number, cursor?: string) => {
    const seen: TimelineEvent[] = [];
    let before = cursor;
    for (;;) {
      const below = before;
      const rest = below === undefined ? all : all.filter((e) => timelineKey(e) < below);
      const page = rest.slice(0, limit);
      seen.push(...page);
      const last = page.at(-1);
      if (rest.length <= limit || !last) return seen;
      before = timelineKey(last);
    }
  };

  it('pages through same-time, same-messageId events of many sources without skipping one', () => {
    const all = ['web', 'ios', 'android', 'server'].reduce<TimelineEvent[]>(
      (acc, s) => mergeTimelines(acc, [shared(s)], Number.POSITIVE_INFINITY),
      [],
    );
    expect(pageThrough(all, 1)).toEqual(all);
    expect(all).toHaveLength(4);
  });

  it('still reads a cursor of the old form (timestamp#messageId) as the same position', () => {
    const ev = (messageId: string, timestamp: string, sourceId = 'web') =>
      toTimelineEvent(makeEvent(sourceId, { messageId, timestamp, receivedAt: timestamp }));
    const all = mergeTimelines(
      [ev('m3', '2024-05-03T00:00:00.000Z'), ev('m2', at), ev('m1', at)],
      [ev('m2', at, 'ios'), ev('m0', '2024-04-01T00:00:00.000Z')],
      Number.POSITIVE_INFINITY,
    );
    // A client that was shown m3 then (web) m2 before the upgrade holds the cursor `${at}#m2`.
    const resumed = pageThrough(all, 2, `${at}#m2`);
    expect(resumed.map((e) => e.messageId)).toEqual(['m1', 'm0']);
  });
});
