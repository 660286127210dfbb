// BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way"): while alive, a customer
// buys at a Poisson rate λ ~ Gamma(r, α); after each purchase they drop out with probability
// p ~ Beta(a, b). From a customer's repeat purchases x, the time of the last one t_x and their age T
// (both since the first purchase), it gives the probability they are still alive and the purchases
// expected in the next t. Time is in days here; α scales with the unit (α in weeks = α in days / 7).
import { type FitReport, fitMaximumLikelihood, grouped } from './mle.js';
import { hyp2f1, lgamma } from './special.js';

/** What the model sees of a customer, in days: repeat purchase days x, last at t_x, first one T days ago. */
export interface RepeatHistory {
  readonly x: number;
  readonly tx: number;
  readonly T: number;
}

export type BgNbdParams = Readonly<Record<'r' | 'alpha' | 'a' | 'b', number>>;

/** ln of the customer's likelihood. */
export function bgNbdLogLikelihood(p: BgNbdParams, h: RepeatHistory): number {
  const { r, alpha, a, b } = p;
  const { x, tx, T } = h;
  const a1 = lgamma(r + x) - lgamma(r) + r * Math.log(alpha);
  const a2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
  const a3 = -(r + x) * Math.log(alpha + T);
  if (x === 0) return a1 + a2 + a3;
  const a4 = Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + tx);
  const top = Math.max(a3, a4);
  return a1 + a2 + top + Math.log(Math.exp(a3 - top) + Math.exp(a4 - top));
}

/** Starts spread around the data's time scale (α is a time: a rate's scale parameter). */
function startsFor(histories: readonly RepeatHistory[]): BgNbdParams[] {
  const meanT = histories.reduce((s, h) => s + h.T, 0) / Math.max(1, histories.length);
  const scale = Math.max(1, meanT / 4);
  return [
    { r: 1, alpha: scale, a: 1, b: 1 },
    { r: 0.3, alpha: scale / 4, a: 0.5, b: 3 },
    { r: 3, alpha: scale * 4, a: 2, b: 0.5 },
  ];
}

/** Too few repeat buyers to say anything about dropout. */
const MIN_REPEATERS = 20;

export function fitBgNbd(histories: readonly RepeatHistory[]): FitReport<keyof BgNbdParams> {
  const repeaters = histories.filter((h) => h.x > 0).length;
  if (repeaters < MIN_REPEATERS) {
    return {
      status: 'too-little-data',
      params: null,
      logLikelihood: null,
      customers: histories.length,
      iterations: 0,
      starts: 0,
      agreeing: 0,
    };
  }
  const byX = byRepeatPurchases(histories);
  return fitMaximumLikelihood(
    {
      names: ['r', 'alpha', 'a', 'b'],
      starts: startsFor(histories),
      logLikelihood: (p) => summedLogLikelihood(p, byX),
      // E[Y(t)] has (a - 1) in a denominator: at a = 1 exactly it is 0/0.
      usable: (p) => Math.abs(p.a - 1) > 1e-9,
    },
    histories.length,
  );
}

/** Customers with the same x, their distinct (t_x, T) with weights: the terms of x are computed once. */
interface SameX {
  readonly x: number;
  readonly tx: Float64Array;
  readonly T: Float64Array;
  readonly weight: Float64Array;
}

export function byRepeatPurchases(histories: readonly RepeatHistory[]): SameX[] {
  const groups = new Map<number, { row: RepeatHistory; weight: number }[]>();
  for (const g of grouped(histories, (h) => `${h.x} ${h.tx} ${h.T}`)) {
    const list = groups.get(g.row.x) ?? [];
    list.push(g);
    groups.set(g.row.x, list);
  }
  return [...groups].map(([x, list]) => ({
    x,
    tx: Float64Array.from(list, (g) => g.row.tx),
    T: Float64Array.from(list, (g) => g.row.T),
    weight: Float64Array.from(list, (g) => g.weight),
  }));
}

/**
 * The log-likelihood of every customer, summed: bgNbdLogLikelihood rearranged so that the gamma
 * functions, which depend on x only, are computed once per x (a unit test holds the two equal).
 */
export function summedLogLikelihood(p: BgNbdParams, data: readonly SameX[]): number {
  const { r, alpha, a, b } = p;
  const shared = r * Math.log(alpha) + lgamma(a + b) - lgamma(r) - lgamma(b);
  let sum = 0;
  for (const { x, tx, T, weight } of data) {
    const ofX = shared + lgamma(r + x) + lgamma(b + x) - lgamma(a + b + x);
    const logOdds = x > 0 ? Math.log(a) - Math.log(b + x - 1) : 0;
    for (let i = 0; i < T.length; i++) {
      const a3 = -(r + x) * Math.log(alpha + (T[i] as number));
      let ll = a3;
      if (x > 0) {
        const a4 = logOdds - (r + x) * Math.log(alpha + (tx[i] as number));
        const top = Math.max(a3, a4);
        ll = top + Math.log(Math.exp(a3 - top) + Math.exp(a4 - top));
      }
      sum += (weight[i] as number) * (ofX + ll);
    }
  }
  return sum;
}

/** P(alive | x, t_x, T). A customer with no repeat purchase is alive by the model's assumption. */
export function pAlive(p: BgNbdParams, h: RepeatHistory): number {
  if (h.x === 0) return 1;
  const { r, alpha, a, b } = p;
  const odds = (a / (b + h.x - 1)) * Math.exp((r + h.x) * Math.log((alpha + h.T) / (alpha + h.tx)));
  return 1 / (1 + odds);
}

/** Purchases expected in the next t days, given the customer's history (eq. 10 of the paper). */
export function expectedPurchases(p: BgNbdParams, h: RepeatHistory, t: number): number {
  if (t <= 0) return 0;
  const { r, alpha, a, b } = p;
  const { x, tx, T } = h;
  const z = t / (alpha + T + t);
  const hyp = hyp2f1(r + x, b + x, a + b + x - 1, z);
  const head = (a + b + x - 1) / (a - 1);
  const tail = 1 - Math.exp((r + x) * Math.log((alpha + T) / (alpha + T + t))) * hyp;
  const odds = x > 0 ? (a / (b + x - 1)) * Math.exp((r + x) * Math.log((alpha + T) / (alpha + tx))) : 0;
  return (head * tail) / (1 + odds);
}
