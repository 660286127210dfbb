// The attribution rule: a goal event counts for an exposure of the same customer when it is the
// campaign's goal and happens in [exposure, exposure + windowDays); every campaign counts its own.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  attributes,
  convertedBy,
  type Exposure,
  type GoalEvent,
  goalWindow,
} from '../../lib/campaigns/attribution.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-28T23:30:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

const exposure = (overrides: Partial<Exposure> = {}): Exposure => ({
  campaignId: 'abandoned-cart',
  customerId: 'c1',
  group: 'treated',
  exposureId: 'snd_1',
  at: iso(T0),
  goal: { event: 'Order Completed', windowDays: 7 },
  ...overrides,
});
const goal = (at: number, overrides: Partial<GoalEvent> = {}): GoalEvent => ({
  customerId: 'c1',
  event: 'Order Completed',
  messageId: 'm1',
  at: iso(at),
  ...overrides,
});

describe('goal window', () => {
  it('starts at the exposure and lasts windowDays of 24 h (time zones and DST play no part)', () => {
    expect(goalWindow(exposure())).toEqual({ from: T0, to: T0 + 7 * DAY });
    expect(goalWindow(exposure({ at: '2026-03-29T01:30:00+02:00' })).from).toBe(T0);
  });

  it('counts from the exposure (inclusive) to its end (exclusive)', () => {
    const e = exposure();
    expect(attributes(e, goal(T0 - 1))).toBe(false);
    expect(attributes(e, goal(T0))).toBe(true);
    expect(attributes(e, goal(T0 + 7 * DAY - 1))).toBe(true);
    expect(attributes(e, goal(T0 + 7 * DAY))).toBe(false);
  });

  it("a control or holdout member's window starts at the assignment, as a treated one's at the send", () => {
    for (const group of ['control', 'holdout'] as const) {
      expect(attributes(exposure({ group }), goal(T0 + DAY))).toBe(true);
      expect(attributes(exposure({ group }), goal(T0 - DAY))).toBe(false);
    }
  });

  it("only the campaign's goal event of the same customer counts", () => {
    expect(attributes(exposure(), goal(T0 + 1, { event: 'Product Viewed' }))).toBe(false);
    expect(attributes(exposure(), goal(T0 + 1, { customerId: 'c2' }))).toBe(false);
    expect(
      attributes(
        exposure({ goal: { event: 'Signed Up', windowDays: 1 } }),
        goal(T0 + 1, { event: 'Signed Up' }),
      ),
    ).toBe(true);
  });
});

describe('several campaigns', () => {
  it('one order converts every campaign whose window covers it: each counts its own', () => {
    const a = exposure({ campaignId: 'abandoned-cart', exposureId: 'snd_a' });
    const b = exposure({
      campaignId: 'win-back',
      exposureId: 'asg_b',
      group: 'control',
      at: iso(T0 + 2 * DAY),
    });
    const c = exposure({ campaignId: 'birthday', exposureId: 'snd_c', at: iso(T0 - 30 * DAY) });
    expect(convertedBy(goal(T0 + 3 * DAY), [a, b, c]).map((e) => e.campaignId)).toEqual([
      'abandoned-cart',
      'win-back',
    ]);
  });

  it('property: an event converts exactly the exposures whose window holds it', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            offsetMs: fc.integer({ min: -10 * DAY, max: 10 * DAY }),
            windowDays: fc.integer({ min: 1, max: 90 }),
          }),
          { maxLength: 20 },
        ),
        fc.integer({ min: -20 * DAY, max: 100 * DAY }),
        (specs, eventOffset) => {
          const exposures = specs.map((s, i) =>
            exposure({
              exposureId: `e${i}`,
              at: iso(T0 + s.offsetMs),
              goal: { event: 'Order Completed', windowDays: s.windowDays },
            }),
          );
          const at = T0 + eventOffset;
          const converted = new Set(convertedBy(goal(at), exposures).map((e) => e.exposureId));
          specs.forEach((s, i) => {
            const start = T0 + s.offsetMs;
            expect(converted.has(`e${i}`)).toBe(at >= start && at < start + s.windowDays * DAY);
          });
        },
      ),
    );
  });
});
