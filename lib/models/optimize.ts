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

/**
 * The defaults: the models' objectives are log-likelihoods per customer, and their points log-parameters,
 * so 1e-6 is a relative precision of a millionth in every parameter: far past what the data say.
 */
const VALUE_TOLERANCE = 1e-10;
const POINT_TOLERANCE = 1e-6;

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
  const maxIterations = options.maxIterations ?? 1000 * n;
  const step = options.step ?? 0.5;
  /** NaN (a model undefined there) ranks as the worst point, so the search moves away from it. */
  const value = (x: readonly number[]) => {
    const v = f(x);
    return Number.isNaN(v) ? Number.POSITIVE_INFINITY : v;
  };
  const simplex: Vertex[] = [start.slice()];
  for (let i = 0; i < n; i++) {
    const vertex = start.slice();
    vertex[i] = (vertex[i] as number) + step;
    simplex.push(vertex);
  }
  const values = simplex.map(value);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    sortSimplex(simplex, values);
    if (hasConverged(simplex, values, options)) {
      converged = true;
      break;
    }
    iterations++;
    iterate(simplex, values, value);
  }
  const best = values.indexOf(Math.min(...values));
  return { x: simplex[best] as number[], value: values[best] as number, iterations, converged };
}

type Vertex = number[];

const along = (from: Vertex, to: Vertex, t: number): Vertex =>
  from.map((v, i) => v + t * ((to[i] as number) - v));

/** Best vertex first, in place. */
function sortSimplex(simplex: Vertex[], values: number[]): void {
  const order = values.map((_, i) => i).sort((i, j) => (values[i] as number) - (values[j] as number));
  const vertices = order.map((i) => simplex[i] as Vertex);
  const sorted = order.map((i) => values[i] as number);
  simplex.splice(0, simplex.length, ...vertices);
  values.splice(0, values.length, ...sorted);
}

function hasConverged(
  simplex: readonly Vertex[],
  values: readonly number[],
  options: NelderMeadOptions,
): boolean {
  const best = values[0] as number;
  const worst = values.at(-1) as number;
  const first = simplex[0] as Vertex;
  const spread = Math.max(
    ...simplex.slice(1).flatMap((v) => v.map((c, i) => Math.abs(c - (first[i] as number)))),
  );
  return (
    Number.isFinite(best) &&
    Math.abs(worst - best) <= (options.valueTolerance ?? VALUE_TOLERANCE) &&
    spread <= (options.pointTolerance ?? POINT_TOLERANCE)
  );
}

/** One step on a sorted simplex: reflect, expand, contract or shrink (in place). */
function iterate(simplex: Vertex[], values: number[], value: (x: readonly number[]) => number): void {
  const n = simplex.length - 1;
  const beta = 1 + 2 / n;
  const gamma = 0.75 - 1 / (2 * n);
  const delta = 1 - 1 / n;
  const best = values[0] as number;
  const worst = values[n] as number;
  const centroid = new Array<number>(n).fill(0);
  for (const v of simplex.slice(0, n))
    for (let i = 0; i < n; i++) centroid[i] = (centroid[i] as number) + (v[i] as number) / n;
  const worstPoint = simplex[n] as Vertex;
  const replace = (x: Vertex, fx: number) => {
    simplex[n] = x;
    values[n] = fx;
  };
  const reflected = along(centroid, worstPoint, -1);
  const fr = value(reflected);
  if (fr < best) {
    const expanded = along(centroid, worstPoint, -beta);
    const fe = value(expanded);
    if (fe < fr) replace(expanded, fe);
    else replace(reflected, fr);
    return;
  }
  if (fr < (values[n - 1] as number)) {
    replace(reflected, fr);
    return;
  }
  const outside = fr < worst;
  const contracted = along(centroid, worstPoint, outside ? -gamma : gamma);
  const fc = value(contracted);
  if (fc < (outside ? fr : worst)) {
    replace(contracted, fc);
    return;
  }
  const bestPoint = simplex[0] as Vertex;
  for (let j = 1; j <= n; j++) {
    simplex[j] = along(bestPoint, simplex[j] as Vertex, delta);
    values[j] = value(simplex[j] as Vertex);
  }
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
    const first = nelderMead(f, s, options);
    if (first.converged) return first;
    // A restart from where it stopped: Nelder-Mead can stall on a collapsed simplex short of the optimum.
    const again = nelderMead(f, first.x, { ...options, step: 0.05 });
    return {
      ...(again.value <= first.value ? again : first),
      iterations: first.iterations + again.iterations,
    };
  });
  const best = minima.reduce((a, b) => (b.value < a.value || (b.value === a.value && b.converged) ? b : a));
  const agreeing = minima.filter(
    (m) => m.converged && Math.abs(m.value - best.value) <= 1e-6 * Math.max(1, Math.abs(best.value)),
  ).length;
  return { ...best, starts: starts.length, agreeing };
}
