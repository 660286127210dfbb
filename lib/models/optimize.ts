// Minimizing a smooth function of a few parameters without its gradient: Nelder-Mead with the
// dimension-adapted coefficients of Gao and Han (2012), which keep it converging in 4+ dimensions, and
// a multi-start wrapper. The models minimize a negative log-likelihood over log-parameters, so the
// search space is unbounded and every point is a valid model.

export interface Minimum {
  readonly x: number[];
  readonly value: number;
  readonly iterations: number;
  /** The simplex shrank below the tolerances before the iteration limit. */
  readonly converged: boolean;
}

export interface NelderMeadOptions {
  readonly maxIterations?: number;
  /** Converged when the simplex's values differ by less than this... */
  readonly valueTolerance?: number;
  /** ...and its vertices by less than this in every coordinate. */
  readonly pointTolerance?: number;
  /** The initial simplex's step from the start, per coordinate. */
  readonly step?: number;
}

export function nelderMead(
  f: (x: readonly number[]) => number,
  start: readonly number[],
  options: NelderMeadOptions = {},
): Minimum {
  const n = start.length;
  const maxIterations = options.maxIterations ?? 2000 * n;
  const fTol = options.valueTolerance ?? 1e-10;
  const xTol = options.pointTolerance ?? 1e-8;
  const step = options.step ?? 0.5;
  const alpha = 1;
  const beta = 1 + 2 / n;
  const gamma = 0.75 - 1 / (2 * n);
  const delta = 1 - 1 / n;
  /** NaN (a model undefined there) ranks as the worst point, so the search moves away from it. */
  const value = (x: readonly number[]) => {
    const v = f(x);
    return Number.isNaN(v) ? Number.POSITIVE_INFINITY : v;
  };
  let simplex = [start.slice()];
  for (let i = 0; i < n; i++) {
    const vertex = start.slice();
    vertex[i] = (vertex[i] as number) + step;
    simplex.push(vertex);
  }
  let values = simplex.map(value);
  const along = (from: number[], to: number[], t: number) =>
    from.map((v, i) => v + t * ((to[i] as number) - v));
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    const order = values.map((_, i) => i).sort((i, j) => (values[i] as number) - (values[j] as number));
    simplex = order.map((i) => simplex[i] as number[]);
    values = order.map((i) => values[i] as number);
    const best = values[0] as number;
    const worst = values[n] as number;
    const spread = Math.max(
      ...simplex
        .slice(1)
        .flatMap((v) => v.map((c, i) => Math.abs(c - ((simplex[0] as number[])[i] as number)))),
    );
    if (Number.isFinite(best) && Math.abs(worst - best) <= fTol && spread <= xTol) {
      converged = true;
      break;
    }
    iterations++;
    const centroid = new Array<number>(n).fill(0);
    for (const v of simplex.slice(0, n))
      for (let i = 0; i < n; i++) centroid[i] = (centroid[i] as number) + (v[i] as number) / n;
    const worstPoint = simplex[n] as number[];
    const reflected = along(centroid, worstPoint, -alpha);
    const fr = value(reflected);
    if (fr < best) {
      const expanded = along(centroid, worstPoint, -beta);
      const fe = value(expanded);
      [simplex[n], values[n]] = fe < fr ? [expanded, fe] : [reflected, fr];
      continue;
    }
    if (fr < (values[n - 1] as number)) {
      [simplex[n], values[n]] = [reflected, fr];
      continue;
    }
    const outside = fr < worst;
    const contracted = along(centroid, worstPoint, outside ? -gamma : gamma);
    const fc = value(contracted);
    if (fc < (outside ? fr : worst)) {
      [simplex[n], values[n]] = [contracted, fc];
      continue;
    }
    const bestPoint = simplex[0] as number[];
    for (let j = 1; j <= n; j++) {
      simplex[j] = along(bestPoint, simplex[j] as number[], delta);
      values[j] = value(simplex[j] as number[]);
    }
  }
  const bestIndex = values.indexOf(Math.min(...values));
  return { x: simplex[bestIndex] as number[], value: values[bestIndex] as number, iterations, converged };
}

export interface MultiStart extends Minimum {
  /** Starts tried, and how many of them converged to the best value (within 1e-6 relative). */
  readonly starts: number;
  readonly agreeing: number;
}

/**
 * The best minimum over several starts; converged when the best one did. Agreement between starts is
 * reported: a likelihood with several optima (or a flat ridge) shows up as starts that disagree.
 */
export function multiStart(
  f: (x: readonly number[]) => number,
  starts: readonly (readonly number[])[],
  options: NelderMeadOptions = {},
): MultiStart {
  const minima = starts.map((s) => {
    // A restart from the first answer: Nelder-Mead can stall on a collapsed simplex before the optimum.
    const first = nelderMead(f, s, options);
    const again = nelderMead(f, first.x, { ...options, step: 0.1 });
    return again.value <= first.value
      ? { ...again, iterations: first.iterations + again.iterations }
      : { ...first, iterations: first.iterations + again.iterations };
  });
  const best = minima.reduce((a, b) => (b.value < a.value || (b.value === a.value && b.converged) ? b : a));
  const agreeing = minima.filter(
    (m) => m.converged && Math.abs(m.value - best.value) <= 1e-6 * Math.max(1, Math.abs(best.value)),
  ).length;
  return { ...best, starts: starts.length, agreeing };
}
