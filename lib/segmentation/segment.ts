// The pure heart of a run: customer features in, assignments and per-population results out. No I/O, so
// the benchmark and the tests run exactly what the Lambda runs.
import {
  BUYER_FEATURES,
  type CustomerFeatures,
  type FeatureName,
  PROSPECT_FEATURES,
  rfmValuesOf,
} from './features.js';
import type { Assignment, RunParameters } from './model.js';
import { medianValues, nameBuyerCluster, nameProspectCluster } from './naming.js';
import { clusterPopulation, type PopulationResult } from './population.js';
import { RfmScorer, rfmSegment } from './rfm.js';
import type { SegmentId } from './segments.js';

export interface Segmentation {
  readonly assignments: Assignment[];
  readonly buyers: PopulationResult;
  readonly prospects: PopulationResult;
  /** Median member of a segment over the given features (for the report). */
  readonly medians: (segment: SegmentId, features: readonly FeatureName[]) => Record<string, number>;
  readonly timings: Record<string, number>;
}

export function segmentCustomers(all: readonly CustomerFeatures[], parameters: RunParameters): Segmentation {
  // Sorted by id: the clustering sees the same order on every run, whatever order the customers came in.
  const sorted = [...all].sort((a, b) =>
    a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0,
  );
  const buyerList = sorted.filter((c) => c.buyer);
  const prospectList = sorted.filter((c) => !c.buyer);
  const started = performance.now();
  const scorer = new RfmScorer(buyerList.map(rfmValuesOf));
  const rfmMs = Math.round(performance.now() - started);
  const buyers = clusterPopulation(buyerList, BUYER_FEATURES, parameters, (median, _m, population) =>
    nameBuyerCluster(median, population),
  );
  const prospects = clusterPopulation(prospectList, PROSPECT_FEATURES, parameters, nameProspectCluster);
  const assignStart = performance.now();
  const assignments: Assignment[] = [
    ...assign(buyerList, buyers, 'buyers', scorer),
    ...assign(prospectList, prospects, 'prospects', undefined),
  ];
  const bySegment = new Map<SegmentId, CustomerFeatures[]>();
  const featuresOf = new Map(sorted.map((c) => [c.customerId, c]));
  for (const a of assignments) {
    const member = featuresOf.get(a.customerId);
    if (!member) continue;
    const list = bySegment.get(a.segment);
    if (list) list.push(member);
    else bySegment.set(a.segment, [member]);
  }
  return {
    assignments,
    buyers,
    prospects,
    medians: (segment, features) => medianValues(bySegment.get(segment) ?? [], features),
    timings: { rfm: rfmMs, assignments: Math.round(performance.now() - assignStart) },
  };
}

function assign(
  members: readonly CustomerFeatures[],
  result: PopulationResult,
  population: 'buyers' | 'prospects',
  scorer: RfmScorer | undefined,
): Assignment[] {
  return members.map((member, i) => {
    const cluster = result.labels[i] ?? 0;
    const report = result.clusters[cluster];
    if (!report) throw new Error(`customer ${member.customerId} has no cluster ${cluster}`);
    const drivers = result.clusters[cluster]?.drivers ?? [];
    const reasons = result.profile.reasons(member.values, drivers);
    const assignment: Assignment = {
      customerId: member.customerId,
      segment: report.segment,
      population,
      cluster,
      distance: Math.round((result.distances[i] ?? 0) * 10_000) / 10_000,
      reasons: reasons.map((r) => r.text),
      reasonCodes: reasons.map((r) => r.code),
    };
    if (scorer) {
      const values = rfmValuesOf(member);
      const scores = scorer.score(values);
      assignment.rfm = { ...values, ...scores, segment: rfmSegment(scores) };
    }
    return assignment;
  });
}
