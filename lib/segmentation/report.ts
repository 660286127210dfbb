// The run report: what a marketer and an auditor need to trust a run — inputs, per-stage times, the k
// chosen and why, validation metrics, per-segment sizes, centroids, RFM and behavior statistics with
// reasons, the RFM labelling, and the transitions since the previous run.
import type { ModelReport } from '../models/nightly.js';
import type { RecommendationReport } from '../models/recommend.js';
import type { FeatureName } from './features.js';
import type { RunParameters } from './model.js';
import { explained, type Reason } from './naming.js';
import type { ClusterReport, PopulationResult } from './population.js';
import type { RunHistory } from './reader.js';
import type { RfmSegment } from './rfm.js';
import type { Segmentation } from './segment.js';
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
  input: RunHistory['input'];
  stagesMs: Record<string, number>;
  populations: { buyers: PopulationReport; prospects: PopulationReport };
  segments: SegmentReport[];
  rfmSegments: Record<RfmSegment, number>;
  /** The predictive models: fits, the holdout check, lifecycle stages (lib/models); absent before them. */
  models?: ModelReport & { recommendations: RecommendationReport | null };
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

export function segmentReports(result: Segmentation): SegmentReport[] {
  const populations = [result.buyers, result.prospects];
  const out: SegmentReport[] = [];
  for (const id of SEGMENT_IDS) {
    const stats = result.stats.get(id);
    if (!stats || stats.size === 0) continue;
    const definition = SEGMENTS[id];
    const population = populations.find((p) => p.clusters.some((c) => c.segment === id));
    const clusters = population?.clusters.filter((c) => c.segment === id) ?? [];
    const drivers = clusters[0]?.drivers ?? [];
    const medians = result.medians(id, population?.described ?? []);
    const mean = (sum: number) => round2(sum / Math.max(1, stats.buyers));
    const report: SegmentReport = {
      id,
      title: definition.title,
      population: definition.population,
      rule: definition.rule,
      size: stats.size,
      share: Math.round((stats.size / Math.max(1, result.size)) * 10_000) / 10_000,
      clusters: clusters.map((c) => c.cluster),
      medians,
      reasons: population
        ? population.profile.reasons(medians as Record<FeatureName, number>, drivers).map(explained)
        : [],
    };
    if (stats.buyers > 0) {
      report.rfmScores = { r: mean(stats.rfmSums.r), f: mean(stats.rfmSums.f), m: mean(stats.rfmSums.m) };
    }
    out.push(report);
  }
  return out;
}
