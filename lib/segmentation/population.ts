// One population (buyers or prospects) through the clustering pipeline: features -> log1p and robust
// scaling -> K-means with k chosen by silhouette -> a business name and reasons per cluster and customer.

import { assignNearest } from '../clustering/kmeans.js';
import { type FeatureScaling, fitScaling, scaleRows } from '../clustering/scale.js';
import { type ClusteringResult, chooseClustering } from '../clustering/select.js';
import { stageTimings } from '../timings.js';
import { type CustomerFeatures, type FeatureName, LOGGED_FEATURES } from './features.js';
import type { RunParameters } from './model.js';
import { explained, medianValues, type Named, PopulationProfile, type Reason } from './naming.js';
import type { SegmentId } from './segments.js';

/** Below this many members a population is not clustered: it is one cluster, still named by the rules. */
export const MIN_CLUSTERED = 30;

export interface ClusterReport {
  readonly cluster: number;
  readonly segment: SegmentId;
  readonly size: number;
  readonly share: number;
  /** The centroid in the scaled space, in `features` order. */
  readonly centroid: number[];
  /** The cluster's median member, raw values. */
  readonly medians: Record<string, number>;
  readonly drivers: FeatureName[];
  readonly reasons: Reason[];
}

export interface PopulationResult {
  readonly size: number;
  /** Features of the population (naming and reasons look at all of them). */
  readonly described: FeatureName[];
  /** Features clustered on (constant ones dropped). */
  readonly features: string[];
  readonly dropped: string[];
  readonly k: number;
  readonly selection: Pick<ClusteringResult, 'candidates' | 'validation' | 'reason'> | null;
  readonly clusters: ClusterReport[];
  readonly labels: Int32Array;
  readonly distances: Float64Array;
  readonly profile: PopulationProfile;
  readonly timings: Record<string, number>;
}

export type Namer<S extends SegmentId> = (
  median: Readonly<Record<FeatureName, number>>,
  members: readonly CustomerFeatures[],
  population: PopulationProfile,
) => Named<S>;

export function clusterPopulation<S extends SegmentId>(
  members: readonly CustomerFeatures[],
  features: readonly FeatureName[],
  parameters: RunParameters,
  name: Namer<S>,
): PopulationResult {
  const { timings, timed } = stageTimings();
  const profile = timed('profile', () => new PopulationProfile(members, features));
  const rows = members.map((m) => features.map((f) => m.values[f]));
  const scaling: FeatureScaling = timed('scale', () => fitScaling(rows, features, LOGGED_FEATURES));
  const points = timed('scale', () => scaleRows(scaling, rows, features));
  const clusterable = members.length >= MIN_CLUSTERED && scaling.features.length > 0;
  const result = clusterable
    ? timed('kmeans', () =>
        chooseClustering(points, {
          kMin: parameters.kMin,
          kMax: parameters.kMax,
          minShare: parameters.minShare,
          seed: parameters.seed,
          selectionSample: parameters.selectionSample,
          silhouetteSample: parameters.silhouetteSample,
          stabilitySeeds: parameters.stabilitySeeds,
        }),
      )
    : null;
  const centroids = result?.clustering.centroids ?? [centroidOf(points, scaling.features.length)];
  const { labels, distances } = timed('assign', () => assignNearest(points, centroids));
  const clusters = timed('name', () => nameClusters(members, features, labels, centroids, profile, name));
  return {
    size: members.length,
    described: [...features],
    features: scaling.features,
    dropped: scaling.dropped,
    k: centroids.length,
    selection: result
      ? { candidates: result.candidates, validation: result.validation, reason: result.reason }
      : null,
    clusters,
    labels,
    distances,
    profile,
    timings,
  };
}

function centroidOf(points: readonly number[][], dims: number): number[] {
  const sum = new Array<number>(dims).fill(0);
  for (const p of points) for (let d = 0; d < dims; d++) sum[d] = (sum[d] ?? 0) + (p[d] ?? 0);
  return sum.map((s) => (points.length === 0 ? 0 : s / points.length));
}

function nameClusters<S extends SegmentId>(
  members: readonly CustomerFeatures[],
  features: readonly FeatureName[],
  labels: Int32Array,
  centroids: readonly number[][],
  profile: PopulationProfile,
  name: Namer<S>,
): ClusterReport[] {
  const byCluster: CustomerFeatures[][] = centroids.map(() => []);
  labels.forEach((label, i) => {
    const member = members[i];
    if (member) byCluster[label]?.push(member);
  });
  return byCluster.map((inCluster, cluster) => {
    const medians = medianValues(inCluster, features);
    const named = name(medians, inCluster, profile);
    return {
      cluster,
      segment: named.segment,
      size: inCluster.length,
      share: members.length === 0 ? 0 : Math.round((inCluster.length / members.length) * 10_000) / 10_000,
      centroid: (centroids[cluster] ?? []).map((x) => Math.round(x * 10_000) / 10_000),
      medians,
      drivers: named.drivers,
      reasons: profile.reasons(medians, named.drivers).map(explained),
    };
  });
}
