// Seeded randomness: the same seed gives the same draws and samples; samples are proper samples.
import { describe, expect, it } from 'vitest';
import { sampleIndices, seededRandom } from '../../lib/clustering/random.js';

describe('seededRandom', () => {
  it('gives the same stream for the same seed and another for another seed', () => {
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 20 }, () => random());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('draws in [0, 1), spread evenly', () => {
    const random = seededRandom(1);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = random();
      if (!(x >= 0 && x < 1)) outside++;
      const b = Math.floor(x * 10);
      buckets[b] = (buckets[b] ?? 0) + 1;
    }
    expect(outside).toBe(0);
    // 10,000 expected per bucket; the standard deviation of a count is ~95.
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});

describe('sampleIndices', () => {
  it('returns `size` distinct ascending indices within [0, n)', () => {
    const sample = sampleIndices(1_000, 137, 5);
    expect(sample).toHaveLength(137);
    expect(new Set(sample).size).toBe(137);
    expect([...sample].sort((a, b) => a - b)).toEqual(sample);
    expect(sample.every((i) => Number.isInteger(i) && i >= 0 && i < 1_000)).toBe(true);
  });

  it('is deterministic per seed', () => {
    expect(sampleIndices(10_000, 50, 9)).toEqual(sampleIndices(10_000, 50, 9));
    expect(sampleIndices(10_000, 50, 9)).not.toEqual(sampleIndices(10_000, 50, 10));
  });

  it('returns every index when size >= n, and nothing for size 0 or n = 0', () => {
    expect(sampleIndices(5, 5, 1)).toEqual([0, 1, 2, 3, 4]);
    expect(sampleIndices(5, 99, 1)).toEqual([0, 1, 2, 3, 4]);
    expect(sampleIndices(5, 0, 1)).toEqual([]);
    expect(sampleIndices(0, 10, 1)).toEqual([]);
  });

  it('gives every index the same chance', () => {
    const hits = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 3_000; seed++) {
      for (const i of sampleIndices(10, 3, seed)) hits[i] = (hits[i] ?? 0) + 1;
    }
    // 900 expected per index (3,000 x 3 / 10); the standard deviation is ~25.
    for (const count of hits) expect(Math.abs(count - 900)).toBeLessThan(120);
  });
});
