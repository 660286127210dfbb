// Explainable names: each cluster gets a business segment from where its median customer stands in the
// population, and every segment and customer gets reason codes a marketer can read ("recency 3.1x the
// median", "frequency in the top 20 %").
import type { Predictions } from '../models/predictions.js';
import type { CustomerFeatures, FeatureName } from './features.js';
import { Distribution, medianOf } from './percentiles.js';
import type { BuyerSegment, ProspectSegment } from './segments.js';

/** What a reason is made of: stored per customer as these figures, rendered into words when read. */
export interface ReasonFigures {
  readonly feature: FeatureName;
  readonly value: number;
  /** The feature's median in the customer's population. */
  readonly median: number;
  /** Mid-rank percentile of the value in the population (0..1). */
  readonly percentile: number;
}

export interface Reason extends ReasonFigures {
  /** `<feature>:high` or `<feature>:low`, for machines. */
  readonly code: string;
  readonly text: string;
}

/** Features measured in days read best as a ratio to the median; the rest as a rank. */
const DAY_FEATURES: ReadonlySet<FeatureName> = new Set(['recencyDays', 'visitRecencyDays', 'tenureDays']);
const LABELS: Record<FeatureName, string> = {
  recencyDays: 'recency',
  frequency: 'frequency',
  monetary: 'monetary',
  averageOrderValue: 'average order value',
  visitRecencyDays: 'days since last visit',
  sessions: 'sessions',
  productViews: 'product views',
  cartAdds: 'cart adds',
  abandonmentRate: 'cart abandonment',
  shares: 'shares',
  tenureDays: 'tenure',
  categoryBreadth: 'category breadth',
  avgDwellSeconds: 'dwell time',
  appShare: 'app share',
  storeShare: 'store share',
};
/** How far from the middle (0.5) a percentile must be for a feature outside the drivers to be a reason. */
const STANDS_OUT = 0.3;
/** How far from the middle a segment driver must be to be given as a customer's reason (top or bottom 35 %)... */
const DRIVER_STANDS_OUT = 0.15;
/** ...or, for a day feature, its ratio to the median. */
const DRIVER_RATIO = 1.25;
/** Reasons given per customer, at most. */
export const REASONS_MAX = 3;

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(x < 10 ? 2 : 1));
/** 0.83 -> "top 20 %": rounded up to a multiple of 5 so texts stay readable. */
const band = (share: number): number => Math.min(100, Math.max(5, Math.ceil((share * 100) / 5) * 5));

/** The distribution of every feature over one population (buyers or prospects). */
export class PopulationProfile {
  private readonly distributions = new Map<FeatureName, Distribution>();
  private readonly middles = new Map<FeatureName, { readonly low: number; readonly high: number }>();
  readonly size: number;

  constructor(members: readonly CustomerFeatures[], features: readonly FeatureName[]) {
    this.size = members.length;
    for (const f of features) this.distributions.set(f, new Distribution(members.map((m) => m.values[f])));
  }

  private distribution(feature: FeatureName): Distribution {
    const d = this.distributions.get(feature);
    if (!d) throw new Error(`feature ${feature} is not profiled`);
    return d;
  }

  median(feature: FeatureName): number {
    return this.distribution(feature).median();
  }

  percentile(feature: FeatureName, value: number): number {
    return this.distribution(feature).percentile(value);
  }

  /** Value / median, with the median floored at 1 so a median of 0 days does not divide by zero. */
  ratio(feature: FeatureName, value: number): number {
    return value / Math.max(1, this.median(feature));
  }

  /** Surely not STANDS_OUT from the middle (a quick test; false means: look at its percentile). */
  private inMiddle(feature: FeatureName, value: number): boolean {
    let bounds = this.middles.get(feature);
    if (!bounds) {
      bounds = this.distribution(feature).middle(0.5 - STANDS_OUT);
      this.middles.set(feature, bounds);
    }
    return value >= bounds.low && value <= bounds.high;
  }

  figures(feature: FeatureName, value: number): ReasonFigures {
    return { feature, value, median: this.median(feature), percentile: this.percentile(feature, value) };
  }

  /**
   * Reasons for a value set: the drivers of its segment first, then the features where it stands furthest
   * from the middle of the population, up to three.
   */
  reasons(values: Readonly<Record<FeatureName, number>>, drivers: readonly FeatureName[]): ReasonFigures[] {
    // A driver says something about this customer only where they differ from the middle: "product views
    // in the top 50 % (0, median 0)" explains nothing.
    const telling = drivers.filter((f) => values[f] !== undefined && this.tells(f, values[f]));
    const others = [...this.distributions.keys()]
      .filter((f) => !drivers.includes(f) && values[f] !== undefined && !this.inMiddle(f, values[f]))
      .map((f) => ({ f, distance: Math.abs(this.percentile(f, values[f]) - 0.5) }))
      .filter(({ distance }) => distance >= STANDS_OUT)
      .sort((a, b) => b.distance - a.distance || (a.f < b.f ? -1 : 1))
      .map(({ f }) => f);
    return [...telling, ...others].slice(0, REASONS_MAX).map((f) => this.figures(f, values[f]));
  }

  /** Whether a driver's value is far enough from the middle to explain anything. */
  private tells(feature: FeatureName, value: number): boolean {
    if (DAY_FEATURES.has(feature)) {
      const ratio = this.ratio(feature, value);
      return ratio >= DRIVER_RATIO || ratio <= 1 / DRIVER_RATIO;
    }
    return Math.abs(this.percentile(feature, value) - 0.5) >= DRIVER_STANDS_OUT;
  }
}

/** Day features stand out when longer than the median; the rest when in the upper half. */
const isHigh = (r: ReasonFigures): boolean =>
  DAY_FEATURES.has(r.feature) ? r.value > r.median : r.percentile >= 0.5;

/** `<feature>:high` or `<feature>:low`. */
export const reasonCode = (r: ReasonFigures): string => `${r.feature}:${isHigh(r) ? 'high' : 'low'}`;

/** The words a marketer reads: "recency 3.1x the median (34 vs 11 days)", "frequency in the top 20 % (7, median 2)". */
export function reasonText(r: ReasonFigures): string {
  const label = LABELS[r.feature];
  if (DAY_FEATURES.has(r.feature)) {
    // The median floored at 1, so a median of 0 days does not divide by zero.
    const ratio = r.value / Math.max(1, r.median);
    return `${label} ${ratio.toFixed(1)}x the median (${fmt(r.value)} vs ${fmt(r.median)} days)`;
  }
  return r.percentile >= 0.5
    ? `${label} in the top ${band(1 - r.percentile)} % (${fmt(r.value)}, median ${fmt(r.median)})`
    : `${label} in the bottom ${band(r.percentile)} % (${fmt(r.value)}, median ${fmt(r.median)})`;
}

/**
 * The absolute reasons, first on every buyer's list: their lifecycle stage from their own rhythm ("lost:
 * last order 412 days ago, 8.4x their usual interval (49 days); P(alive) 0.03"), then any decline against
 * their own baseline. Rendered from the stored predictions like the other reasons.
 */
export function modelReasons(a: {
  readonly rfm?: { readonly recencyDays: number } | undefined;
  readonly predictions?: Predictions | undefined;
}): { code: string; text: string }[] {
  const p = a.predictions;
  if (!p || !a.rfm) return [];
  const days = a.rfm.recencyDays;
  const rhythm =
    p.intervalDays === null
      ? `${fmt(p.overdue)}x the usual interval between customers' orders; one order so far`
      : `${fmt(p.overdue)}x their usual interval (${fmt(Math.round(p.intervalDays))} days)`;
  const alive = p.pAlive === null ? '' : `; P(alive) ${p.pAlive.toFixed(2)}`;
  const text =
    p.lifecycle === 'new'
      ? `new: first and only order ${days} days ago`
      : `${p.lifecycle}: last order ${days} days ago, ${rhythm}${alive}`;
  return [{ code: `lifecycle:${p.lifecycle}`, text }, ...p.declines.map(declineReason)];
}

function declineReason(d: Predictions['declines'][number]): { code: string; text: string } {
  const text =
    d.kind === 'purchases'
      ? `purchases down: ${fmt(d.recent)} purchase days lately, ${fmt(d.usual)} expected at their earlier rate`
      : `visits down: no visit for ${fmt(d.recent)} days, ${fmt(d.recent / Math.max(1, d.usual))}x their usual ${fmt(d.usual)} days between sessions`;
  return { code: `decline:${d.kind}`, text };
}

/** Figures with their code and words (the report's reasons). */
export const explained = (r: ReasonFigures): Reason => ({ ...r, code: reasonCode(r), text: reasonText(r) });

export interface Named<S> {
  readonly segment: S;
  /** The features the naming rule looked at, most important first. */
  readonly drivers: FeatureName[];
}

/** The median member of a cluster, feature by feature. */
export function medianValues(
  members: readonly CustomerFeatures[],
  features: readonly FeatureName[],
): Record<FeatureName, number> {
  const out = {} as Record<FeatureName, number>;
  for (const f of features) out[f] = medianOf(members.map((m) => m.values[f]));
  return out;
}

export function nameBuyerCluster(
  median: Readonly<Record<FeatureName, number>>,
  population: PopulationProfile,
): Named<BuyerSegment> {
  const recency = population.ratio('recencyDays', median.recencyDays);
  const f = population.percentile('frequency', median.frequency);
  const m = population.percentile('monetary', median.monetary);
  const valuable = f >= 0.6 || m >= 0.6;
  if (recency >= 1.5 && valuable)
    return { segment: 'churn-risk', drivers: ['recencyDays', m >= f ? 'monetary' : 'frequency'] };
  if (recency >= 2) return { segment: 'dormant', drivers: ['recencyDays', 'frequency'] };
  if (m >= 0.75 && f >= 0.6)
    return { segment: 'high-value', drivers: ['monetary', 'frequency', 'recencyDays'] };
  if (population.ratio('tenureDays', median.tenureDays) <= 0.5 && f <= 0.5) {
    return { segment: 'new', drivers: ['tenureDays', 'frequency'] };
  }
  if (f > 0.5) return { segment: 'loyal', drivers: ['frequency', 'recencyDays'] };
  return { segment: 'growth-potential', drivers: ['recencyDays', 'frequency', 'monetary'] };
}

export function nameProspectCluster(
  median: Readonly<Record<FeatureName, number>>,
  members: readonly CustomerFeatures[],
  population: PopulationProfile,
): Named<ProspectSegment> {
  if (population.ratio('visitRecencyDays', median.visitRecencyDays) >= 2) {
    return { segment: 'cold-prospect', drivers: ['visitRecencyDays'] };
  }
  const carted = members.filter((p) => p.values.cartAdds > 0).length / Math.max(1, members.length);
  if (carted >= 0.5) return { segment: 'engaged-prospect', drivers: ['cartAdds', 'visitRecencyDays'] };
  if (population.percentile('sessions', median.sessions) >= 0.75) {
    return { segment: 'engaged-prospect', drivers: ['sessions', 'visitRecencyDays'] };
  }
  return { segment: 'browsing-prospect', drivers: ['visitRecencyDays', 'productViews'] };
}
