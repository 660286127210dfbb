// The history SQL: per customer, as of a time, everything segmentation's features are made of
// (segmentation/features.ts `FeatureInputs`), from the columnar archive's facts (facts.ts) joined with the
// node -> customer table exported from the identity graph. One text for both engines: it keeps to what
// DuckDB and Athena (Trino) both read the same way — no named windows, no struct unnesting, lists
// aggregated with array_agg — and what differs is in HistoryDialect (table names, how lists come back).
//
// It reproduces the live reducer (profiles/reduce.ts, merge.ts) for events in time order, which is what a
// rebuild should see; where the reducer depends on arrival order by design (merge.ts lists it), the SQL
// gives the in-order answer:
// - sessions: a behavior event with a session id is in that session (each id once per customer); one
//   without joins the session of the node's previous behavior event if that was under 30 min before,
//   else opens a session;
// - dwell: a view's stated dwell, else the time to the node's next view if in the same session, under
//   30 min, and the earlier view stated none;
// - an order id counts once per customer (the earliest copy, ties the smaller amount), a refund once per
//   (order id, amount), a cancellation takes its order out of frequency and its unrefunded revenue out of
//   monetary value. Unlike the reducer's 300 latest order ids, every order is seen.
import { SESSION_GAP_MS } from '../profiles/partial.js';

/** What differs between the engines: table references, and how an aggregated list comes back. */
export interface HistoryDialect {
  /** The columnar archive's rows (FactRow columns). */
  readonly facts: string;
  /** node VARCHAR, customer_id VARCHAR. */
  readonly nodes: string;
  /**
   * An aggregated list (`array_agg(...)`) as the engine returns it: DuckDB hands back a list; Athena's
   * results are text, where an array reads `[a, b]` — ambiguous for ids holding ", " — so it returns JSON.
   */
  list(aggregate: string): string;
}

/** Categories counted per customer at most (AFFINITY_MAX): the reducer keeps the heaviest 200. */
const CATEGORY_MAX = 200;
const ORDERED = 'ORDER BY ts_ms, message_id';

/** The nodes with events before `asOf`, which the node -> customer table must cover. */
export function nodesSql(t: HistoryDialect, asOf: number): string {
  return `SELECT DISTINCT node FROM ${t.facts} WHERE node IS NOT NULL AND ts_ms < ${ms(asOf)} ORDER BY node`;
}

/** Events before `asOf` that count for someone (they have a node), and events at or after it. */
export function countsSql(t: HistoryDialect, asOf: number): string {
  return `SELECT count(*) FILTER (WHERE ts_ms < ${ms(asOf)} AND node IS NOT NULL) AS events,
  count(*) FILTER (WHERE ts_ms >= ${ms(asOf)}) AS later FROM ${t.facts}`;
}

/**
 * One row per customer (`cust`: the customer id, or `~<node>` for a node the table does not map, which
 * stands alone as the reducer's does), ordered by it. Columns: see HistoryRow in features.ts.
 */
export function featuresSql(t: HistoryDialect, asOf: number): string {
  return `WITH ev AS (
  SELECT f.node, coalesce(m.customer_id, '~' || f.node) AS cust, f.message_id, f.type, f.ts_ms, f.kind,
    f.session_id, f.channel, f.dwell, f.order_id, f.amount_milli, f.categories, f.crm_traits
  FROM ${t.facts} f LEFT JOIN ${t.nodes} m ON m.node = f.node
  WHERE f.node IS NOT NULL AND f.ts_ms < ${ms(asOf)}
),
behavior AS (
  SELECT node, cust, message_id, ts_ms, kind, session_id, dwell,
    CASE WHEN session_id IS NOT NULL THEN 1
      WHEN lag(ts_ms) OVER (PARTITION BY node ${ORDERED}) IS NULL THEN 1
      WHEN ts_ms - lag(ts_ms) OVER (PARTITION BY node ${ORDERED}) >= ${SESSION_GAP_MS} THEN 1
      ELSE 0 END AS anchor
  FROM ev WHERE type IN ('track', 'page', 'screen')
),
grouped AS (
  SELECT *, sum(anchor) OVER (PARTITION BY node ${ORDERED} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS g
  FROM behavior
),
sessioned AS (
  SELECT *, first_value(coalesce(session_id, '~' || CAST(ts_ms AS VARCHAR)))
    OVER (PARTITION BY node, g ${ORDERED} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session
  FROM grouped
),
views AS (
  SELECT cust, ts_ms, dwell, session,
    lag(ts_ms) OVER (PARTITION BY node ${ORDERED}) AS prev_ts,
    lag(session) OVER (PARTITION BY node ${ORDERED}) AS prev_session,
    lag(dwell) OVER (PARTITION BY node ${ORDERED}) AS prev_dwell
  FROM sessioned WHERE kind IN ('pageView', 'screenView')
),
dwells AS (
  SELECT cust, round(dwell * 1000) AS milli FROM views WHERE dwell IS NOT NULL
  UNION ALL
  SELECT cust, ts_ms - prev_ts FROM views
  WHERE prev_ts IS NOT NULL AND prev_session = session AND prev_dwell IS NULL
    AND ts_ms > prev_ts AND ts_ms - prev_ts < ${SESSION_GAP_MS}
),
orders AS (
  SELECT cust, order_id, ts_ms, amount_milli,
    row_number() OVER (PARTITION BY cust, order_id ORDER BY ts_ms, amount_milli, message_id) AS copy
  FROM ev WHERE kind = 'order'
),
refunds AS (
  SELECT cust, order_id, amount_milli,
    row_number() OVER (PARTITION BY cust, order_id, amount_milli ${ORDERED}) AS copy
  FROM ev WHERE kind = 'refund'
),
kept_refunds AS (SELECT * FROM refunds WHERE order_id IS NULL OR copy = 1),
refunded AS (
  SELECT cust, order_id, sum(amount_milli) AS milli FROM kept_refunds WHERE order_id IS NOT NULL GROUP BY cust, order_id
),
cancelled AS (
  SELECT DISTINCT cust, order_id FROM ev WHERE kind = 'cancellation' AND order_id IS NOT NULL
),
order_facts AS (
  SELECT o.cust,
    count(*) AS orders,
    count(*) FILTER (WHERE o.order_id IS NULL OR (o.amount_milli > 0 AND c.order_id IS NULL)) AS frequency,
    sum(o.amount_milli) AS revenue_milli,
    sum(CASE WHEN c.order_id IS NULL THEN 0 ELSE greatest(0, o.amount_milli - coalesce(r.milli, 0)) END) AS cancelled_milli,
    max(o.ts_ms) FILTER (WHERE o.order_id IS NOT NULL AND o.amount_milli > 0 AND c.order_id IS NULL) AS last_paid_ms,
    max(o.ts_ms) AS last_order_ms
  FROM orders o
  LEFT JOIN cancelled c ON c.cust = o.cust AND c.order_id = o.order_id
  LEFT JOIN refunded r ON r.cust = o.cust AND r.order_id = o.order_id
  WHERE o.order_id IS NULL OR o.copy = 1
  GROUP BY o.cust
),
refund_facts AS (SELECT cust, sum(amount_milli) AS refunds_milli FROM kept_refunds GROUP BY cust),
session_facts AS (
  SELECT cust, count(DISTINCT session_id) + count(*) FILTER (WHERE anchor = 1 AND session_id IS NULL) AS sessions
  FROM behavior GROUP BY cust
),
dwell_facts AS (SELECT cust, sum(milli) AS dwell_milli, count(*) AS dwell_samples FROM dwells GROUP BY cust),
category_facts AS (
  SELECT cust, least(count(DISTINCT category), ${CATEGORY_MAX}) AS categories
  FROM ev CROSS JOIN UNNEST(categories) AS u(category)
  WHERE category <> '(other)' GROUP BY cust
),
crm_latest AS (
  SELECT cust, max(lpad(CAST(ts_ms AS VARCHAR), 15, '0') || ' ' || trait) AS latest
  FROM ev CROSS JOIN UNNEST(crm_traits) AS u(trait)
  GROUP BY cust, split_part(trait, ' ', 1)
),
crm_facts AS (SELECT cust, ${t.list('array_agg(latest)')} AS crm FROM crm_latest GROUP BY cust),
base AS (
  SELECT cust, ${t.list('array_agg(DISTINCT node)')} AS nodes, min(ts_ms) AS first_ms, max(ts_ms) AS last_ms,
    count(*) AS events,
    count(*) FILTER (WHERE channel IN ('app', 'mini-program')) AS app_events,
    count(*) FILTER (WHERE channel = 'store') AS store_events,
    count(*) FILTER (WHERE kind = 'productView') AS product_views,
    count(*) FILTER (WHERE kind = 'cartAdd') AS cart_adds,
    count(*) FILTER (WHERE kind = 'share') AS shares
  FROM ev GROUP BY cust
)
SELECT b.cust, b.nodes, b.first_ms, b.last_ms, b.events, b.app_events, b.store_events, b.product_views,
  b.cart_adds, b.shares,
  coalesce(o.orders, 0) AS orders, coalesce(o.frequency, 0) AS frequency,
  coalesce(o.revenue_milli, 0) AS revenue_milli, coalesce(o.cancelled_milli, 0) AS cancelled_milli,
  coalesce(rf.refunds_milli, 0) AS refunds_milli, o.last_paid_ms, o.last_order_ms,
  coalesce(s.sessions, 0) AS sessions, coalesce(d.dwell_milli, 0) AS dwell_milli,
  coalesce(d.dwell_samples, 0) AS dwell_samples, coalesce(c.categories, 0) AS categories, crm.crm
FROM base b
LEFT JOIN order_facts o ON o.cust = b.cust
LEFT JOIN refund_facts rf ON rf.cust = b.cust
LEFT JOIN session_facts s ON s.cust = b.cust
LEFT JOIN dwell_facts d ON d.cust = b.cust
LEFT JOIN category_facts c ON c.cust = b.cust
LEFT JOIN crm_facts crm ON crm.cust = b.cust
ORDER BY b.cust`;
}

/** An as-of time inlined as a literal: an integer we computed, never client text. */
function ms(asOf: number): string {
  if (!Number.isSafeInteger(asOf)) throw new Error(`as-of time must be an integer (epoch ms): ${asOf}`);
  return String(asOf);
}
