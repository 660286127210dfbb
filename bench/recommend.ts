// npm run bench:recommend: the run's recommendations (lib/models/recommend.ts nightlyRecommendations) on
// the Online Retail year: its purchases as (customer, product) interactions, a 90-day holdout. Prints the
// sizes, the time to fit both models and run the offline check, the time to recommend for every
// customer, the check itself, and the peak RSS.
import { onlineRetailEvents } from '../lib/datasets/index.js';
import { dayOf } from '../lib/models/purchases.js';
import { nightlyRecommendations, type ProductInteraction } from '../lib/models/recommend.js';
import { machine, mb, peakRss } from './common.js';

const AS_OF = Date.parse('2011-12-10T00:00:00Z');
const holdoutDay = dayOf(AS_OF) - 90;

interface Pair {
  customer: string;
  item: string;
  orders: Set<string>;
  before: Set<string>;
  last: number;
  lastBefore: number | null;
  held: boolean;
}

const pairs = new Map<string, Pair>();
for await (const event of onlineRetailEvents()) {
  const customer = typeof event.userId === 'string' ? event.userId : undefined;
  const props = event.properties as { order_id?: string; products?: { product_id: string }[] } | undefined;
  if (event.event !== 'Order Completed' || customer === undefined || !props?.products || !props.order_id)
    continue;
  const day = dayOf(Date.parse(event.timestamp ?? ''));
  for (const { product_id: item } of props.products) {
    const key = `${customer} ${item}`;
    const p = pairs.get(key) ?? {
      customer,
      item,
      orders: new Set(),
      before: new Set(),
      last: day,
      lastBefore: null,
      held: false,
    };
    p.orders.add(props.order_id);
    p.last = Math.max(p.last, day);
    if (day < holdoutDay) {
      p.before.add(props.order_id);
      p.lastBefore = Math.max(p.lastBefore ?? day, day);
    } else p.held = true;
    pairs.set(key, p);
  }
}
const interactions: ProductInteraction[] = [...pairs.values()].map((p) => ({
  customer: p.customer,
  item: p.item,
  views: 0,
  cartAdds: 0,
  purchases: p.orders.size,
  lastPurchaseDay: p.last,
  calibration: { views: 0, cartAdds: 0, purchases: p.before.size, lastPurchaseDay: p.lastBefore },
  boughtInHoldout: p.held,
}));
pairs.clear();

console.log(`# Recommendations benchmark — ${new Date().toISOString()}`);
console.log(`machine: ${machine()}`);
const started = performance.now();
const recs = nightlyRecommendations(interactions, holdoutDay, dayOf(AS_OF - 1));
const fitted = performance.now() - started;
const customers = new Set(interactions.map((i) => i.customer));
const scoring = performance.now();
for (const c of customers) recs.forCustomer(c);
const scored = performance.now() - scoring;
const r = recs.report;
console.log(
  `interactions ${r.interactions.toLocaleString('en')}, customers ${customers.size.toLocaleString('en')}, ` +
    `items ${r.items.toLocaleString('en')}, item pairs ${r.pairs.toLocaleString('en')}`,
);
console.log(`fit (whole window and before the holdout) and offline check: ${(fitted / 1000).toFixed(1)} s`);
console.log(`top ${10} for every customer: ${(scored / 1000).toFixed(1)} s`);
console.log(
  `offline check (${r.check.customers} customers): hit rate ${r.check.hitRate} (best sellers ${r.check.popularity.hitRate}), ` +
    `recall ${r.check.recall} (best sellers ${r.check.popularity.recall})`,
);
console.log(`peak RSS ${mb(peakRss())}`);
