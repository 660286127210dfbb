import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Distribution } from '../../lib/segmentation/percentiles.js';
import { RFM_SEGMENTS, RfmScorer, type RfmValues, rfmSegment } from '../../lib/segmentation/rfm.js';

const buyer = (recencyDays: number, frequency: number, monetary: number): RfmValues => ({
  recencyDays,
  frequency,
  monetary,
});

describe('RFM scores', () => {
  it('splits distinct values into quintiles: the best fifth scores 5, the worst 1', () => {
    const population = Array.from({ length: 100 }, (_, i) => buyer(i, i + 1, (i + 1) * 10));
    const scorer = new RfmScorer(population);
    expect(scorer.score(buyer(0, 100, 1000))).toEqual({ r: 5, f: 5, m: 5 });
    expect(scorer.score(buyer(99, 1, 10))).toEqual({ r: 1, f: 1, m: 1 });
    const counts = [0, 0, 0, 0, 0];
    for (const b of population) {
      const { f } = scorer.score(b);
      counts[f - 1] = (counts[f - 1] ?? 0) + 1;
    }
    expect(counts).toEqual([20, 20, 20, 20, 20]);
  });

  it('gives tied values one score whatever the input order', () => {
    // 40 % of buyers ordered once: they all score 1, the next value starts at the rank after them.
    const population = [
      ...Array.from({ length: 40 }, () => buyer(10, 1, 5)),
      ...Array.from({ length: 60 }, (_, i) => buyer(10, 2 + i, 5)),
    ];
    const forward = new RfmScorer(population);
    const backward = new RfmScorer([...population].reverse());
    expect(forward.score(buyer(10, 1, 5)).f).toBe(1);
    expect(forward.score(buyer(10, 2, 5)).f).toBe(3);
    for (const b of population) expect(backward.score(b)).toEqual(forward.score(b));
    // Everyone has the same recency and monetary value: all in the middle of none, i.e. score 1.
    expect(forward.score(buyer(10, 1, 5)).r).toBe(1);
  });

  it('always scores 1..5, and a better value never scores lower (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(400), fc.integer({ min: 1, max: 50 }), fc.nat(10_000)), {
          minLength: 1,
          maxLength: 200,
        }),
        (rows) => {
          const population = rows.map(([r, f, m]) => buyer(r, f, m));
          const scorer = new RfmScorer(population);
          for (const a of population) {
            const sa = scorer.score(a);
            for (const s of [sa.r, sa.f, sa.m]) expect(s >= 1 && s <= 5).toBe(true);
            const better = scorer.score(buyer(a.recencyDays - 1, a.frequency + 1, a.monetary + 1));
            expect(better.r).toBeGreaterThanOrEqual(sa.r);
            expect(better.f).toBeGreaterThanOrEqual(sa.f);
            expect(better.m).toBeGreaterThanOrEqual(sa.m);
          }
        },
      ),
    );
  });
});

describe('the RFM segment map', () => {
  it('labels every R x F cell with one of the eleven classic segments, each used', () => {
    const used = new Set<string>();
    for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) used.add(rfmSegment({ r, f, m: 3 }));
    expect([...used].sort()).toEqual([...RFM_SEGMENTS].sort());
  });

  it('puts the corners where the grid has them', () => {
    expect(rfmSegment({ r: 5, f: 5, m: 5 })).toBe('champions');
    expect(rfmSegment({ r: 5, f: 1, m: 1 })).toBe('new');
    expect(rfmSegment({ r: 1, f: 5, m: 5 })).toBe('cant-lose');
    expect(rfmSegment({ r: 1, f: 1, m: 1 })).toBe('lost');
    expect(rfmSegment({ r: 2, f: 2, m: 1 })).toBe('hibernating');
    expect(rfmSegment({ r: 3, f: 3, m: 3 })).toBe('need-attention');
  });
});

describe('Distribution', () => {
  it('ranks by mid-rank percentile and finds the median', () => {
    const d = new Distribution([5, 1, 3, 3, 9]);
    expect(d.median()).toBe(3);
    expect(d.percentile(3)).toBeCloseTo(0.4);
    expect(d.percentile(100)).toBe(1);
    expect(d.percentile(0)).toBe(0);
    expect(new Distribution([1, 2, 3, 4]).median()).toBe(2.5);
    expect(d.below(3)).toBe(1);
    expect(d.above(3)).toBe(2);
  });
});
