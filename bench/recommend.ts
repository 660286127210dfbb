// npm run bench:recommend [-- --customers N]: the run's recommendations (lib/models/recommend.ts
// nightlyRecommendations) on the Online Retail year (its purchases as (customer, product) interactions, a
// 90-day holdout), or with --customers on N synthetic customers of a 50,000-item catalogue: 200 tastes of
// 400 items each, popularity Zipf-like within a taste, baskets of 1-30 items (mean about 8) from the
// customer's taste (85 %) and the whole catalogue. Prints the sizes, the time to fit both models and run
// the offline check, the time to recommend for every customer, the check itself, and the peak RSS.
import { parseArgs } from 'node:util';
import { onlineRetailEvents } from '../lib/datasets/index.js';
import { dayOf } from '../lib/models/purchases.js';
import { nightlyRecommendations, type ProductInteraction } from '../lib/models/recommend.js';
import { machine, mb, peakRss } from './common.js';

const AS_OF = Date.parse('2011-12-10T00:00:00Z');
const holdoutDay = dayOf(AS_OF) - 90;
const { values } = parseArgs({ options: { customers: { type: 'string' } } });

/** The Online Retail year's purchases as interactions. */
async function onlineRetailInteractions(): Promise<ProductInteraction[]> {
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

  return interactions;
}

/** N synthetic customers (see the header); a fixed seed, so every run sees the same data. */
function syntheticInteractions(customers: number): ProductInteraction[] {
  const ITEMS = 50_000;
  const TASTES = 200;
  const PER_TASTE = 400;
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const names = Array.from({ length: ITEMS }, (_, i) => `sku-${i}`);
  const tastes = Array.from({ length: TASTES }, () =>
    Array.from({ length: PER_TASTE }, () => Math.floor(random() * ITEMS)),
  );
  const today = dayOf(AS_OF - 1);
  const rows: ProductInteraction[] = [];
  for (let c = 0; c < customers; c++) {
    const customer = `c${c}`;
    const taste = tastes[c % TASTES] as number[];
    const size = 1 + Math.floor(random() ** 2 * 30);
    const basket = new Set<number>();
    for (let k = 0; k < size; k++) {
      // Zipf-like: low ranks far more often.
      const rank = Math.floor(PER_TASTE * random() ** 3);
      basket.add(random() < 0.85 ? (taste[rank] as number) : Math.floor(random() * ITEMS));
    }
    for (const item of basket) {
      const purchases = random() < 0.4 ? 1 + Math.floor(random() * 3) : 0;
      const views = 1 + Math.floor(random() * 5);
      const day = today - Math.floor(random() * 365);
      const held = purchases > 0 && day >= holdoutDay;
      rows.push({
        customer,
        item: names[item] as string,
        views,
        cartAdds: purchases > 0 ? 1 : 0,
        purchases,
        lastPurchaseDay: purchases > 0 ? day : null,
        calibration: held
          ? { views, cartAdds: 0, purchases: 0, lastPurchaseDay: null }
          : {
              views,
              cartAdds: purchases > 0 ? 1 : 0,
              purchases,
              lastPurchaseDay: purchases > 0 ? day : null,
            },
        boughtInHoldout: held,
      });
    }
  }
  return rows;
}

const interactions =
  values.customers === undefined
    ? await onlineRetailInteractions()
    : syntheticInteractions(Number(values.customers));

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
