// Stable hashing of customers into the global control group, a campaign's holdout and a content variant:
// the shares hold over 100,000 ids (within 4 standard deviations), the same id always lands in the same
// place, and the draws are independent of each other.
import { describe, expect, it } from 'vitest';
import {
  inGlobalControl,
  inHoldout,
  measuredGroup,
  pickVariant,
  unitHash,
} from '../../lib/campaigns/assignment.js';
import type { Variant } from '../../lib/campaigns/model.js';

const N = 100_000;
const ids = Array.from({ length: N }, (_, i) => `cus_${i.toString(36)}_${(i * 7919) % 1000}`);
const SALT = 'test-salt-1234';

/** Four binomial standard deviations around n·p. */
function within(count: number, n: number, p: number) {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(count).toBeGreaterThan(n * p - 4 * sd);
  expect(count).toBeLessThan(n * p + 4 * sd);
}

const variant = (id: string, weight: number): Variant => ({ id, weight, content: { sms: { text: 'hi' } } });

describe('unitHash', () => {
  it('is in [0, 1), spread evenly over tenths', () => {
    const tenths = new Array<number>(10).fill(0);
    const units = ids.map((id) => unitHash('x', id));
    for (const u of units) {
      const t = Math.floor(u * 10);
      tenths[t] = (tenths[t] ?? 0) + 1;
    }
    expect(Math.min(...units)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...units)).toBeLessThan(1);
    for (const count of tenths) within(count, N, 0.1);
  });

  it('separates its parts: ("ab", "c") and ("a", "bc") differ', () => {
    expect(unitHash('ab', 'c')).not.toBe(unitHash('a', 'bc'));
  });
});

describe('global control group', () => {
  it.each([1, 5, 15])('holds %s % of customers', (percent) => {
    within(ids.filter((id) => inGlobalControl(id, SALT, percent)).length, N, percent / 100);
  });

  it('is stable: the same customers every time, nested as the share grows', () => {
    const first = ids.filter((id) => inGlobalControl(id, SALT, 5));
    expect(ids.filter((id) => inGlobalControl(id, SALT, 5))).toEqual(first);
    // Raising the share keeps everyone already in (the same draw against a higher bar).
    expect(first.every((id) => inGlobalControl(id, SALT, 10))).toBe(true);
  });

  it('is a new draw under another salt', () => {
    const a = new Set(ids.filter((id) => inGlobalControl(id, SALT, 10)));
    const both = ids.filter((id) => a.has(id) && inGlobalControl(id, 'another-salt', 10)).length;
    within(both, N, 0.01);
  });
});

describe('campaign holdout', () => {
  it('holds its share, independent of the global control group', () => {
    const control = ids.map((id) => inGlobalControl(id, SALT, 10));
    const holdout = ids.map((id) => inHoldout('abandoned-cart', id, SALT, 10));
    within(holdout.filter(Boolean).length, N, 0.1);
    // Independent draws: P(control and holdout) = P(control) * P(holdout).
    within(ids.filter((_, i) => control[i] && holdout[i]).length, N, 0.01);
    // Among control members the holdout share is the same as among everyone.
    const controlCount = control.filter(Boolean).length;
    within(ids.filter((_, i) => control[i] && holdout[i]).length, controlCount, 0.1);
  });

  it('differs between campaigns and stays put for each', () => {
    const a = ids.map((id) => inHoldout('birthday', id, SALT, 20));
    const b = ids.map((id) => inHoldout('win-back', id, SALT, 20));
    within(ids.filter((_, i) => a[i] && b[i]).length, N, 0.04);
    expect(ids.map((id) => inHoldout('birthday', id, SALT, 20))).toEqual(a);
    expect(ids.filter((id) => inHoldout('birthday', id, SALT, 0))).toEqual([]);
  });
});

describe('pickVariant', () => {
  const campaign = { id: 'abandoned-cart', variants: [variant('a', 1), variant('b', 3)] };

  it('splits by weight', () => {
    const b = ids.filter((id) => pickVariant(campaign, id).id === 'b').length;
    within(b, N, 0.75);
  });

  it('keeps each customer on one variant, independent of the holdout', () => {
    const picks = ids.map((id) => pickVariant(campaign, id).id);
    expect(ids.map((id) => pickVariant(campaign, id).id)).toEqual(picks);
    const held = ids.filter((id) => inHoldout(campaign.id, id, SALT, 10));
    within(held.filter((id) => pickVariant(campaign, id).id === 'b').length, held.length, 0.75);
  });

  it('returns the only variant of a one-variant campaign', () => {
    const one = { id: 'birthday', variants: [variant('only', 5)] };
    expect(new Set(ids.slice(0, 1_000).map((id) => pickVariant(one, id).id))).toEqual(new Set(['only']));
  });
});

describe('measuredGroup', () => {
  const settings = { salt: SALT, controlPercent: 5 };
  const campaign = { id: 'cart', holdoutPercent: 10 };

  it('puts the global control first, then the holdout, and everyone else in neither', () => {
    const some = ids.slice(0, 20_000);
    const groups = some.map((id) => measuredGroup(campaign, id, settings));
    for (const [i, id] of some.entries()) {
      const expected = inGlobalControl(id, SALT, 5)
        ? 'control'
        : inHoldout('cart', id, SALT, 10)
          ? 'holdout'
          : undefined;
      expect(groups[i]).toBe(expected);
    }
    within(groups.filter((g) => g === 'control').length, some.length, 0.05);
    within(groups.filter((g) => g === 'holdout').length, some.length, 0.95 * 0.1);
  });

  it('holds nobody out of a campaign without a holdout but its control members', () => {
    const none = { ...campaign, holdoutPercent: 0 };
    expect(ids.slice(0, 2000).filter((id) => measuredGroup(none, id, settings) === 'holdout')).toEqual([]);
  });
});
