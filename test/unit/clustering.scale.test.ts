// Robust scaling. The expected medians, quartiles and standard deviations were computed once with numpy
// 1.24.2 (/usr/bin/python3: np.percentile(v, [25, 50, 75]), np.std(v)) on the literal arrays below.
import { describe, expect, it } from 'vitest';
import { fitScaling, quantileSorted, scaleRow, scaleRows } from '../../lib/clustering/scale.js';

const column = (values: readonly number[]) => values.map((v) => [v]);
const NONE: ReadonlySet<string> = new Set();

describe('fitScaling', () => {
  it('centers on the median and divides by the interquartile range, as numpy computes them', () => {
    // np.percentile([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], [25, 50, 75]) = [2.5, 4.0, 5.0]
    const values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    const scaling = fitScaling(column(values), ['x'], NONE);
    expect(scaling).toEqual({ features: ['x'], log: [false], center: [4], scale: [2.5], dropped: [] });
    expect(scaleRow(scaling, [9], ['x'])).toEqual([2]);
    expect(scaleRow(scaling, [1.5], ['x'])).toEqual([-1]);
  });

  it('log1p-transforms logged features before taking quantiles, clamping negatives to 0', () => {
    // np.percentile(np.log1p([0, 1, 3, 7, 15, 31, 63, 1000]), [25, 50, 75])
    const values = [0, 1, 3, 7, 15, 31, 63, 1000];
    const scaling = fitScaling(column(values), ['orders'], new Set(['orders']));
    expect(scaling.log).toEqual([true]);
    expect(scaling.center[0]).toBeCloseTo(2.4260151319598084, 14);
    expect(scaling.scale[0]).toBeCloseTo(3.639022697939713 - 1.2130075659799042, 14);
    // A negative count is treated as 0, whose log1p is 0.
    const [negative] = scaleRow(scaling, [-5], ['orders']);
    const [zero] = scaleRow(scaling, [0], ['orders']);
    expect(negative).toBe(zero);
    expect(zero).toBeCloseTo(-2.4260151319598084 / (3.639022697939713 - 1.2130075659799042), 12);
    // Logged is per feature: the same values unlogged have another center.
    expect(fitScaling(column(values), ['orders'], NONE).center).toEqual([11]);
  });

  it('falls back to the standard deviation when over half the values are equal (IQR = 0)', () => {
    // np.percentile(w, [25, 75]) = [0, 0]; np.median(w) = 0; np.std(w) = 1.617802197617893,
    // np.std(np.log1p(w)) = 0.6226378543237255
    const w = [0, 0, 0, 0, 0, 0, 0, 2, 5];
    const plain = fitScaling(column(w), ['shares'], NONE);
    expect(plain.center).toEqual([0]);
    expect(plain.scale[0]).toBeCloseTo(1.617802197617893, 14);
    const logged = fitScaling(column(w), ['shares'], new Set(['shares']));
    expect(logged.scale[0]).toBeCloseTo(0.6226378543237255, 14);
  });

  it('drops constant features, keeping the others in order', () => {
    const rows = [
      [1, 7, 10, 0.1],
      [2, 7, 20, 0.1],
      [3, 7, 30, 0.1],
      [4, 7, 40, 0.1],
    ];
    const names = ['a', 'constant', 'b', 'alsoConstant'];
    const scaling = fitScaling(rows, names, new Set(['alsoConstant']));
    expect(scaling.features).toEqual(['a', 'b']);
    expect(scaling.dropped).toEqual(['constant', 'alsoConstant']);
    expect(scaleRow(scaling, [4, 7, 10, 0.1], names)).toEqual([(4 - 2.5) / 1.5, (10 - 25) / 15]);
  });

  it('drops a feature with no finite value, and no rows at all drops everything', () => {
    expect(fitScaling(column([Number.NaN, Number.NaN]), ['x'], NONE).dropped).toEqual(['x']);
    expect(fitScaling([], ['x', 'y'], NONE)).toEqual({
      features: [],
      log: [],
      center: [],
      scale: [],
      dropped: ['x', 'y'],
    });
  });

  it('leaves missing values out of the fit and scales them to 0, the median', () => {
    const scaling = fitScaling(column([Number.NaN, 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, Infinity]), ['x'], NONE);
    expect(scaling.center).toEqual([4]);
    expect(scaling.scale).toEqual([2.5]);
    expect(scaleRow(scaling, [Number.NaN], ['x'])).toEqual([0]);
  });
});

describe('scaleRow and scaleRows', () => {
  const scaling = fitScaling(
    [
      [1, 100],
      [2, 200],
      [3, 300],
      [4, 400],
      [5, 500],
    ],
    ['a', 'b'],
    NONE,
  );

  it('reads each feature by name, whatever the order of the row', () => {
    // a: median 3, IQR 4 - 2 = 2; b: median 300, IQR 200.
    expect(scaleRow(scaling, [5, 500], ['a', 'b'])).toEqual([1, 1]);
    expect(scaleRow(scaling, [500, 5, 0], ['b', 'a', 'other'])).toEqual([1, 1]);
  });

  it('throws when a fitted feature is missing from the row', () => {
    expect(() => scaleRow(scaling, [1], ['a'])).toThrow(/"b"/);
  });

  it('scales many rows as scaleRow does one by one', () => {
    const rows = [
      [1, 700],
      [8, 150],
    ];
    expect(scaleRows(scaling, rows, ['a', 'b'])).toEqual(
      rows.map((row) => scaleRow(scaling, row, ['a', 'b'])),
    );
  });
});

describe('quantileSorted', () => {
  it('interpolates linearly between closest ranks (numpy default)', () => {
    const sorted = [1, 2, 4, 8];
    // np.percentile([1, 2, 4, 8], [0, 10, 50, 90, 100]) = [1, 1.3, 3, 6.8, 8]
    expect(quantileSorted(sorted, 0)).toBe(1);
    expect(quantileSorted(sorted, 0.1)).toBeCloseTo(1.3, 14);
    expect(quantileSorted(sorted, 0.5)).toBe(3);
    expect(quantileSorted(sorted, 0.9)).toBeCloseTo(6.8, 14);
    expect(quantileSorted(sorted, 1)).toBe(8);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});
