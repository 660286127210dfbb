// The pure heart of a run: customer features in, clusters and named segments out. No I/O, so the
// benchmark and the tests run exactly what the Lambda runs.
//
// Assignments are built on demand, chunk by chunk: with a million customers, their reasons alone would
// take hundreds of MB of heap if all were built at once. Reasons are figures here; words come on read. What is kept per
// customer is compact (cluster label, distance, features); counts and RFM statistics come from it.

import type { Predictions } from '../models/predictions.js';
import type { PurchaseDays } from '../models/purchases.js';
import {
  BUYER_FEATURES,
  type CustomerFeatures,
  type FeatureName,
  PROSPECT_FEATURES,
  rfmValuesOf,
} from './features.js';
import type { AssignmentRecord, RunParameters } from './model.js';
import { medianValues, nameBuyerCluster, nameProspectCluster } from './naming.js';
import { clusterPopulation, type PopulationResult } from './population.js';
import { RFM_SEGMENTS, RfmScorer, type RfmScores, type RfmSegment, rfmSegment } from './rfm.js';
import type { SegmentId } from './segments.js';

export interface SegmentStats {
  readonly size: number;
  /** Sums of the RFM scores of the segment's buyers, and how many they are. */
  readonly rfmSums: RfmScores;
  readonly buyers: number;
}

export interface Segmentation {
  /** Customers, buyers first, each population in customer id order. */
  readonly size: number;
  readonly buyers: PopulationResult;
  readonly prospects: PopulationResult;
  /** Customer i's assignment, with the figures of its reasons, built now. */
  assignment(i: number): AssignmentRecord;
  /** Every assignment in order, in chunks, each built as its chunk is read. */
  chunks(size: number): Generator<AssignmentRecord[]>;
  segmentAt(i: number): SegmentId;
  readonly stats: ReadonlyMap<SegmentId, SegmentStats>;
  readonly rfmLabels: Record<RfmSegment, number>;
  /** Median member of a segment over the given features (for the report). */
  medians(segment: SegmentId, features: readonly FeatureName[]): Record<string, number>;
  readonly timings: Record<string, number>;
}

/** The fitted predictive models, as segmentation uses them (models/nightly.ts). */
export interface Predictor {
  predict(customer: CustomerFeatures): Predictions | undefined;
  stage(purchases: PurchaseDays): Predictions['lifecycle'] | undefined;
}

/**
 * Absolute before relative: a buyer the models call dormant or lost (their own rhythm, P(alive)) is in
 * the dormant segment and gets a lost or hibernating RFM label, whatever cluster and quintile they fall
 * in. A base gone for years has a "top quintile" too; it is not made of champions.
 */
type Stage = Predictions['lifecycle'] | undefined;

/** Lost: dormant, whatever the cluster. Dormant: dormant too, unless their cluster says churn risk. */
const absoluteSegment = (segment: SegmentId, stage: Stage): SegmentId =>
  stage === 'lost' || (stage === 'dormant' && segment !== 'churn-risk') ? 'dormant' : segment;

function absoluteRfm(scores: RfmScores, stage: Stage): RfmSegment {
  if (stage === 'lost') return 'lost';
  if (stage === 'dormant') return scores.f >= 4 ? 'cant-lose' : 'hibernating';
  return rfmSegment(scores);
}

const byId = (a: CustomerFeatures, b: CustomerFeatures) =>
  a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0;

export function segmentCustomers(
  all: readonly CustomerFeatures[],
  parameters: RunParameters,
  models?: Predictor,
): Segmentation {
  // Sorted by id: the clustering sees the same order on every run, whatever order the customers came in.
  const buyerList = all.filter((c) => c.buyer).sort(byId);
  const prospectList = all.filter((c) => !c.buyer).sort(byId);
  const started = performance.now();
  const scorer = new RfmScorer(buyerList.map(rfmValuesOf));
  const rfmMs = Math.round(performance.now() - started);
  const buyers = clusterPopulation(buyerList, BUYER_FEATURES, parameters, (median, _m, population) =>
    nameBuyerCluster(median, population),
  );
  const prospects = clusterPopulation(prospectList, PROSPECT_FEATURES, parameters, nameProspectCluster);
  const nb = buyerList.length;
  const size = nb + prospectList.length;
  // Each buyer's lifecycle stage, once (a byte each: a million buyers' full predictions would not fit
  // beside the rest; they are built with the assignments, chunk by chunk).
  const stages: Stage[] = models ? buyerList.map((b) => models.stage(b.purchases)) : [];

  const locate = (i: number) =>
    i < nb
      ? { member: buyerList[i], result: buyers, at: i, population: 'buyers' as const }
      : { member: prospectList[i - nb], result: prospects, at: i - nb, population: 'prospects' as const };

  const segmentAt = (i: number): SegmentId => {
    const { result, at } = locate(i);
    const report = result.clusters[result.labels[at] ?? 0];
    if (!report) throw new Error(`customer ${i} has no cluster`);
    return absoluteSegment(report.segment, stages[i]);
  };

  const assignment = (i: number): AssignmentRecord => {
    const { member, result, at, population } = locate(i);
    if (!member) throw new RangeError(`no customer ${i}`);
    const cluster = result.labels[at] ?? 0;
    const report = result.clusters[cluster];
    if (!report) throw new Error(`customer ${member.customerId} has no cluster ${cluster}`);
    const out: AssignmentRecord = {
      customerId: member.customerId,
      segment: segmentAt(i),
      population,
      cluster,
      distance: Math.round((result.distances[at] ?? 0) * 10_000) / 10_000,
      reasons: result.profile.reasons(member.values, report.drivers),
    };
    if (population === 'buyers') {
      const values = rfmValuesOf(member);
      const scores = scorer.score(values);
      out.rfm = { ...values, ...scores, segment: absoluteRfm(scores, stages[i]) };
      const predictions = models?.predict(member);
      if (predictions) out.predictions = predictions;
    }
    return out;
  };

  const statsStart = performance.now();
  const { stats, rfmLabels, members } = statistics(buyerList, prospectList, segmentAt, scorer, (i, scores) =>
    absoluteRfm(scores, stages[i]),
  );
  return {
    size,
    buyers,
    prospects,
    assignment,
    *chunks(chunkSize) {
      for (let i = 0; i < size; i += chunkSize) {
        const chunk: AssignmentRecord[] = [];
        for (let j = i; j < Math.min(size, i + chunkSize); j++) chunk.push(assignment(j));
        yield chunk;
      }
    },
    segmentAt,
    stats,
    rfmLabels,
    medians: (segment, features) => medianValues(members.get(segment) ?? [], features),
    timings: { rfm: rfmMs, statistics: Math.round(performance.now() - statsStart) },
  };
}

/** Segment sizes, RFM score sums and label counts, and the members of each segment, in one pass. */
function statistics(
  buyerList: readonly CustomerFeatures[],
  prospectList: readonly CustomerFeatures[],
  segmentAt: (i: number) => SegmentId,
  scorer: RfmScorer,
  label: (i: number, scores: RfmScores) => RfmSegment,
) {
  const stats = new Map<SegmentId, { size: number; rfmSums: RfmScores; buyers: number }>();
  const rfmLabels = Object.fromEntries(RFM_SEGMENTS.map((s) => [s, 0])) as Record<RfmSegment, number>;
  const members = new Map<SegmentId, CustomerFeatures[]>();
  [...buyerList, ...prospectList].forEach((member, i) => {
    const segment = segmentAt(i);
    const s = stats.get(segment) ?? { size: 0, rfmSums: { r: 0, f: 0, m: 0 }, buyers: 0 };
    s.size++;
    if (member.buyer) {
      const scores = scorer.score(rfmValuesOf(member));
      s.rfmSums.r += scores.r;
      s.rfmSums.f += scores.f;
      s.rfmSums.m += scores.m;
      s.buyers++;
      rfmLabels[label(i, scores)]++;
    }
    stats.set(segment, s);
    const list = members.get(segment);
    if (list) list.push(member);
    else members.set(segment, [member]);
  });
  return { stats, rfmLabels, members };
}
