// RFM: recency, frequency and monetary value scored 1-5 by quintiles, and the classic RFM segment map.
//
// Scores are rank-based with ties shared: a customer's score is 1 + floor(5 × the share of buyers strictly
// worse), so equal values always get equal scores, the result does not depend on input order, and no
// random tie-breaking is needed. With heavy ties (a third of buyers with one order) a quintile can be
// empty: the 1-5 scale keeps its meaning (score 1 = the bottom of the population) rather than being
// stretched.
import { Distribution } from './percentiles.js';

export interface RfmValues {
  /** Whole days from the last order to the as-of time. */
  recencyDays: number;
  /** Distinct paid orders before the as-of time. */
  frequency: number;
  /** Revenue net of refunds before the as-of time (never below 0). */
  monetary: number;
}

export interface RfmScores {
  r: number;
  f: number;
  m: number;
}

export const RFM_SEGMENTS = [
  'champions',
  'loyal',
  'potential-loyalist',
  'new',
  'promising',
  'need-attention',
  'about-to-sleep',
  'at-risk',
  'cant-lose',
  'hibernating',
  'lost',
] as const;
export type RfmSegment = (typeof RFM_SEGMENTS)[number];

const score = (worse: number, n: number): number => Math.min(5, 1 + Math.floor((5 * worse) / n));

/** Scores every buyer against the whole buyer population. */
export class RfmScorer {
  private readonly recency: Distribution;
  private readonly frequency: Distribution;
  private readonly monetary: Distribution;

  constructor(population: readonly RfmValues[]) {
    this.recency = new Distribution(population.map((v) => v.recencyDays));
    this.frequency = new Distribution(population.map((v) => v.frequency));
    this.monetary = new Distribution(population.map((v) => v.monetary));
  }

  score(v: RfmValues): RfmScores {
    const n = this.recency.size;
    if (n === 0) return { r: 3, f: 3, m: 3 };
    return {
      // More days since the last order is worse.
      r: score(this.recency.above(v.recencyDays), n),
      f: score(this.frequency.below(v.frequency), n),
      m: score(this.monetary.below(v.monetary), n),
    };
  }
}

/**
 * The classic R × F grid (as popularized by the "RFM segments" chart), with the bottom-left corner split in
 * two: R 1 is Lost, R 2 Hibernating. Monetary value is reported but does not move the label, as in the grid.
 * Rows are R 5 down to R 1; columns F 1 to F 5.
 */
const GRID: readonly (readonly RfmSegment[])[] = [
  ['new', 'potential-loyalist', 'potential-loyalist', 'champions', 'champions'],
  ['promising', 'potential-loyalist', 'potential-loyalist', 'loyal', 'loyal'],
  ['about-to-sleep', 'about-to-sleep', 'need-attention', 'loyal', 'loyal'],
  ['hibernating', 'hibernating', 'at-risk', 'at-risk', 'cant-lose'],
  ['lost', 'lost', 'at-risk', 'at-risk', 'cant-lose'],
];

export function rfmSegment({ r, f }: RfmScores): RfmSegment {
  const segment = GRID[5 - r]?.[f - 1];
  if (segment === undefined) throw new Error(`RFM scores out of range: R ${r}, F ${f}`);
  return segment;
}
