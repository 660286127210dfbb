// The run report: what a marketer and an auditor need to trust a run — inputs, per-stage times, the k
// chosen and why, validation metrics, per-segment sizes, centroids, RFM and behavior statistics with
// reasons, the RFM labelling, and the transitions since the previous run.
import type { FeatureName } from './features.js';
import type { Assignment, RunParameters } from './model.js';
import type { Reason } from './naming.js';
import type { ClusterReport, PopulationResult } from './population.js';
import { RFM_SEGMENTS, type RfmSegment } from './rfm.js';
import { SEGMENT_IDS, SEGMENTS, type SegmentId } from './segments.js';
import type { Transitions } from './transitions.js';

export interface SegmentReport {
  id: SegmentId;
  title: string;
  population: 'buyers' | 'prospects';
  rule: string;
  size: number;
  /** Share of all customers. */
  share: number;
  clusters: number[];
  /** Median member of the segment, raw feature values. */
  medians: Record<string, number>;
  /** Mean RFM scores of the segment's buyers. */
  rfmScores?: { r: number; f: number; m: number };
  reasons: Reason[];
}

export interface PopulationReport {
  size: number;
  features: string[];
  dropped: string[];
  k: number;
  selection: PopulationResult['selection'];
  clusters: Omit<ClusterReport, 'drivers'>[];
  timingsMs: Record<string, number>;
}

export interface RunReport {
  runId: string;
  asOf: string;
  parameters: RunParameters;
  codeVersion: string;
  generatedAt: string;
  input: { objects: number; events: number; eventsAfterAsOf: number; customers: number };
  stagesMs: Record<string, number>;
  populations: { buyers: PopulationReport; prospects: PopulationReport };
  segments: SegmentReport[];
  rfmSegments: Record<RfmSegment, number>;
  transitions: Transitions | null;
}

export function populationReport(p: PopulationResult): PopulationReport {
  return {
    size: p.size,
    features: p.features,
    dropped: p.dropped,
    k: p.k,
    selection: p.selection,
    clusters: p.clusters.map(({ drivers: _drivers, ...c }) => c),
    timingsMs: p.timings,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function segmentReports(
  populations: readonly PopulationResult[],
  assignments: readonly Assignment[],
  medians: (segment: SegmentId, features: readonly FeatureName[]) => Record<string, number>,
): SegmentReport[] {
  const total = assignments.length;
  const out: SegmentReport[] = [];
  for (const id of SEGMENT_IDS) {
    const members = assignments.filter((a) => a.segment === id);
    if (members.length === 0) continue;
    const definition = SEGMENTS[id];
    const population = populations.find((p) => p.clusters.some((c) => c.segment === id));
    const clusters = population?.clusters.filter((c) => c.segment === id) ?? [];
    const drivers = clusters[0]?.drivers ?? [];
    const segmentMedians = medians(id, population?.described ?? []);
    const scored = members.filter((a) => a.rfm !== undefined);
    const mean = (pick: (a: Assignment) => number) =>
      round2(scored.reduce((sum, a) => sum + pick(a), 0) / Math.max(1, scored.length));
    const report: SegmentReport = {
      id,
      title: definition.title,
      population: definition.population,
      rule: definition.rule,
      size: members.length,
      share: round2((members.length / Math.max(1, total)) * 100) / 100,
      clusters: clusters.map((c) => c.cluster),
      medians: segmentMedians,
      reasons: population
        ? population.profile.reasons(segmentMedians as Record<FeatureName, number>, drivers)
        : [],
    };
    if (scored.length > 0) {
      report.rfmScores = {
        r: mean((a) => a.rfm?.r ?? 0),
        f: mean((a) => a.rfm?.f ?? 0),
        m: mean((a) => a.rfm?.m ?? 0),
      };
    }
    out.push(report);
  }
  return out;
}

export function rfmSegmentCounts(assignments: readonly Assignment[]): Record<RfmSegment, number> {
  const counts = Object.fromEntries(RFM_SEGMENTS.map((s) => [s, 0])) as Record<RfmSegment, number>;
  for (const a of assignments) if (a.rfm) counts[a.rfm.segment]++;
  return counts;
}
