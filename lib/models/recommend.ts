// Recommendations by item-to-item collaborative filtering (Linden, Smith and York 2003, Amazon's): two
// items are similar when the same customers engage with both (cosine over customers, each customer's
// engagement a weighted count of views, cart adds and purchases, damped by log1p so one heavy customer
// does not make a pair); a customer's candidates are the neighbours of what they engaged with, scored by
// that engagement times the similarity. Items they bought recently are left out (a customer who just
// bought a kettle wants a kettle no more); popularity fills in for customers with too little history.
// Checked offline on a holdout: hit rate and recall at N against the popularity baseline.

/** What a customer did with an item before the as-of time. */
export interface Interaction {
  readonly customer: string;
  readonly item: string;
  readonly views: number;
  readonly cartAdds: number;
  readonly purchases: number;
  /** UTC day of their latest purchase of it (null: never bought). */
  readonly lastPurchaseDay: number | null;
}

export const WEIGHTS = { view: 1, cartAdd: 3, purchase: 5 } as const;

/** An interaction as history gives it: over the whole window, and before the holdout day. */
export interface ProductInteraction extends Interaction {
  readonly calibration: Pick<Interaction, 'views' | 'cartAdds' | 'purchases' | 'lastPurchaseDay'>;
  /** Bought from the holdout day on: what the offline check should find. */
  readonly boughtInHoldout: boolean;
}

export interface RecommenderOptions {
  /** Neighbours kept per item. */
  readonly neighbours?: number;
  /** A customer's items counted in pairs at most (their heaviest): pairs grow with its square. */
  readonly itemsPerCustomer?: number;
  /** Days a purchase stays "recent" (not recommended again). */
  readonly recentDays?: number;
}

export interface Recommendation {
  readonly item: string;
  readonly score: number;
  /** The item of theirs that contributed most (null: from popularity). */
  readonly because: string | null;
}

interface Neighbour {
  readonly item: number;
  readonly similarity: number;
}

export interface Recommender {
  readonly items: number;
  readonly customers: number;
  /** Item pairs with a similarity (before keeping the top neighbours). */
  readonly pairs: number;
  /** The top `n` for a customer's interactions, as of `today` (a day number). */
  recommend(interactions: readonly Interaction[], n: number, today: number): Recommendation[];
}

const engagement = (i: Interaction) =>
  Math.log1p(i.views * WEIGHTS.view + i.cartAdds * WEIGHTS.cartAdd + i.purchases * WEIGHTS.purchase);

export function fitRecommender(all: readonly Interaction[], options: RecommenderOptions = {}): Recommender {
  const neighbours = options.neighbours ?? 20;
  const cap = options.itemsPerCustomer ?? 100;
  const recentDays = options.recentDays ?? 30;
  const ids = new Map<string, number>();
  const names: string[] = [];
  const indexOf = (item: string) => {
    let i = ids.get(item);
    if (i === undefined) {
      i = names.length;
      ids.set(item, i);
      names.push(item);
    }
    return i;
  };
  const byCustomer = new Map<string, { item: number; w: number }[]>();
  const buyers: number[] = [];
  for (const x of all) {
    const w = engagement(x);
    if (!(w > 0)) continue;
    const item = indexOf(x.item);
    const list = byCustomer.get(x.customer) ?? [];
    list.push({ item, w });
    byCustomer.set(x.customer, list);
    if (x.purchases > 0) buyers[item] = (buyers[item] ?? 0) + 1;
  }
  const n = names.length;
  // Each customer's heaviest `cap` items: pairs grow with the square of a basket.
  const baskets: { item: number; w: number }[][] = [];
  const norms = new Float64Array(n);
  for (const list of byCustomer.values()) {
    const top = list.length > cap ? [...list].sort((a, b) => b.w - a.w).slice(0, cap) : list;
    for (const a of top) norms[a.item] = (norms[a.item] as number) + a.w * a.w;
    baskets.push(top);
  }
  const { similar, pairs } = neighboursOf(baskets, norms, neighbours);
  const popular = names
    .map((_, i) => i)
    .filter((i) => (buyers[i] ?? 0) > 0)
    .sort((a, b) => (buyers[b] ?? 0) - (buyers[a] ?? 0) || a - b);

  return {
    items: n,
    customers: byCustomer.size,
    pairs,
    recommend(interactions, count, today) {
      const recent = new Set(
        interactions
          .filter((x) => x.lastPurchaseDay !== null && today - x.lastPurchaseDay < recentDays)
          .map((x) => x.item),
      );
      const scores = new Map<number, { score: number; best: number; because: number }>();
      for (const x of interactions) {
        const from = ids.get(x.item);
        if (from === undefined) continue;
        const w = engagement(x);
        for (const { item, similarity } of similar[from] ?? []) {
          const contribution = w * similarity;
          const s = scores.get(item) ?? { score: 0, best: 0, because: from };
          s.score += contribution;
          if (contribution > s.best) {
            s.best = contribution;
            s.because = from;
          }
          scores.set(item, s);
        }
      }
      const out: Recommendation[] = [...scores]
        .filter(([item]) => !recent.has(names[item] as string))
        .sort((a, b) => b[1].score - a[1].score || a[0] - b[0])
        .slice(0, count)
        .map(([item, s]) => ({
          item: names[item] as string,
          score: Math.round(s.score * 1000) / 1000,
          because: names[s.because] as string,
        }));
      const taken = new Set(out.map((r) => r.item));
      for (const item of popular) {
        if (out.length >= count) break;
        const name = names[item] as string;
        if (taken.has(name) || recent.has(name)) continue;
        out.push({ item: name, score: 0, because: null });
        taken.add(name);
      }
      return out;
    },
  };
}

/**
 * Every item's `keep` most similar items (cosine over the customers' weights), item by item: an inverted
 * index (item -> baskets holding it) and one accumulator the size of the catalogue, reset between items.
 * Memory is the interactions plus one array, whatever the number of pairs (a map of every pair outgrows a
 * JavaScript Map's 2^24 entries long before a million customers); each pair is summed once from each side.
 */
function neighboursOf(
  baskets: readonly (readonly { item: number; w: number }[])[],
  norms: Float64Array,
  keep: number,
): { similar: Neighbour[][]; pairs: number } {
  const n = norms.length;
  // item -> (basket, the item's weight in it)
  const holding: { basket: number; w: number }[][] = Array.from({ length: n }, () => []);
  baskets.forEach((basket, b) => {
    for (const { item, w } of basket)
      (holding[item] as { basket: number; w: number }[]).push({ basket: b, w });
  });
  const dots = new Float64Array(n);
  const touched: number[] = [];
  const similar: Neighbour[][] = [];
  let pairs = 0;
  for (let a = 0; a < n; a++) {
    for (const { basket: b, w: wa } of holding[a] as { basket: number; w: number }[]) {
      for (const { item, w } of baskets[b] as { item: number; w: number }[]) {
        if (item === a) continue;
        if (dots[item] === 0) touched.push(item);
        dots[item] = (dots[item] as number) + wa * w;
      }
    }
    const list: Neighbour[] = touched.map((item) => ({
      item,
      similarity: (dots[item] as number) / Math.sqrt((norms[a] as number) * (norms[item] as number)),
    }));
    pairs += touched.length;
    for (const item of touched) dots[item] = 0;
    touched.length = 0;
    similar.push(list.sort((x, y) => y.similarity - x.similarity || x.item - y.item).slice(0, keep));
  }
  return { similar, pairs: pairs / 2 };
}

export interface RecommendationCheck {
  /** Customers with at least one purchase in the holdout and history before it. */
  readonly customers: number;
  readonly n: number;
  /** Share of them with at least one holdout purchase among their top n; recall: holdout items found. */
  readonly hitRate: number;
  readonly recall: number;
  readonly popularity: { readonly hitRate: number; readonly recall: number };
}

/**
 * Offline check: fit on the interactions before the holdout, recommend `n` per customer as of its first
 * day, and compare with the items each bought in it; the same for the `n` most popular items (less the
 * customer's recent purchases).
 */
export function checkRecommendations(
  train: readonly Interaction[],
  heldOut: ReadonlyMap<string, ReadonlySet<string>>,
  holdoutDay: number,
  n = 10,
  options: RecommenderOptions = {},
): RecommendationCheck {
  const model = fitRecommender(train, options);
  const byCustomer = new Map<string, Interaction[]>();
  for (const x of train) {
    const list = byCustomer.get(x.customer) ?? [];
    list.push(x);
    byCustomer.set(x.customer, list);
  }
  let customers = 0;
  let hits = 0;
  let recall = 0;
  let popularHits = 0;
  let popularRecall = 0;
  for (const [customer, bought] of heldOut) {
    const history = byCustomer.get(customer);
    if (!history || bought.size === 0) continue;
    customers++;
    const found = model.recommend(history, n, holdoutDay).filter((r) => bought.has(r.item)).length;
    const popular = model.recommend([], n + history.length, holdoutDay);
    const recent = new Set(
      history
        .filter(
          (x) => x.lastPurchaseDay !== null && holdoutDay - x.lastPurchaseDay < (options.recentDays ?? 30),
        )
        .map((x) => x.item),
    );
    const popularFound = popular
      .filter((r) => !recent.has(r.item))
      .slice(0, n)
      .filter((r) => bought.has(r.item)).length;
    if (found > 0) hits++;
    if (popularFound > 0) popularHits++;
    recall += found / bought.size;
    popularRecall += popularFound / bought.size;
  }
  const share = (x: number) => (customers === 0 ? 0 : Math.round((x / customers) * 1000) / 1000);
  return {
    customers,
    n,
    hitRate: share(hits),
    recall: share(recall),
    popularity: { hitRate: share(popularHits), recall: share(popularRecall) },
  };
}

/** Customers the offline check learns from and scores at most (a fixed sample beyond). */
export const CHECK_SAMPLE = 100_000;

/**
 * Whether a customer is in the check: everyone up to CHECK_SAMPLE customers, else those whose id hashes
 * (FNV-1a) below the share that keeps about CHECK_SAMPLE of them, the same customers every night.
 */
function checkSample(rows: readonly ProductInteraction[]): (customer: string) => boolean {
  const customers = new Set(rows.map((r) => r.customer)).size;
  if (customers <= CHECK_SAMPLE) return () => true;
  const threshold = (CHECK_SAMPLE / customers) * 2 ** 32;
  return (customer) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < customer.length; i++) h = Math.imul(h ^ customer.charCodeAt(i), 0x01000193) >>> 0;
    return h < threshold;
  };
}

/** Recommendations kept per customer. */
export const RECOMMENDATIONS = 10;
/**
 * The window of interactions a night learns from, ending at the last product event before the run's
 * as-of time: tastes and catalogues move, and a base quiet for a while still has its last year.
 */
export const INTERACTION_DAYS = 365;

export interface RecommendationReport {
  /** Days of interactions before the as-of time. */
  readonly windowDays: number;
  readonly interactions: number;
  readonly customers: number;
  readonly items: number;
  readonly pairs: number;
  /** The best sellers a customer without history gets. */
  readonly popular: string[];
  /** Fitted before the holdout, checked on what customers bought in it. */
  readonly check: RecommendationCheck;
}

export interface NightlyRecommendations {
  readonly report: RecommendationReport;
  /** A customer's top recommendations (best sellers for one without interactions). */
  forCustomer(customerId: string): Recommendation[];
}

/**
 * The run's recommendations from its interactions (in customer order, as history SQL returns them):
 * the model on the whole window recommends, the one on the days before the holdout is checked.
 */
export function nightlyRecommendations(
  rows: readonly ProductInteraction[],
  holdoutDay: number,
  today: number,
): NightlyRecommendations {
  const model = fitRecommender(rows);
  // The check is an estimate: past CHECK_SAMPLE customers it learns and is scored on a fixed sample.
  const inCheck = checkSample(rows);
  const train = rows
    .filter(
      (r) =>
        inCheck(r.customer) && r.calibration.views + r.calibration.cartAdds + r.calibration.purchases > 0,
    )
    .map((r) => ({ customer: r.customer, item: r.item, ...r.calibration }));
  const heldOut = new Map<string, Set<string>>();
  for (const r of rows) {
    if (!r.boughtInHoldout || !inCheck(r.customer)) continue;
    const set = heldOut.get(r.customer) ?? new Set<string>();
    set.add(r.item);
    heldOut.set(r.customer, set);
  }
  const check = checkRecommendations(train, heldOut, holdoutDay, RECOMMENDATIONS);
  const byCustomer = new Map<string, ProductInteraction[]>();
  for (const r of rows) {
    const list = byCustomer.get(r.customer) ?? [];
    list.push(r);
    byCustomer.set(r.customer, list);
  }
  const popular = model.recommend([], RECOMMENDATIONS, today);
  return {
    report: {
      windowDays: INTERACTION_DAYS,
      interactions: rows.length,
      customers: model.customers,
      items: model.items,
      pairs: model.pairs,
      popular: popular.map((r) => r.item),
      check,
    },
    forCustomer: (customerId) => {
      const history = byCustomer.get(customerId);
      return history ? model.recommend(history, RECOMMENDATIONS, today) : popular;
    },
  };
}
