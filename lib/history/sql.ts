// The history SQL: per customer, as of a time, everything segmentation's features are made of
// (segmentation/features.ts `FeatureInputs`), from the columnar archive's facts (facts.ts) joined with the
// node -> customer table exported from the identity graph. One text for both engines: it keeps to what
// DuckDB and Athena (Trino) both read the same way — no named windows, no struct unnesting, lists
// aggregated with array_agg — and what differs is in HistoryDialect (table names, how lists come back).
//
// Two steps, so that a night can reuse the last one's work (snapshot.ts):
// 1. node states (`nodeStatesSql`): one row per attribution node with its counters, the boundary of its
//    behavior (first and last event, the session label of the last, the views at either end) and the
//    sets a customer counts distinctly (session ids, categories, latest CRM ids). Two states of one node,
//    the second's behavior all after the first's, merge into the state of both (`mergeStatesSql`): exact,
//    because the only order-dependent figures (inferred sessions and dwell) depend on what happens at the
//    boundary, which the states keep. Orders, refunds and cancellations are kept as rows (`orderRowsSql`):
//    they are deduplicated per customer, across nodes.
// 2. customers (`customersSql`): the states and order rows grouped by the customer each node maps to.
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
  /**
   * A 64-bit integer standing for a text in a distinct count (session ids, categories). Node states keep
   * these sets whole, so that a customer of several nodes counts an id they share once: as integers they
   * are a fraction of the strings' size to keep, merge and count. Two of a customer's n ids would count as
   * one only if their keys collide (about n² / 2⁶⁵: 3·10⁻¹⁴ at a thousand sessions).
   */
  key(text: string): string;
  /** Which of `parts` parts (0 to parts - 1) a text falls in, by a hash of it: passes over parts of the nodes. */
  part(text: string, parts: number): string;
  /** The number of elements of a list. */
  size(list: string): string;
  /** The distinct elements of two lists of keys, either of which may be NULL (merging node states). */
  union(a: string, b: string): string;
  /**
   * A relation of `keep` and each element of the list column `list` of `from`, named `as`: Trino's
   * `CROSS JOIN UNNEST`, which DuckDB plans as a correlated join several times slower than its own
   * `unnest()` in the select list.
   */
  unnest(from: string, list: string, as: string, keep: readonly string[]): string;
}

/** Categories counted per customer at most (AFFINITY_MAX): the reducer keeps the heaviest 200. */
const CATEGORY_MAX = 200;
const GAP = SESSION_GAP_MS;
const ORDERED = 'ORDER BY ts_ms, message_id';
const RUNNING = 'ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW';
/** Digits of a behavior event's position in its node, as a label prefix (ten billion events a node). */
const POS_CHARS = 11;
/** The width of a CRM entry's time prefix (`lpad(ts_ms, 15)`): entries compare by time as text. */
export const CRM_TIME_CHARS = 15;

/** The nodes with events before `asOf`, which the node -> customer table must cover. */
export function nodesSql(t: HistoryDialect, asOf: number): string {
  return `SELECT DISTINCT node FROM ${t.facts} WHERE node IS NOT NULL AND ts_ms < ${ms(asOf)} ORDER BY node`;
}

/** Events before `asOf` that count for someone (they have a node), and events at or after it. */
export function countsSql(t: HistoryDialect, asOf: number): string {
  return `SELECT count(*) FILTER (WHERE ts_ms < ${ms(asOf)} AND node IS NOT NULL) AS events,
  count(*) FILTER (WHERE ts_ms >= ${ms(asOf)}) AS later FROM ${t.facts}`;
}

/** The facts that count as of `asOf`: events before it that have a node. */
export function factsBefore(t: HistoryDialect, asOf: number): string {
  return `(SELECT * FROM ${t.facts} WHERE node IS NOT NULL AND ts_ms < ${ms(asOf)})`;
}

/**
 * The columns of a node state, in order (snapshot.ts stores them). `*_fg` are 1 when that event is in
 * the node's first session group (no session anchor after its first behavior event up to it): a later
 * merge may extend the previous state's last session over that group. Labels name a session: `s` + its
 * id, or `t` + the time of the event that opened an inferred one.
 */
export const NODE_STATE_COLUMNS = [
  'node',
  'first_ms',
  'last_ms',
  'events',
  'app_events',
  'store_events',
  'product_views',
  'cart_adds',
  'shares',
  // behavior (track, page, screen): sessions
  'b_first_ms',
  'b_first_sid',
  'b_last_ms',
  'b_last_label',
  'b_last_fg',
  'b_loose',
  'sids',
  // views: dwell, and the views at the boundaries a merge looks at
  'v_first_ms',
  'v_first_label',
  'v_first_fg',
  'v_last_ms',
  'v_last_label',
  'v_last_fg',
  'v_last_open',
  'fg_v_ms',
  'fg_v_open',
  'nx_v_ms',
  'nx_v_label',
  'dwell_milli',
  'dwell_samples',
  'cats',
  'crm',
] as const;

/** One row per node of the facts `src` (a relation: a table or a parenthesized query). */
export function nodeStatesSql(t: HistoryDialect, src: string): string {
  const byPos = 'PARTITION BY node ORDER BY pos';
  return `WITH ev AS (
  SELECT node, message_id, type, ts_ms, kind, session_id, channel, dwell, categories, crm_traits FROM ${src} src
),
behavior AS (
  SELECT node, message_id, ts_ms, kind, session_id, dwell,
    row_number() OVER (PARTITION BY node ${ORDERED}) AS pos,
    CASE WHEN session_id IS NOT NULL THEN 1
      WHEN lag(ts_ms) OVER (PARTITION BY node ${ORDERED}) IS NULL THEN 1
      WHEN ts_ms - lag(ts_ms) OVER (PARTITION BY node ${ORDERED}) >= ${GAP} THEN 1
      ELSE 0 END AS anchor
  FROM ev WHERE type IN ('track', 'page', 'screen')
),
sessioned AS (
  SELECT *, sum(anchor) OVER (${byPos} ${RUNNING}) AS g,
    -- The label of the group's first event, carried forward: the running maximum of the anchors' labels
    -- prefixed by their position (one sort with g, not a second window partitioned by group).
    substr(max(CASE WHEN anchor = 1 THEN lpad(CAST(pos AS VARCHAR), ${POS_CHARS}, '0')
        || CASE WHEN session_id IS NULL THEN 't' || CAST(ts_ms AS VARCHAR) ELSE 's' || session_id END END)
      OVER (${byPos} ${RUNNING}), ${POS_CHARS + 1}) AS label
  FROM behavior
),
views AS (
  SELECT node, pos, g, ts_ms, label, CASE WHEN dwell IS NULL THEN 1 ELSE 0 END AS open, dwell,
    lag(ts_ms) OVER (${byPos}) AS prev_ts,
    lag(label) OVER (${byPos}) AS prev_label,
    lag(dwell) OVER (${byPos}) AS prev_dwell
  FROM sessioned WHERE kind IN ('pageView', 'screenView')
),
dwells AS (
  SELECT node, round(dwell * 1000) AS milli FROM views WHERE dwell IS NOT NULL
  UNION ALL
  SELECT node, ts_ms - prev_ts FROM views
  WHERE prev_ts IS NOT NULL AND prev_label = label AND prev_dwell IS NULL
    AND ts_ms > prev_ts AND ts_ms - prev_ts < ${GAP}
),
behavior_state AS (
  SELECT node, min(ts_ms) AS b_first_ms,
    max(CASE WHEN pos = 1 AND session_id IS NOT NULL THEN 1 ELSE 0 END) AS b_first_sid,
    max(ts_ms) AS b_last_ms, max_by(label, pos) AS b_last_label,
    CASE WHEN max(g) = 1 THEN 1 ELSE 0 END AS b_last_fg,
    count(*) FILTER (WHERE anchor = 1 AND session_id IS NULL) AS b_loose,
    array_agg(DISTINCT ${t.key('session_id')}) FILTER (WHERE session_id IS NOT NULL) AS sids
  FROM sessioned GROUP BY node
),
view_state AS (
  SELECT node,
    min(ts_ms) AS v_first_ms, min_by(label, pos) AS v_first_label,
    CASE WHEN min_by(g, pos) = 1 THEN 1 ELSE 0 END AS v_first_fg,
    max(ts_ms) AS v_last_ms, max_by(label, pos) AS v_last_label,
    CASE WHEN max_by(g, pos) = 1 THEN 1 ELSE 0 END AS v_last_fg, max_by(open, pos) AS v_last_open,
    max(ts_ms) FILTER (WHERE g = 1) AS fg_v_ms, max_by(open, pos) FILTER (WHERE g = 1) AS fg_v_open,
    min(ts_ms) FILTER (WHERE g > 1) AS nx_v_ms, min_by(label, pos) FILTER (WHERE g > 1) AS nx_v_label
  FROM views GROUP BY node
),
dwell_state AS (
  SELECT node, CAST(sum(milli) AS BIGINT) AS dwell_milli, count(*) AS dwell_samples FROM dwells GROUP BY node
),
category_state AS (
  SELECT node, array_agg(DISTINCT ${t.key('category')}) AS cats
  FROM ${t.unnest('ev', 'categories', 'category', ['node'])} u WHERE category <> '(other)' GROUP BY node
),
crm_latest AS (
  SELECT node, max(lpad(CAST(ts_ms AS VARCHAR), ${CRM_TIME_CHARS}, '0') || ' ' || trait) AS latest
  FROM ${t.unnest('ev', 'crm_traits', 'trait', ['node', 'ts_ms'])} u
  GROUP BY node, split_part(trait, ' ', 1)
),
crm_state AS (SELECT node, array_agg(latest) AS crm FROM crm_latest GROUP BY node),
event_state AS (
  SELECT node, min(ts_ms) AS first_ms, max(ts_ms) AS last_ms, count(*) AS events,
    count(*) FILTER (WHERE channel IN ('app', 'mini-program')) AS app_events,
    count(*) FILTER (WHERE channel = 'store') AS store_events,
    count(*) FILTER (WHERE kind = 'productView') AS product_views,
    count(*) FILTER (WHERE kind = 'cartAdd') AS cart_adds,
    count(*) FILTER (WHERE kind = 'share') AS shares
  FROM ev GROUP BY node
)
SELECT e.node, e.first_ms, e.last_ms, e.events, e.app_events, e.store_events, e.product_views, e.cart_adds,
  e.shares, b.b_first_ms, b.b_first_sid, b.b_last_ms, b.b_last_label, b.b_last_fg,
  coalesce(b.b_loose, 0) AS b_loose, b.sids,
  v.v_first_ms, v.v_first_label, v.v_first_fg, v.v_last_ms, v.v_last_label, v.v_last_fg, v.v_last_open,
  v.fg_v_ms, v.fg_v_open, v.nx_v_ms, v.nx_v_label,
  coalesce(d.dwell_milli, 0) AS dwell_milli, coalesce(d.dwell_samples, 0) AS dwell_samples, c.cats, crm.crm
FROM event_state e
LEFT JOIN behavior_state b ON b.node = e.node
LEFT JOIN view_state v ON v.node = e.node
LEFT JOIN dwell_state d ON d.node = e.node
LEFT JOIN category_state c ON c.node = e.node
LEFT JOIN crm_state crm ON crm.node = e.node`;
}

/** The order, refund and cancellation rows of the facts `src`, which customers deduplicate across nodes. */
export function orderRowsSql(src: string): string {
  return `SELECT node, message_id, ts_ms, kind, order_id, amount_milli FROM ${src} src
WHERE kind IN ('order', 'refund', 'cancellation')`;
}

/**
 * The nodes whose state in `next` cannot be merged after `prev`: behavior in `next` at or before the
 * last of `prev` (a late event). Their state is recomputed from all their facts instead.
 */
export function lateNodesSql(prev: string, next: string): string {
  return `SELECT n.node FROM ${next} n JOIN ${prev} p ON p.node = n.node
WHERE p.b_last_ms IS NOT NULL AND n.b_first_ms IS NOT NULL AND n.b_first_ms <= p.b_last_ms`;
}

/**
 * The states of `prev` and `next` merged (`p` then `n`), for nodes whose behavior in `next` all comes
 * after their behavior in `prev` (lateNodesSql names the others). Exact: it is what nodeStatesSql gives
 * over both states' facts together (a property test checks it).
 */
export function mergeStatesSql(t: HistoryDialect, prev: string, next: string): string {
  const hasP = 'p.b_last_ms IS NOT NULL';
  const hasN = 'n.b_first_ms IS NOT NULL';
  // n's first session group continues p's last session: n's first behavior event has no session id and
  // comes under 30 minutes after p's last.
  const cont = `(${hasP} AND ${hasN} AND n.b_first_sid = 0 AND n.b_first_ms - p.b_last_ms < ${GAP})`;
  /** The label of an event of n, which is p's last label if it is in n's first group and that continues. */
  const label = (fg: string, own: string) =>
    `CASE WHEN ${cont} AND ${fg} = 1 THEN p.b_last_label ELSE ${own} END`;
  /** Whether an event of n is in the merged state's first group. */
  const firstGroup = (fg: string) =>
    `CASE WHEN ${hasP} THEN (CASE WHEN p.b_last_fg = 1 AND ${cont} AND ${fg} = 1 THEN 1 ELSE 0 END) ELSE ${fg} END`;
  const sum = (column: string) => `coalesce(p.${column}, 0) + coalesce(n.${column}, 0)`;
  const between = (later: string, earlier: string) =>
    `${later} > ${earlier} AND ${later} - ${earlier} < ${GAP}`;
  // The view pairs a merge adds: p's last view and n's first, and n's pair across the end of its first
  // group (which n saw under two labels, and which may now be one).
  const boundary = `${hasP} AND p.v_last_ms IS NOT NULL AND n.v_first_ms IS NOT NULL AND p.v_last_open = 1
    AND p.v_last_label = ${label('n.v_first_fg', 'n.v_first_label')} AND ${between('n.v_first_ms', 'p.v_last_ms')}`;
  const straddle = `${cont} AND n.fg_v_ms IS NOT NULL AND n.nx_v_ms IS NOT NULL AND n.fg_v_open = 1
    AND n.nx_v_label = p.b_last_label AND ${between('n.nx_v_ms', 'n.fg_v_ms')}`;
  // n's first view outside the merged first group, when p has none.
  const nFirstOutside = `n.v_first_ms IS NOT NULL AND ${firstGroup('n.v_first_fg')} = 0`;
  const nFgExtends = `p.b_last_fg = 1 AND ${cont} AND n.fg_v_ms IS NOT NULL`;
  return `SELECT coalesce(p.node, n.node) AS node,
  coalesce(least(p.first_ms, n.first_ms), p.first_ms, n.first_ms) AS first_ms,
  coalesce(greatest(p.last_ms, n.last_ms), p.last_ms, n.last_ms) AS last_ms,
  ${sum('events')} AS events, ${sum('app_events')} AS app_events, ${sum('store_events')} AS store_events,
  ${sum('product_views')} AS product_views, ${sum('cart_adds')} AS cart_adds, ${sum('shares')} AS shares,
  CASE WHEN ${hasP} THEN p.b_first_ms ELSE n.b_first_ms END AS b_first_ms,
  CASE WHEN ${hasP} THEN p.b_first_sid ELSE n.b_first_sid END AS b_first_sid,
  CASE WHEN ${hasN} THEN n.b_last_ms ELSE p.b_last_ms END AS b_last_ms,
  CASE WHEN ${hasN} THEN ${label('n.b_last_fg', 'n.b_last_label')} ELSE p.b_last_label END AS b_last_label,
  CASE WHEN ${hasN} THEN ${firstGroup('n.b_last_fg')} ELSE p.b_last_fg END AS b_last_fg,
  ${sum('b_loose')} - CASE WHEN ${cont} THEN 1 ELSE 0 END AS b_loose,
  ${t.union('p.sids', 'n.sids')} AS sids,
  CASE WHEN p.v_first_ms IS NOT NULL THEN p.v_first_ms ELSE n.v_first_ms END AS v_first_ms,
  CASE WHEN p.v_first_ms IS NOT NULL THEN p.v_first_label ELSE ${label('n.v_first_fg', 'n.v_first_label')} END AS v_first_label,
  CASE WHEN p.v_first_ms IS NOT NULL THEN p.v_first_fg ELSE ${firstGroup('n.v_first_fg')} END AS v_first_fg,
  CASE WHEN n.v_last_ms IS NOT NULL THEN n.v_last_ms ELSE p.v_last_ms END AS v_last_ms,
  CASE WHEN n.v_last_ms IS NOT NULL THEN ${label('n.v_last_fg', 'n.v_last_label')} ELSE p.v_last_label END AS v_last_label,
  CASE WHEN n.v_last_ms IS NOT NULL THEN ${firstGroup('n.v_last_fg')} ELSE p.v_last_fg END AS v_last_fg,
  CASE WHEN n.v_last_ms IS NOT NULL THEN n.v_last_open ELSE p.v_last_open END AS v_last_open,
  CASE WHEN NOT (${hasP}) THEN n.fg_v_ms WHEN ${nFgExtends} THEN n.fg_v_ms ELSE p.fg_v_ms END AS fg_v_ms,
  CASE WHEN NOT (${hasP}) THEN n.fg_v_open WHEN ${nFgExtends} THEN n.fg_v_open ELSE p.fg_v_open END AS fg_v_open,
  CASE WHEN NOT (${hasP}) THEN n.nx_v_ms WHEN p.nx_v_ms IS NOT NULL THEN p.nx_v_ms
    WHEN ${nFirstOutside} THEN n.v_first_ms ELSE n.nx_v_ms END AS nx_v_ms,
  CASE WHEN NOT (${hasP}) THEN n.nx_v_label WHEN p.nx_v_ms IS NOT NULL THEN p.nx_v_label
    WHEN ${nFirstOutside} THEN ${label('n.v_first_fg', 'n.v_first_label')} ELSE n.nx_v_label END AS nx_v_label,
  ${sum('dwell_milli')}
    + CASE WHEN ${boundary} THEN n.v_first_ms - p.v_last_ms ELSE 0 END
    + CASE WHEN ${straddle} THEN n.nx_v_ms - n.fg_v_ms ELSE 0 END AS dwell_milli,
  ${sum('dwell_samples')} + CASE WHEN ${boundary} THEN 1 ELSE 0 END
    + CASE WHEN ${straddle} THEN 1 ELSE 0 END AS dwell_samples,
  ${t.union('p.cats', 'n.cats')} AS cats,
  crm.crm
FROM ${prev} p FULL OUTER JOIN ${next} n ON n.node = p.node
LEFT JOIN (
  SELECT node, array_agg(latest) AS crm FROM (
    SELECT node, max(entry) AS latest FROM (
      SELECT * FROM ${t.unnest(prev, 'crm', 'entry', ['node'])} p
      UNION ALL SELECT * FROM ${t.unnest(next, 'crm', 'entry', ['node'])} n
    ) entries GROUP BY node, split_part(entry, ' ', 2)
  ) latest GROUP BY node
) crm ON crm.node = coalesce(p.node, n.node)`;
}

/**
 * One row per customer (`cust`: the customer id, or `~<node>` for a node the table does not map, which
 * stands alone as the reducer's does), ordered by it, from node states and order rows. Columns: see
 * HistoryRow in features.ts.
 */
export function customersSql(
  t: HistoryDialect,
  states: string,
  orderRows: string,
  holdoutDay: number,
): string {
  const holdout = ms(holdoutDay);
  const cust = (alias: string) => `coalesce(m.customer_id, '~' || ${alias}.node)`;
  return `WITH st AS (
  SELECT ${cust('s')} AS cust, s.* FROM ${states} s LEFT JOIN ${t.nodes} m ON m.node = s.node
),
ev AS (
  SELECT ${cust('o')} AS cust, o.message_id, o.ts_ms, o.kind, o.order_id, o.amount_milli
  FROM ${orderRows} o LEFT JOIN ${t.nodes} m ON m.node = o.node
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
-- Paid orders (an id, a positive value, not cancelled) by UTC day, for the predictive models
-- (models/purchases.ts): a day is one purchase occasion of its summed value.
paid_days AS (
  SELECT cust, day, sum(amount_milli) AS milli FROM (
    SELECT o.cust, CAST(floor(o.ts_ms / 86400000.0) AS BIGINT) AS day, o.amount_milli
    FROM orders o LEFT JOIN cancelled c ON c.cust = o.cust AND c.order_id = o.order_id
    WHERE o.copy = 1 AND o.order_id IS NOT NULL AND o.amount_milli > 0 AND c.order_id IS NULL
  ) paid GROUP BY cust, day
),
purchase_facts AS (
  SELECT cust, count(*) AS paid_days, min(day) AS first_paid_day, max(day) AS last_paid_day,
    sum(milli) AS paid_milli, min_by(milli, day) AS first_day_milli,
    count(*) FILTER (WHERE day < ${holdout}) AS cal_days,
    max(day) FILTER (WHERE day < ${holdout}) AS cal_last_day,
    coalesce(sum(milli) FILTER (WHERE day < ${holdout}), 0) AS cal_milli
  FROM paid_days GROUP BY cust
),
-- A customer of one node (most) takes that node's sets as they are, already distinct; the sets of a
-- customer of several are unnested and counted again, an id two nodes share once.
shared AS (
  SELECT * FROM st WHERE cust IN (SELECT cust FROM st GROUP BY cust HAVING count(*) > 1)
),
session_facts AS (
  SELECT cust, count(DISTINCT sid) AS named FROM ${t.unnest('shared', 'sids', 'sid', ['cust'])} u GROUP BY cust
),
category_facts AS (
  SELECT cust, count(DISTINCT category) AS categories
  FROM ${t.unnest('shared', 'cats', 'category', ['cust'])} u GROUP BY cust
),
crm_latest AS (
  SELECT cust, max(entry) AS latest FROM ${t.unnest('shared', 'crm', 'entry', ['cust'])} u
  GROUP BY cust, split_part(entry, ' ', 2)
),
crm_facts AS (SELECT cust, ${t.list('array_agg(latest)')} AS crm FROM crm_latest GROUP BY cust),
base AS (
  SELECT cust, ${t.list('array_agg(DISTINCT node)')} AS nodes, count(*) AS node_count,
    min(first_ms) AS first_ms, max(last_ms) AS last_ms,
    sum(events) AS events, sum(app_events) AS app_events, sum(store_events) AS store_events,
    sum(product_views) AS product_views, sum(cart_adds) AS cart_adds, sum(shares) AS shares,
    sum(b_loose) AS loose, sum(dwell_milli) AS dwell_milli, sum(dwell_samples) AS dwell_samples,
    -- Read only when the customer has one node.
    sum(${t.size('sids')}) AS one_named, sum(${t.size('cats')}) AS one_categories,
    ${t.list('arbitrary(crm)')} AS one_crm
  FROM st GROUP BY cust
)
SELECT b.cust, b.nodes, b.first_ms, b.last_ms, b.events, b.app_events, b.store_events, b.product_views,
  b.cart_adds, b.shares,
  coalesce(o.orders, 0) AS orders, coalesce(o.frequency, 0) AS frequency,
  coalesce(o.revenue_milli, 0) AS revenue_milli, coalesce(o.cancelled_milli, 0) AS cancelled_milli,
  coalesce(rf.refunds_milli, 0) AS refunds_milli, o.last_paid_ms, o.last_order_ms,
  coalesce(CASE WHEN b.node_count = 1 THEN b.one_named ELSE s.named END, 0) + b.loose AS sessions,
  b.dwell_milli, b.dwell_samples,
  least(coalesce(CASE WHEN b.node_count = 1 THEN b.one_categories ELSE c.categories END, 0), ${CATEGORY_MAX})
    AS categories,
  CASE WHEN b.node_count = 1 THEN b.one_crm ELSE crm.crm END AS crm,
  coalesce(pf.paid_days, 0) AS paid_days, pf.first_paid_day, pf.last_paid_day,
  coalesce(pf.paid_milli, 0) AS paid_milli, coalesce(pf.first_day_milli, 0) AS first_day_milli,
  coalesce(pf.cal_days, 0) AS cal_days, pf.cal_last_day, coalesce(pf.cal_milli, 0) AS cal_milli
FROM base b
LEFT JOIN order_facts o ON o.cust = b.cust
LEFT JOIN refund_facts rf ON rf.cust = b.cust
LEFT JOIN session_facts s ON s.cust = b.cust
LEFT JOIN category_facts c ON c.cust = b.cust
LEFT JOIN crm_facts crm ON crm.cust = b.cust
LEFT JOIN purchase_facts pf ON pf.cust = b.cust
ORDER BY b.cust`;
}

/** Every customer as of `asOf`, from the whole archive (a full recomputation). */
export function featuresSql(t: HistoryDialect, asOf: number, holdoutDay: number): string {
  const src = factsBefore(t, asOf);
  return customersSql(t, `(${nodeStatesSql(t, src)})`, `(${orderRowsSql(src)})`, holdoutDay);
}

/** What counts as a view of a product, for recommendations. */
const PRODUCT_VIEWS = "('productView', 'productClick')";

/**
 * Per customer and product (`cust` as in customersSql), what the customer did with it in the `windowMs`
 * before the last product event before `asOf` (a base quiet for years still has its last year):
 * views and clicks, cart adds, purchases (distinct order ids) and the last purchase; the same before the
 * holdout day (the offline check's training), and whether they bought it from the holdout day on (its
 * answers). Ordered, so that a re-run numbers the items alike and breaks ties between equal scores alike.
 */
export function interactionsSql(
  t: HistoryDialect,
  asOf: number,
  windowMs: number,
  holdoutDay: number,
): string {
  const holdout = ms(holdoutDay * 86_400_000);
  const order = "kind = 'order'";
  const orderKey = 'coalesce(order_id, CAST(ts_ms AS VARCHAR))';
  const productEvent = `node IS NOT NULL AND ts_ms < ${ms(asOf)} AND products IS NOT NULL
    AND kind IN ('productView', 'productClick', 'cartAdd', 'order')`;
  return `WITH bound AS (SELECT max(ts_ms) - ${ms(windowMs)} AS from_ms FROM ${t.facts} WHERE ${productEvent}),
ev AS (
  SELECT node, ts_ms, kind, order_id, products FROM ${t.facts}
  WHERE ${productEvent} AND ts_ms > (SELECT from_ms FROM bound)
),
items AS (
  SELECT coalesce(m.customer_id, '~' || u.node) AS cust, u.product, u.ts_ms, u.kind, u.order_id
  FROM ${t.unnest('ev', 'products', 'product', ['node', 'ts_ms', 'kind', 'order_id'])} u
  LEFT JOIN ${t.nodes} m ON m.node = u.node
)
SELECT cust, product,
  count(*) FILTER (WHERE kind IN ${PRODUCT_VIEWS}) AS views,
  count(*) FILTER (WHERE kind = 'cartAdd') AS cart_adds,
  count(DISTINCT ${orderKey}) FILTER (WHERE ${order}) AS purchases,
  max(ts_ms) FILTER (WHERE ${order}) AS last_purchase_ms,
  count(*) FILTER (WHERE kind IN ${PRODUCT_VIEWS} AND ts_ms < ${holdout}) AS cal_views,
  count(*) FILTER (WHERE kind = 'cartAdd' AND ts_ms < ${holdout}) AS cal_cart_adds,
  count(DISTINCT ${orderKey}) FILTER (WHERE ${order} AND ts_ms < ${holdout}) AS cal_purchases,
  max(ts_ms) FILTER (WHERE ${order} AND ts_ms < ${holdout}) AS cal_last_purchase_ms,
  count(*) FILTER (WHERE ${order} AND ts_ms >= ${holdout}) AS holdout_purchases
FROM items GROUP BY cust, product ORDER BY cust, product`;
}

/** An as-of time inlined as a literal: an integer we computed, never client text. */
export function ms(asOf: number): string {
  if (!Number.isSafeInteger(asOf)) throw new Error(`as-of time must be an integer (epoch ms): ${asOf}`);
  return String(asOf);
}
