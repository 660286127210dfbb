// Customers as of a time, through history SQL: the nodes with events before it are mapped to today's
// customers (the identity graph), the engine aggregates the columnar archive per customer (sql.ts), and
// each row becomes the customer's feature inputs and external ids — the same values the reducer's path
// (segmentation/history.ts + features.ts) gives for events in time order.
import { z } from 'zod';
import { customerIdOf } from '../identity/graph.js';
import { dayOf } from '../models/purchases.js';
import type { ProductInteraction } from '../models/recommend.js';
import { dict } from '../profiles/maps.js';
import type { TraitValue } from '../profiles/partial.js';
import {
  type CustomerFeatures,
  type FeatureInputs,
  featuresFrom,
  holdoutDayOf,
} from '../segmentation/features.js';
import type { CustomerIndex } from '../segmentation/history.js';
import { type ExternalIds, externalIdsOf } from '../segmentation/identifiers.js';
import type { HistoryEngine } from './ports.js';
import { CRM_TIME_CHARS, customersSql, featuresSql, interactionsSql, nodesSql } from './sql.js';

export interface SqlHistoryDeps {
  readonly engine: HistoryEngine;
  readonly identity: CustomerIndex;
}

export interface CustomerHistory {
  readonly customerId: string;
  readonly inputs: FeatureInputs;
  readonly ids: ExternalIds;
}

/** Nodes looked up in the identity index per request. */
const NODE_BATCH = 100;

const count = z.coerce.number().int().nonnegative();
const epochMs = z.coerce.number().int().nullable();
/** A list as DuckDB returns it, or as JSON text (Athena: see HistoryDialect.list). */
const textList = z.preprocess(
  (value) => (typeof value === 'string' ? safeJson(value) : value),
  z.array(z.string()),
);

/** One row of featuresSql, as the engines return it (bigints and numeric text are coerced). */
export const HistoryRowSchema = z.object({
  cust: z.string().min(1),
  nodes: textList.refine((nodes) => nodes.length > 0, 'a customer has at least one node'),
  first_ms: z.coerce.number().int(),
  last_ms: z.coerce.number().int(),
  events: count,
  app_events: count,
  store_events: count,
  product_views: count,
  cart_adds: count,
  shares: count,
  orders: count,
  frequency: count,
  revenue_milli: z.coerce.number().int(),
  cancelled_milli: z.coerce.number().int(),
  refunds_milli: z.coerce.number().int(),
  last_paid_ms: epochMs,
  last_order_ms: epochMs,
  sessions: count,
  dwell_milli: z.coerce.number(),
  dwell_samples: count,
  categories: count,
  crm: textList.nullable(),
  paid_days: count,
  first_paid_day: z.coerce.number().int().nullable(),
  last_paid_day: z.coerce.number().int().nullable(),
  paid_milli: z.coerce.number().int(),
  first_day_milli: z.coerce.number().int(),
  cal_days: count,
  cal_last_day: z.coerce.number().int().nullable(),
  cal_milli: z.coerce.number().int(),
});
export type HistoryRowValues = z.infer<typeof HistoryRowSchema>;

const iso = (ms: number | null): string | undefined => (ms === null ? undefined : new Date(ms).toISOString());

/** The customer of a row: `~<node>` is a node the identity index has not recorded, standing alone. */
export const customerOf = (cust: string): string =>
  cust.startsWith('~') ? customerIdOf(cust.slice(1)) : cust;

export function customerHistoryOf(values: HistoryRowValues): CustomerHistory {
  const lastPaid = values.last_paid_ms ?? (values.frequency > 0 ? values.last_order_ms : null);
  const inputs: FeatureInputs = {
    frequency: values.frequency,
    monetaryMilli: Math.max(0, values.revenue_milli - values.refunds_milli - values.cancelled_milli),
    orders: values.orders,
    lastPaidOrderAt: iso(lastPaid),
    firstSeen: iso(values.first_ms),
    lastSeen: iso(values.last_ms),
    sessions: values.sessions,
    productViews: values.product_views,
    cartAdds: values.cart_adds,
    shares: values.shares,
    categoryBreadth: values.categories,
    dwellSeconds: Math.round(values.dwell_milli) / 1000,
    dwellSamples: values.dwell_samples,
    appEvents: values.app_events,
    storeEvents: values.store_events,
    events: values.events,
    purchases: {
      days: values.paid_days,
      firstDay: values.first_paid_day,
      lastDay: values.last_paid_day,
      valueMilli: values.paid_milli,
      firstDayMilli: values.first_day_milli,
      calibrationDays: values.cal_days,
      calibrationLastDay: values.cal_last_day,
      calibrationMilli: values.cal_milli,
    },
  };
  return { customerId: customerOf(values.cust), inputs, ids: idsOf(values) };
}

/** The user ids of the customer's nodes and its latest CRM traits, as the reducer's path exports them. */
function idsOf(values: HistoryRowValues): ExternalIds {
  const traits = dict<TraitValue>();
  for (const entry of values.crm ?? []) {
    const rest = entry.slice(CRM_TIME_CHARS + 1);
    const space = rest.indexOf(' ');
    const tie = rest.slice(space + 1);
    // tieKey (profiles/maps.ts): `s` + a string, `j` + the JSON of anything else.
    const v = tie.startsWith('s') ? tie.slice(1) : JSON.parse(tie.slice(1));
    traits[rest.slice(0, space)] = { v, at: iso(Number(entry.slice(0, CRM_TIME_CHARS))) ?? '' };
  }
  return externalIdsOf({ nodes: [...values.nodes].sort(), traits });
}

/**
 * Where a run's customers come from: the node states and order rows a snapshot run built (snapshot.ts
 * `statesAsOf`), or, when absent, the whole archive as of the time (a full recomputation in one query).
 */
export interface StateTables {
  readonly states: string;
  readonly orders: string;
}

/**
 * Maps every node with events before `asOf` to its customer, in the engine's node table: the nodes of
 * the run's states when it has them, else those of the facts.
 */
export async function mapNodes(asOf: number, deps: SqlHistoryDeps, tables?: StateTables): Promise<number> {
  const nodes: string[] = [];
  const sql =
    tables === undefined
      ? nodesSql(deps.engine.dialect, asOf)
      : `SELECT node FROM ${tables.states} ORDER BY node`;
  for await (const page of deps.engine.query(sql)) {
    for (const row of page) nodes.push(z.string().parse(row.node));
  }
  const pairs: [string, string][] = [];
  for (let i = 0; i < nodes.length; i += NODE_BATCH) {
    const batch = nodes.slice(i, i + NODE_BATCH);
    const records = await deps.identity.getNodes(batch);
    for (const node of batch) {
      const customerId = records.get(node)?.customerId;
      if (customerId !== undefined) pairs.push([node, customerId]);
    }
  }
  await deps.engine.putNodeCustomers(pairs);
  return nodes.length;
}

/**
 * Every customer with events before `asOf`, in customer order of the query (by `cust`), their purchase
 * days split at `holdoutDay` (segmentation/features.ts holdoutDayOf).
 */
export async function* customerHistories(
  asOf: number,
  deps: SqlHistoryDeps,
  tables?: StateTables,
  holdoutDay = holdoutDayOf(asOf),
): AsyncGenerator<CustomerHistory> {
  await mapNodes(asOf, deps, tables);
  const t = deps.engine.dialect;
  const sql =
    tables === undefined
      ? featuresSql(t, asOf, holdoutDay)
      : customersSql(t, tables.states, tables.orders, holdoutDay);
  for await (const page of deps.engine.query(sql)) {
    for (const row of page) yield customerHistoryOf(HistoryRowSchema.parse(row));
  }
}

/** The features of every customer as of `asOf`, with the ids the exports carry. */
export async function sqlFeaturesAsOf(
  asOf: number,
  deps: SqlHistoryDeps,
  tables?: StateTables,
  holdoutDay = holdoutDayOf(asOf),
): Promise<{ features: CustomerFeatures[]; ids: Map<string, ExternalIds> }> {
  const features: CustomerFeatures[] = [];
  const ids = new Map<string, ExternalIds>();
  for await (const customer of customerHistories(asOf, deps, tables, holdoutDay)) {
    features.push(featuresFrom(customer.customerId, customer.inputs, asOf));
    ids.set(customer.customerId, customer.ids);
  }
  return { features, ids };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const InteractionRowSchema = z.object({
  cust: z.string().min(1),
  product: z.string().min(1),
  views: count,
  cart_adds: count,
  purchases: count,
  last_purchase_ms: epochMs,
  cal_views: count,
  cal_cart_adds: count,
  cal_purchases: count,
  cal_last_purchase_ms: epochMs,
  holdout_purchases: count,
});

/**
 * What each customer did with each product in the `windowMs` up to the last product event before `asOf`
 * (models/recommend.ts), with the split at the holdout day for the offline check. Call after the
 * customers' query of the same run: it reads the node -> customer table that query filled.
 */
export async function* customerInteractions(
  engine: HistoryEngine,
  asOf: number,
  windowMs: number,
  holdoutDay: number,
): AsyncGenerator<ProductInteraction> {
  for await (const page of engine.query(interactionsSql(engine.dialect, asOf, windowMs, holdoutDay))) {
    for (const row of page) {
      const r = InteractionRowSchema.parse(row);
      const day = (ms: number | null) => (ms === null ? null : dayOf(ms));
      yield {
        customer: customerOf(r.cust),
        item: r.product,
        views: r.views,
        cartAdds: r.cart_adds,
        purchases: r.purchases,
        lastPurchaseDay: day(r.last_purchase_ms),
        calibration: {
          views: r.cal_views,
          cartAdds: r.cal_cart_adds,
          purchases: r.cal_purchases,
          lastPurchaseDay: day(r.cal_last_purchase_ms),
        },
        boughtInHoldout: r.holdout_purchases > 0,
      };
    }
  }
}
