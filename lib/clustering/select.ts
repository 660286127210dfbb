// Choosing k. Marketing needs segments that are both distinct and big enough to act on, so k is the one
// with the best silhouette among those whose every cluster holds at least `minShare` of the customers.
// The candidates are fitted on a deterministic sample (a million-customer population would otherwise
// pay kMax - kMin + 1 full fits); only the chosen k is fitted on everyone.
import { type Clustering, fitKMeans } from './kmeans.js';
import { adjustedRandIndex, calinskiHarabasz, daviesBouldin, silhouette } from './metrics.js';
import { countDistinct, gather } from './points.js';
import { sampleIndices } from './random.js';

export interface SelectionOptions {
  kMin: number;
  kMax: number;
  /** Minimum share of the population every cluster must hold, e.g. 0.03. */
  minShare: number;
  seed: number;
  /** Fits for choosing k run on a deterministic sample of at most this many points (e.g. 50_000). */
  selectionSample: number;
  /** Silhouette sample size, e.g. 3_000. */
  silhouetteSample: number;
  /** Extra seeds for the stability check, e.g. 3; 0 skips it. */
  stabilitySeeds: number;
}

export interface Candidate {
  k: number;
  /** Mean silhouette on the selection sample (itself sampled to silhouetteSample points). */
  silhouette: number;
  /** Share of the selection sample in the smallest cluster. */
  smallestShare: number;
  eligible: boolean;
}

export interface Validation {
  silhouette: number;
  daviesBouldin: number;
  calinskiHarabasz: number;
  /**
   * Mean adjusted Rand index between the chosen fit and fits with other seeds, on the selection sample.
   * NaN when stabilitySeeds is 0: not measured (the mean of no runs), which is neither stable nor not.
   */
  stability: number;
  stabilityRuns: number[];
}

export interface ClusteringResult {
  clustering: Clustering;
  candidates: Candidate[];
  validation: Validation;
  /** Why this k. */
  reason: string;
}

/** The stages of chooseClustering, in order, as reported to its `onStageDone` callback. */
export type ClusteringStage = 'selection' | 'final fit' | 'validation' | 'stability';

/**
 * Chooses k in [kMin, kMax] and fits it on all the points (see the top of this file), then validates
 * the fit: silhouette (sampled), Davies-Bouldin and Calinski-Harabasz on all the points, and stability,
 * the mean adjusted Rand index between the chosen k's fit of the selection sample and fits with seeds
 * seed + 1 ... seed + stabilitySeeds.
 *
 * Degenerate inputs: k is capped at the number of distinct points (identical points give k = 1; fewer
 * points than kMin give at most that many clusters); no points at all is a RangeError, since there is no
 * clustering to return (callers decide what an empty population means). Invalid options are
 * RangeErrors too. The same points and options give the same result.
 *
 * `onStageDone`, if given, is called as each stage ends (for timing): chooseClustering reads no clock.
 */
export function chooseClustering(
  points: readonly number[][],
  options: SelectionOptions,
  onStageDone?: (stage: ClusteringStage) => void,
): ClusteringResult {
  checkOptions(options);
  if (points.length === 0) throw new RangeError('chooseClustering: no points to cluster');
  const { seed } = options;
  const indices = sampleIndices(points.length, options.selectionSample, seed);
  const wholePopulation = indices.length === points.length;
  const sample = wholePopulation ? points : gather(points, indices);

  const range = candidateRange(sample, options);
  const fits = new Map<number, Clustering>();
  const candidates: Candidate[] = [];
  for (let k = range.low; k <= range.high; k++) {
    const fit = fitKMeans(sample, k, { seed });
    fits.set(k, fit);
    candidates.push(evaluate(sample, fit, options));
  }
  const { k, reason } = decide(candidates, options, range);
  const selected = fits.get(k);
  if (selected === undefined) throw new Error(`chooseClustering: no fit for the chosen k = ${k}`);
  onStageDone?.('selection');

  // The sample is everyone when the population is small: its fit is the final one.
  const clustering = wholePopulation ? selected : fitKMeans(points, k, { seed });
  onStageDone?.('final fit');

  const sampled = { sampleSize: options.silhouetteSample, seed };
  const metrics = {
    silhouette: silhouette(points, clustering.labels, sampled),
    daviesBouldin: daviesBouldin(points, clustering.labels, clustering.centroids),
    calinskiHarabasz: calinskiHarabasz(points, clustering.labels, clustering.centroids),
  };
  onStageDone?.('validation');

  const stabilityRuns = Array.from({ length: options.stabilitySeeds }, (_, run) =>
    adjustedRandIndex(selected.labels, fitKMeans(sample, k, { seed: seed + run + 1 }).labels),
  );
  const stability =
    stabilityRuns.length === 0
      ? Number.NaN
      : stabilityRuns.reduce((sum, ari) => sum + ari, 0) / stabilityRuns.length;
  onStageDone?.('stability');

  return { clustering, candidates, validation: { ...metrics, stability, stabilityRuns }, reason };
}

function checkOptions(o: SelectionOptions): void {
  const positiveInteger = (value: number) => Number.isInteger(value) && value >= 1;
  const count = (value: number) => Number.isInteger(value) && value >= 0;
  const problems = [
    positiveInteger(o.kMin) ? null : `kMin must be a positive integer, not ${o.kMin}`,
    positiveInteger(o.kMax) && o.kMax >= o.kMin ? null : `kMax must be an integer >= kMin, not ${o.kMax}`,
    o.minShare >= 0 && o.minShare <= 1 ? null : `minShare must be within [0, 1], not ${o.minShare}`,
    Number.isFinite(o.seed) ? null : `seed must be a finite number, not ${o.seed}`,
    positiveInteger(o.selectionSample) ? null : `selectionSample must be a positive integer`,
    positiveInteger(o.silhouetteSample) ? null : `silhouetteSample must be a positive integer`,
    count(o.stabilitySeeds) ? null : `stabilitySeeds must be a non-negative integer`,
  ].filter((problem) => problem !== null);
  if (problems.length > 0) throw new RangeError(`chooseClustering: ${problems.join('; ')}`);
}

interface CandidateRange {
  low: number;
  high: number;
  /** The number of distinct points of the sample, counted up to kMax. */
  distinct: number;
}

/** [kMin, kMax], capped at the number of distinct points: k-means cannot place more centroids. */
function candidateRange(sample: readonly number[][], options: SelectionOptions): CandidateRange {
  const distinct = countDistinct(sample, options.kMax);
  const high = Math.min(options.kMax, distinct);
  return { low: Math.min(options.kMin, high), high, distinct };
}

function evaluate(sample: readonly number[][], fit: Clustering, options: SelectionOptions): Candidate {
  const sizes = new Array<number>(fit.k).fill(0);
  for (const label of fit.labels) sizes[label] = (sizes[label] ?? 0) + 1;
  const smallestShare = Math.min(...sizes) / sample.length;
  return {
    k: fit.k,
    silhouette: silhouette(sample, fit.labels, { sampleSize: options.silhouetteSample, seed: options.seed }),
    smallestShare,
    eligible: smallestShare >= options.minShare,
  };
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/** The eligible k with the highest silhouette (ties: the smaller k), else the most balanced k. */
function decide(
  candidates: readonly Candidate[],
  options: SelectionOptions,
  range: CandidateRange,
): { k: number; reason: string } {
  const span = range.low === range.high ? `k = ${range.low}` : `k = ${range.low}..${range.high}`;
  const capped =
    range.high < options.kMax ? `; k capped at ${range.distinct}, the number of distinct points` : '';
  if (range.distinct === 1) return { k: 1, reason: 'all points are identical: one cluster' };
  const best = firstHighest(
    candidates.filter((c) => c.eligible),
    (c) => c.silhouette,
  );
  if (best !== undefined) {
    return {
      k: best.k,
      reason:
        `k = ${best.k}: the highest silhouette (${best.silhouette.toFixed(3)}) of ${span} ` +
        `with every cluster holding at least ${percent(options.minShare)} of the customers${capped}`,
    };
  }
  const fallback = firstHighest(candidates, (c) => c.smallestShare) ?? { k: range.low, smallestShare: 0 };
  return {
    k: fallback.k,
    reason:
      `no k of ${span} keeps every cluster at ${percent(options.minShare)} of the customers or more: ` +
      `k = ${fallback.k} has the largest smallest cluster (${percent(fallback.smallestShare)})${capped}`,
  };
}

/** The first item with the highest score: candidates ascend in k, so ties go to the smaller k. */
function firstHighest<T>(items: readonly T[], score: (item: T) => number): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (best === undefined || score(item) > score(best)) best = item;
  }
  return best;
}
