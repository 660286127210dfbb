// npm run bench:tags [-- --evaluations N]
// Tag evaluation (lib/tags/evaluate.ts), the per-customer work of the tags consumer and of a campaign
// audience with tag conditions, on real profiles: every customer of the demo datasets (Online Retail and
// REES46) reduced to a profile view as the profiles consumer builds it, with a run's predictions, then
// the demo tags (tags/, all four layers) evaluated on them until N evaluations (default 1,000,000: the
// nightly pass of a million customers). Prints the profiles built, evaluations per second, the tags given
// per layer, and the peak RSS. The consumer's reads and writes are DynamoDB's (docs/tags.md, cost).
import { parseArgs } from 'node:util';
import { parseConfig } from '../lib/config.js';
import { datasetsAvailable, demoEvents } from '../lib/datasets/index.js';
import { attributionNode } from '../lib/identity/nodes.js';
import type { NormalizedEvent } from '../lib/ingest/normalized.js';
import { routeRequest } from '../lib/ingest/route.js';
import type { Predictions } from '../lib/models/predictions.js';
import { mergePartials } from '../lib/profiles/merge.js';
import { emptyPartial, type PartialProfile } from '../lib/profiles/partial.js';
import { applyObject } from '../lib/profiles/reduce.js';
import { type CustomerView, customerView } from '../lib/profiles/view.js';
import { loadDemoTags } from '../lib/tags/demo.js';
import { evaluateTags, tagSubject } from '../lib/tags/evaluate.js';
import { machine, mb, peakRss } from './common.js';

const { values } = parseArgs({ options: { evaluations: { type: 'string', default: '1000000' } } });
const EVALUATIONS = Number(values.evaluations);
if (!datasetsAvailable()) {
  console.error('bench:tags needs ../shared/data (see its README).');
  process.exit(1);
}

const NOW = Date.parse('2011-12-10T00:00:00Z');
const quality = parseConfig({}).quality;

// 1. Every demo event through the edge's normalization, grouped by the node it is attributed to.
let started = performance.now();
const byNode = new Map<string, NormalizedEvent[]>();
let batch: unknown[] = [];
let events = 0;
const flush = () => {
  const routed = routeRequest(
    'batch',
    { batch },
    { sourceId: 'bench', receivedAt: NOW },
    { quality, bodyBytes: 1e6 },
  );
  batch = [];
  if (!routed.ok) return;
  for (const e of routed.accepted) {
    const node = attributionNode(e);
    if (node === undefined) continue;
    const list = byNode.get(node) ?? [];
    list.push(e);
    byNode.set(node, list);
    events++;
  }
};
for await (const e of demoEvents()) {
  batch.push(e);
  if (batch.length === 500) flush();
}
flush();
const normalizeMs = performance.now() - started;

// 2. One profile per node, as the profiles consumer reduces them (one archive object per node here).
started = performance.now();
const views: CustomerView[] = [];
for (const [node, list] of byNode) {
  const partial: PartialProfile = applyObject(emptyPartial(node), list, `raw/bench-${node}`, NOW).partial;
  views.push(customerView(mergePartials([partial]), NOW));
}
const reduceMs = performance.now() - started;

// Predictions of the kind a run publishes, varied so that every predictive band is reached.
const predictionsOf = (i: number): Predictions => ({
  pAlive: (i % 100) / 100,
  expectedPurchases: (i % 7) / 2,
  expectedOrderValue: 20 + (i % 50) * 10,
  clv: (i % 40) * 50,
  intervalDays: 30,
  nextPurchaseDue: new Date(NOW + ((i % 60) - 30) * 86_400_000).toISOString().slice(0, 10),
  overdue: (i % 30) / 10,
  lifecycle: 'active',
  churnRisk: (i % 10) / 10,
  declines: [],
});

// 3. The demo tags on those profiles, round after round, until EVALUATIONS.
const definitions = await loadDemoTags();
const layerOf = new Map(definitions.map((d) => [d.id, d.kind]));
const given = new Map<string, number>();
started = performance.now();
let evaluated = 0;
let tags = 0;
for (let round = 0; evaluated < EVALUATIONS; round++) {
  for (let i = 0; i < views.length && evaluated < EVALUATIONS; i++, evaluated++) {
    const view = views[i] as CustomerView;
    const assignment = { segment: 'loyal' as const, predictions: predictionsOf(i + round) };
    const result = evaluateTags(definitions, tagSubject(view, assignment, NOW));
    tags += result.length;
    if (round === 0)
      for (const t of result) {
        const layer = layerOf.get(t.tag) ?? '?';
        given.set(layer, (given.get(layer) ?? 0) + 1);
      }
  }
}
const evaluateMs = performance.now() - started;

console.log(`bench:tags on ${machine()}`);
console.log(
  `demo events accepted by the edge and attributed: ${events.toLocaleString()} in ${(normalizeMs / 1000).toFixed(1)} s`,
);
console.log(`profiles reduced: ${views.length.toLocaleString()} in ${(reduceMs / 1000).toFixed(1)} s`);
console.log(
  `definitions: ${definitions.length} (${[...new Set(definitions.map((d) => d.kind))].join(', ')})`,
);
console.log(
  `evaluations: ${evaluated.toLocaleString()} in ${(evaluateMs / 1000).toFixed(1)} s = ${Math.round((evaluated / evaluateMs) * 1000).toLocaleString()} customers/s, ${(tags / evaluated).toFixed(2)} tags per customer`,
);
console.log(
  `tags given in the first round (${views.length.toLocaleString()} profiles), by layer: ${[...given].map(([k, n]) => `${k} ${n.toLocaleString()}`).join(', ')}`,
);
console.log(`peak RSS: ${mb(peakRss())}`);
