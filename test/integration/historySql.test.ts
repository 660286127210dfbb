// Equal results: history SQL over the columnar archive (DuckDB) gives every customer the same features
// and external ids as the reducer's fold of the raw archive — on generated histories full of the cases
// that differ (sessions with and without ids, dwell, re-sent orders, refunds, cancellations, CRM ids,
// identity merges, events after the as-of time), and on the demo's real data.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.js';
import { demoEvents } from '../../lib/datasets/index.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { prepareEvent } from '../../lib/ingest/route.js';
import { datasetsPresent } from '../support/datasets.js';
import { type Archive, archiveOf, columnarOf, reducerPath, sqlPath } from '../support/historyPaths.js';

const START = Date.parse('2026-03-01T08:00:00.000Z');
const MINUTE = 60_000;

/** `value` with this weight against 1 for undefined. */
const sometimes = <T>(value: fc.Arbitrary<T>, weight: number) =>
  fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    { arbitrary: value, weight: Math.round(weight * 4) },
  );

/** What one generated event does; `gap` is the minutes since the previous one. */
const step = fc.record({
  gap: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 20, max: 45 }), fc.constant(24 * 60)),
  who: fc.constantFrom('user:u1', 'user:u1', 'user:u2', 'anon:a1', 'anon:a2'),
  what: fc.constantFrom(
    'page',
    'Page Viewed',
    'screen',
    'Product Viewed',
    'Product Added',
    'Product Shared',
    'Order Completed',
    'Order Refunded',
    'Order Cancelled',
    'identify',
    'Signed Up',
  ),
  // Half the behavior without a session id (sessions are then inferred), half the views without a dwell.
  session: sometimes(fc.constantFrom('s1', 's2', 's3'), 1),
  dwell: sometimes(fc.integer({ min: 1, max: 600 }), 1),
  order: sometimes(fc.constantFrom('o1', 'o2', 'o3', 'o4'), 3),
  amount: fc.constantFrom(0, 9.99, 25, 100.005),
  category: sometimes(fc.constantFrom('shoes', 'bags', '(other)', ' hats '), 1),
  crm: sometimes(fc.constantFrom('C-1', 'C-2', 7), 0.25),
  channel: fc.constantFrom('web', 'ios', 'pos', undefined),
});
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function contextOf(s: Step): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  if (s.session !== undefined) context.sessionId = s.session;
  if (s.channel !== undefined) context.channel = s.channel;
  if (s.crm !== undefined && s.what !== 'identify') context.traits = { crm_id: s.crm };
  return context;
}

function propertiesOf(s: Step): Record<string, unknown> {
  const properties: Record<string, unknown> = { revenue: s.amount, total: s.amount };
  if (s.order !== undefined) properties.order_id = s.order;
  if (s.dwell !== undefined) properties.dwell_time = s.dwell;
  if (s.category !== undefined) properties.products = [{ product_id: 'p1', category: s.category, price: 5 }];
  return properties;
}

function eventsOf(steps: readonly Step[]): NormalizedEvent[] {
  let t = START;
  return steps.map((s, i) => {
    t += s.gap * MINUTE;
    const [kind, id] = s.who.split(':') as [string, string];
    // An identify of an anonymous node names its user, which merges the two customers.
    const userId = kind === 'user' ? id : s.what === 'identify' ? 'u3' : undefined;
    const type = s.what === 'page' || s.what === 'screen' || s.what === 'identify' ? s.what : 'track';
    const crmTraits = type === 'identify' && s.crm !== undefined ? { traits: { crm_id: s.crm } } : {};
    return {
      messageId: `m${String(i).padStart(4, '0')}`,
      type,
      ...(type === 'track' ? { event: s.what } : {}),
      ...(userId === undefined ? {} : { userId }),
      ...(kind === 'anon' ? { anonymousId: id } : {}),
      ...crmTraits,
      properties: propertiesOf(s),
      context: contextOf(s),
      timestamp: new Date(t).toISOString(),
      receivedAt: new Date(t + 5_000).toISOString(),
      sourceId: 'src_web',
    } as NormalizedEvent;
  });
}

async function bothPaths(archive: Archive, asOf: number) {
  const columnar = await columnarOf(archive);
  try {
    return { reducer: await reducerPath(archive, asOf), sql: await sqlPath(columnar.engine, archive, asOf) };
  } finally {
    await columnar.dispose();
  }
}

describe('history SQL gives the reducer’s features', () => {
  it('for generated histories, as of a time within them (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), fc.nat(), async (steps, cut) => {
        const events = eventsOf(steps);
        const last = Date.parse(events.at(-1)?.timestamp ?? '');
        const asOf = START + (cut % (last - START + 2 * MINUTE));
        const { reducer, sql } = await bothPaths(await archiveOf(events), asOf);
        expect(sql.features).toEqual(reducer.features);
        expect(sql.ids).toEqual(reducer.ids);
      }),
      { numRuns: 60 },
    );
  }, 300_000);

  it('for an empty archive: no customers', async () => {
    const { reducer, sql } = await bothPaths(await archiveOf([]), START);
    expect(reducer.features.size).toBe(0);
    expect(sql.features.size).toBe(0);
  });
});

describe.skipIf(!datasetsPresent())('on the demo data (skipped without ../shared/data)', () => {
  let archive: Archive;
  let columnar: Awaited<ReturnType<typeof columnarOf>>;

  beforeAll(async () => {
    // Sent as the demo sends it, received over a few days (so the archive has several partitions).
    const quality = parseConfig({}).quality;
    const events: NormalizedEvent[] = [];
    let n = 0;
    for await (const input of demoEvents()) {
      const receivedAt = Date.parse('2026-12-01T00:00:00.000Z') + Math.floor(n++ / 20_000) * 86_400_000;
      const prepared = prepareEvent(input, { sourceId: 'src_demo', receivedAt }, quality);
      if (prepared.ok) events.push(prepared.event);
    }
    archive = await archiveOf(events);
    columnar = await columnarOf(archive);
  }, 600_000);
  afterAll(() => columnar?.dispose());

  it.each([
    ['after the last event', '2026-12-06T00:00:00.000Z'],
    ['in the middle of the Online Retail year (a back-test)', '2011-06-01T00:00:00.000Z'],
  ])(
    'every customer has the same features and ids %s',
    async (_, when) => {
      const asOf = Date.parse(when);
      const reducer = await reducerPath(archive, asOf);
      const sql = await sqlPath(columnar.engine, archive, asOf);
      expect(reducer.features.size).toBeGreaterThan(1_000);
      expect([...sql.features.keys()].sort()).toEqual([...reducer.features.keys()].sort());
      const differing = [...reducer.features].filter(
        ([id, f]) => JSON.stringify(sql.features.get(id)) !== JSON.stringify(f),
      );
      expect(differing.slice(0, 3).map(([id, f]) => ({ reducer: f, sql: sql.features.get(id) }))).toEqual([]);
      expect(sql.ids).toEqual(reducer.ids);
    },
    600_000,
  );
});
