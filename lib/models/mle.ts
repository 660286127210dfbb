// Maximum likelihood for the customer-base models: the negative log-likelihood is minimized over the
// logs of the (positive) parameters from several starts, and the result says whether it can be trusted.
// A fit that did not converge, or converged to a degenerate corner (a parameter running off to 0 or to
// infinity: the likelihood is flat there and the "estimate" is wherever the search stopped), is reported
// as such and not used for scoring: a safe fallback is no model, never a wrong one.
import { multiStart } from './optimize.js';

export interface FitReport<P extends string> {
  /** `fitted`: converged, parameters usable; otherwise why not, with the best attempt's numbers. */
  readonly status: 'fitted' | 'not-converged' | 'degenerate' | 'too-little-data';
  readonly params: Readonly<Record<P, number>> | null;
  readonly logLikelihood: number | null;
  /** Customers the fit saw (a sample of them past the fit's cap). */
  readonly customers: number;
  readonly iterations: number;
  readonly starts: number;
  /** Starts that converged to the best optimum: fewer than all hints at a ridge or several optima. */
  readonly agreeing: number;
}

/** Parameters outside this range are a degenerate corner, not an estimate. */
const LOG_BOUND = Math.log(1e6);

export interface LikelihoodModel<P extends string> {
  readonly names: readonly P[];
  /** Starting points, natural scale. */
  readonly starts: readonly Readonly<Record<P, number>>[];
  /** The log-likelihood summed over the data, natural-scale parameters. */
  logLikelihood(params: Readonly<Record<P, number>>): number;
  /** Extra validity: e.g. a model whose mean needs q > 1. */
  usable?(params: Readonly<Record<P, number>>): boolean;
}

export function fitMaximumLikelihood<P extends string>(
  model: LikelihoodModel<P>,
  customers: number,
): FitReport<P> {
  const toParams = (logs: readonly number[]) =>
    Object.fromEntries(model.names.map((name, i) => [name, Math.exp(logs[i] as number)])) as Record<
      P,
      number
    >;
  // Scaled per customer so that the tolerances mean the same at 500 and 500,000 customers.
  const objective = (logs: readonly number[]) =>
    -model.logLikelihood(toParams(logs)) / Math.max(1, customers);
  const best = multiStart(
    objective,
    model.starts.map((s) => model.names.map((name) => Math.log(s[name]))),
  );
  const params = toParams(best.x);
  const base = {
    customers,
    iterations: best.iterations,
    starts: best.starts,
    agreeing: best.agreeing,
    logLikelihood: Number.isFinite(best.value) ? -best.value * Math.max(1, customers) : null,
  };
  if (!best.converged) return { ...base, status: 'not-converged', params };
  const cornered = best.x.some((v) => Math.abs(v) > LOG_BOUND);
  if (cornered || (model.usable && !model.usable(params))) return { ...base, status: 'degenerate', params };
  return { ...base, status: 'fitted', params };
}

/** Identical rows counted once with their weight: histories in whole days repeat a great deal. */
export function grouped<T>(rows: Iterable<T>, keyOf: (row: T) => string): { row: T; weight: number }[] {
  const groups = new Map<string, { row: T; weight: number }>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.weight++;
    else groups.set(key, { row, weight: 1 });
  }
  return [...groups.values()];
}
