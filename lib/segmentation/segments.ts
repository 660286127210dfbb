// The business segments a marketer acts on. Clusters are mapped onto these names (naming.ts); the ids are
// stable across runs, so campaigns can target "churn-risk" whatever k the nightly run chose.

export const BUYER_SEGMENTS = [
  'high-value',
  'loyal',
  'growth-potential',
  'new',
  'churn-risk',
  'dormant',
] as const;
export const PROSPECT_SEGMENTS = ['engaged-prospect', 'browsing-prospect', 'cold-prospect'] as const;
export const SEGMENT_IDS = [...BUYER_SEGMENTS, ...PROSPECT_SEGMENTS] as const;
export type BuyerSegment = (typeof BUYER_SEGMENTS)[number];
export type ProspectSegment = (typeof PROSPECT_SEGMENTS)[number];
export type SegmentId = (typeof SEGMENT_IDS)[number];

export interface SegmentDefinition {
  readonly title: string;
  readonly population: 'buyers' | 'prospects';
  /** The rule a cluster met to get this name, in words. */
  readonly rule: string;
}

export const SEGMENTS: Record<SegmentId, SegmentDefinition> = {
  'churn-risk': {
    title: 'Churn risk',
    population: 'buyers',
    rule: 'valuable (frequency or monetary in the top 40 %) but recency at least 1.5x the median',
  },
  dormant: {
    title: 'Dormant / lost',
    population: 'buyers',
    rule: 'recency at least 2x the median and not valuable',
  },
  'high-value': {
    title: 'High value',
    population: 'buyers',
    rule: 'monetary in the top 25 % and frequency in the top 40 %, recent',
  },
  new: {
    title: 'New customers',
    population: 'buyers',
    rule: 'tenure at most half the median, frequency not above the median',
  },
  loyal: { title: 'Active / loyal', population: 'buyers', rule: 'frequency above the median, recent' },
  'growth-potential': {
    title: 'Growth potential',
    population: 'buyers',
    rule: 'recent enough, frequency and monetary at or below the median: room to grow',
  },
  'cold-prospect': {
    title: 'Cold prospects',
    population: 'prospects',
    rule: 'never ordered; last visit at least 2x the median ago',
  },
  'engaged-prospect': {
    title: 'Engaged prospects',
    population: 'prospects',
    rule: 'never ordered; half of them added to cart, or sessions in the top 25 %',
  },
  'browsing-prospect': {
    title: 'Browsing prospects',
    population: 'prospects',
    rule: 'never ordered; recent visits without cart activity',
  },
};
