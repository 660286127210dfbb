// The quick test reasons use before computing a percentile must never hide a value that stands out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Distribution } from '../../lib/segmentation/percentiles.js';

describe('Distribution.middle', () => {
  it('bounds only values that are neither in the bottom nor in the top share', () => {
    fc.assert(
      fc.property(
        // Small integers (many ties, as counts have) or doubles; probes inside, between and outside.
        fc.oneof(
          fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 60 }),
          fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 60 }),
        ),
        fc.array(fc.double({ min: -2e3, max: 2e3, noNaN: true }), { maxLength: 10 }),
        fc.double({ min: 0.01, max: 0.49, noNaN: true }),
        (values, extra, share) => {
          const d = new Distribution(values);
          const { low, high } = d.middle(share);
          const probes = [...values, ...extra, ...values.map((v) => v + 0.5)];
          for (const x of probes) {
            if (x < low || x > high) continue;
            const p = d.percentile(x);
            expect(p).toBeGreaterThan(share);
            expect(p).toBeLessThan(1 - share);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('puts a value everyone shares in the middle, and leaves every value to the percentile when all could stand out', () => {
    expect(new Distribution([5]).middle(0.2)).toEqual({ low: 5, high: 5 });
    const { low, high } = new Distribution([1, 1, 9, 9]).middle(0.3);
    expect(low).toBe(9);
    expect(high).toBe(1);
  });
});
