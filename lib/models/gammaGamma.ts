// Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV: using iso-value curves"; Colombo and Jiang
// 1999): a customer's order values are Gamma(p, ν) around their own mean, with ν ~ Gamma(q, γ) across
// customers. From the mean value m of a customer's x repeat purchases it gives their expected average
// order value, shrunk towards the population's mean p γ / (q - 1) the fewer purchases they made. It
// assumes value and frequency are independent, which the run reports (their correlation) rather than
// takes on trust.
import { type FitReport, fitMaximumLikelihood } from './mle.js';
import { lgamma } from './special.js';

/** A repeat buyer as the model sees them: x >= 1 repeat purchases of mean value m > 0. */
export interface SpendHistory {
  readonly x: number;
  readonly m: number;
}

export type GammaGammaParams = Readonly<Record<'p' | 'q' | 'gamma', number>>;

export function gammaGammaLogLikelihood(params: GammaGammaParams, h: SpendHistory): number {
  const { p, q, gamma } = params;
  const { x, m } = h;
  const px = p * x;
  return (
    lgamma(px + q) -
    lgamma(q) +
    q * Math.log(gamma) +
    (px - 1) * Math.log(m) +
    px * Math.log(x) -
    lgamma(px) -
    (px + q) * Math.log(x * m + gamma)
  );
}

const MIN_BUYERS = 20;

export function fitGammaGamma(histories: readonly SpendHistory[]): FitReport<keyof GammaGammaParams> {
  const usable = histories.filter((h) => h.x > 0 && h.m > 0);
  if (usable.length < MIN_BUYERS) {
    return {
      status: 'too-little-data',
      params: null,
      logLikelihood: null,
      customers: usable.length,
      iterations: 0,
      starts: 0,
      agreeing: 0,
    };
  }
  const mean = usable.reduce((s, h) => s + h.m, 0) / usable.length;
  const data = bySameX(usable);
  return fitMaximumLikelihood(
    {
      names: ['p', 'q', 'gamma'],
      starts: [
        { p: 1, q: 2, gamma: mean },
        { p: 5, q: 4, gamma: mean * 3 },
        { p: 0.5, q: 1.5, gamma: mean / 3 },
      ],
      logLikelihood: (params) => summedLogLikelihood(params, data),
      // The population mean p γ / (q - 1) exists only for q > 1.
      usable: (params) => params.q > 1,
    },
    usable.length,
  );
}

interface SameX {
  readonly x: number;
  readonly m: Float64Array;
  readonly logM: Float64Array;
}

function bySameX(histories: readonly SpendHistory[]): SameX[] {
  const groups = new Map<number, number[]>();
  for (const h of histories) {
    const list = groups.get(h.x) ?? [];
    list.push(h.m);
    groups.set(h.x, list);
  }
  return [...groups].map(([x, ms]) => ({
    x,
    m: Float64Array.from(ms),
    logM: Float64Array.from(ms, Math.log),
  }));
}

/** gammaGammaLogLikelihood summed, its gamma functions (which depend on x only) computed once per x. */
function summedLogLikelihood(params: GammaGammaParams, data: readonly SameX[]): number {
  const { p, q, gamma } = params;
  const shared = q * Math.log(gamma) - lgamma(q);
  let sum = 0;
  for (const { x, m, logM } of data) {
    const px = p * x;
    const ofX = shared + lgamma(px + q) - lgamma(px) + px * Math.log(x);
    for (let i = 0; i < m.length; i++) {
      sum += ofX + (px - 1) * (logM[i] as number) - (px + q) * Math.log(x * (m[i] as number) + gamma);
    }
  }
  return sum;
}

/** The customer's expected average order value: their mean shrunk towards the population's. */
export function expectedOrderValue(params: GammaGammaParams, h: SpendHistory): number {
  const { p, q, gamma } = params;
  if (h.x === 0 || !(h.m > 0)) return (p * gamma) / (q - 1);
  return (p * (gamma + h.x * h.m)) / (p * h.x + q - 1);
}
