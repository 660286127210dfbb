// Incremental nights give exactly what a full recomputation gives: a run over the snapshot of the final
// days (advanced night by night) plus the days received after it has every customer's history equal to
// the one computed from the whole archive — with late arrivals (events received days after they
// happened, which land in later days and fall before behavior the snapshot already holds), identity
// merges, and an as-of time anywhere (before the snapshot's newest event, a run recomputes in full).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DuckdbHistory } from '../../lib/adapters/duckdb/historyEngine.js';
import {
  type CustomerHistory,
  customerHistoryOf,
  HistoryRowSchema,
  mapNodes,
} from '../../lib/history/features.js';
import { type Snapshots, snapshots } from '../../lib/history/snapshot.js';
import { customersSql, featuresSql } from '../../lib/history/sql.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { holdoutDayOf } from '../../lib/segmentation/features.js';
import { eventsOf, MINUTE, type Step, step } from '../support/generatedHistories.js';
import { type Archive, archiveOf, columnarOf } from '../support/historyPaths.js';

// Histories start late in the evening, so a night's events straddle midnight: consecutive views and
// sessions are split between received days, where a merge has to join them.
const START = Date.parse('2026-03-01T23:15:00.000Z');
/**
 * A generated step, three times in four turned into a view of u1 without a session id or a stated dwell
 * (mostly): the runs of views whose sessions and dwell a merge must join across midnight.
 */
const nightStep = fc.tuple(step, fc.integer({ min: 0, max: 3 })).map(([s, k]) =>
  k === 0
    ? s
    : {
        ...s,
        who: 'user:u1' as const,
        what: k === 1 ? ('page' as const) : ('screen' as const),
        session: k === 3 ? s.session : undefined,
        dwell: k === 2 ? s.dwell : undefined,
      },
);
/**
 * u1 views at 23:50 in session s1, at 00:05 without a session id (the next received day: it continues
 * s1), at 00:10 in s1 again. The night's state saw its first view under an inferred label and the second
 * under s1; merged after the snapshot, all three are one session and both gaps are dwell.
 */
const view = (gap: number, session: 's1' | undefined): Step => ({
  gap,
  who: 'user:u1',
  what: 'page',
  session,
  dwell: undefined,
  order: undefined,
  amount: 0,
  category: undefined,
  crm: undefined,
  channel: 'web',
  delay: 0,
});
// As of 00:11:59.999 (cut = 4k + 1: after the snapshot's newest event, plus k ms), snapshot through 03-01.
const SESSION_AGAIN_AFTER_MIDNIGHT: [Step[], number, number, number] = [
  [view(35, 's1'), view(15, undefined), view(5, 's1')],
  4 * 1_319_998 + 1,
  1,
  0,
];
const silent = { warn() {}, info() {}, error() {}, debug() {} };

async function rowsOf(engine: DuckdbHistory, sql: string): Promise<CustomerHistory[]> {
  const out: CustomerHistory[] = [];
  for await (const page of engine.query(sql))
    for (const row of page) out.push(customerHistoryOf(HistoryRowSchema.parse(row)));
  return out;
}

async function full(engine: DuckdbHistory, archive: Archive, asOf: number) {
  await mapNodes(asOf, { engine, identity: archive.identity });
  return rowsOf(engine, featuresSql(engine.dialect, asOf, holdoutDayOf(asOf, 1)));
}

async function incremental(engine: DuckdbHistory, snapshot: Snapshots, asOf: number) {
  const run = await snapshot.statesAsOf(asOf);
  const sql = customersSql(engine.dialect, run.states, run.orders, holdoutDayOf(asOf, 1));
  return { mode: run.mode, rows: await rowsOf(engine, sql) };
}

/** Each received day and the newest event time in it. */
function daysOf(events: readonly NormalizedEvent[]): Map<string, number> {
  const days = new Map<string, number>();
  for (const e of events) {
    const d = e.receivedAt.slice(0, 10);
    days.set(d, Math.max(days.get(d) ?? 0, Date.parse(e.timestamp ?? '')));
  }
  return new Map([...days].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * A fixed generated history spread over many received days (one step in three a day later), archived and
 * compacted: its days, and the full recomputation as of five days after its last event.
 */
async function multiDayHistory(numRuns: number, seed: number, late: boolean) {
  const steps = fc
    .sample(step, { numRuns, seed })
    .map((s) => ({ ...s, gap: s.gap % 3 === 0 ? 24 * 60 : s.gap }));
  const events = eventsOf(steps, { late, start: START });
  const archive = await archiveOf(events);
  const columnar = await columnarOf(archive);
  const asOf = Date.parse(events.at(-1)?.receivedAt ?? '') + 86_400_000 * 5;
  const expected = await full(columnar.engine, archive, asOf).catch(async (error: unknown) => {
    await columnar.dispose();
    throw error;
  });
  return { days: [...daysOf(events).keys()], archive, columnar, asOf, expected };
}

describe('incremental nights (node-state snapshot) equal a full recomputation', () => {
  it('for generated histories with late arrivals, the snapshot advanced over two nights (property)', async () => {
    let incrementalRuns = 0;
    let splitRebuilds = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(nightStep, { minLength: 1, maxLength: 60 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        async (steps, cut, first, second) => {
          const events = eventsOf(steps, { late: true, start: START });
          const last = Math.max(...events.map((e) => Date.parse(e.timestamp ?? '')));
          const newest = daysOf(events);
          // Two nights: the snapshot through one day (or none of them: "1999-…"), then a later one.
          const choices = ['1999-12-31', ...newest.keys()];
          const i = first % choices.length;
          const j = i + (second % (choices.length - i));
          const through = choices[j] ?? '';
          // Mostly as of after the snapshot's newest event (a night), else anywhere (a back-test).
          const held = Math.max(START - 1, ...[...newest].filter(([d]) => d <= through).map(([, ts]) => ts));
          const from = cut % 4 === 0 ? START : held + 1;
          const asOf = from + (Math.floor(cut / 4) % (last - from + 2 * MINUTE));
          const archive = await archiveOf(events);
          // Few events per node-state pass: a rebuild or a back-test splits the nodes into several parts.
          const columnar = await columnarOf(archive, { stateEventsPerPass: 1 + (cut % 3) });
          try {
            const { engine } = columnar;
            const expected = await full(engine, archive, asOf);
            const snapshot = snapshots(engine, silent);
            const built = await snapshot.advance(choices[i] ?? '');
            if ((built.passes ?? 0) > 1) splitRebuilds++;
            await snapshot.advance(through);
            const got = await incremental(engine, snapshot, asOf);
            if (got.mode === 'incremental') incrementalRuns++;
            expect(got.rows).toEqual(expected);
          } finally {
            await columnar.dispose();
          }
        },
      ),
      { numRuns: 80, examples: [SESSION_AGAIN_AFTER_MIDNIGHT] },
    );
    // The property must mostly exercise the merge, not the full-recomputation fallback.
    expect(incrementalRuns).toBeGreaterThan(40);
    // And its rebuilds must often be split into passes.
    expect(splitRebuilds).toBeGreaterThan(5);
  }, 600_000);

  it('a snapshot is kept, advanced, rebuilt when a day it holds changed, and reloaded from its files', async () => {
    const { days, archive, columnar, asOf, expected } = await multiDayHistory(200, 7, true);
    try {
      expect(days.length).toBeGreaterThan(4);
      const { engine } = columnar;
      const [d1, d2, d3] = [days[1] ?? '', days[3] ?? '', days.at(-1) ?? ''];
      const snapshot = snapshots(engine, silent);
      expect(await snapshot.advance(d1)).toMatchObject({ action: 'rebuilt', through: d1, days: 2 });
      expect(await snapshot.advance(d1)).toMatchObject({ action: 'kept', through: d1 });
      expect(await snapshot.advance(d2)).toMatchObject({ action: 'advanced', through: d2, days: 2 });
      expect(await incremental(engine, snapshot, asOf)).toEqual({ mode: 'incremental', rows: expected });

      // A new engine over the same folder (a warm runner's next container) loads the stored snapshot.
      const again = snapshots(engine, silent);
      expect(await again.advance(d2)).toMatchObject({ action: 'kept', through: d2 });

      // A day the snapshot holds is rewritten (an erasure, a redrive compacted by name): rebuilt.
      const file = join(engine.root, `facts/dt=${days[0]}/part-0.parquet`);
      await writeFile(`${file}.etag`, '"changed"');
      expect(await again.advance(d3)).toMatchObject({
        action: 'rebuilt',
        through: d3,
        reason: `day ${days[0]} changed`,
      });
      expect(await incremental(engine, again, asOf)).toEqual({ mode: 'incremental', rows: expected });

      // A back-test before the snapshot's newest event recomputes from the whole archive.
      const early = Date.parse(`${days[1]}T00:00:00.000Z`);
      expect(await incremental(engine, again, early)).toEqual({
        mode: 'full',
        rows: await full(engine, archive, early),
      });
      // One stored snapshot: the manifest names its files, the earlier ones are gone.
      const stored = JSON.parse(await readFile(join(engine.root, 'snapshot.json'), 'utf8'));
      expect(stored).toMatchObject({ manifest: { through: d3 } });
      expect(await readdir(join(engine.root, 'snapshot'))).toEqual([stored.files[0].split('/')[1]]);

      // A snapshot an earlier deployment stored (its manifest has no format: session ids kept as text)
      // is rebuilt, not merged with states of another shape.
      expect(stored.manifest.format).toMatch(/^2\/duckdb /);
      const { format: _, ...earlier } = stored.manifest;
      await writeFile(join(engine.root, 'snapshot.json'), JSON.stringify({ ...stored, manifest: earlier }));
      const upgraded = snapshots(engine, silent);
      expect(await upgraded.advance(d3)).toMatchObject({
        action: 'rebuilt',
        reason: expect.stringMatching(/^made as format 1, not 2\/duckdb /),
      });
      // (Mapped again: the back-test above mapped only the nodes it saw.)
      expect(await full(engine, archive, asOf)).toEqual(expected);
      expect(await incremental(engine, upgraded, asOf)).toEqual({ mode: 'incremental', rows: expected });
    } finally {
      await columnar.dispose();
    }
  }, 300_000);

  it('a merge that fails half-way leaves the snapshot as it was, and the next advance is exact', async () => {
    const { days, columnar, asOf, expected } = await multiDayHistory(120, 11, false);
    try {
      const { engine } = columnar;
      // The states' insert fails once, after the touched nodes' old states were deleted.
      let failures = 0;
      const faulty: DuckdbHistory = {
        ...engine,
        exec: async (sql) => {
          if (failures === 0 && sql.startsWith('INSERT INTO snap_state')) {
            failures++;
            throw new Error('injected failure');
          }
          return engine.exec(sql);
        },
      };
      const snapshot = snapshots(faulty, silent);
      const [d1, d2] = [days[1] ?? '', days.at(-1) ?? ''];
      expect(await snapshot.advance(d1)).toMatchObject({ action: 'rebuilt' });
      await expect(snapshot.advance(d2)).rejects.toThrow('injected failure');
      expect(failures).toBe(1);
      expect(await snapshot.advance(d2)).toMatchObject({ action: 'advanced', through: d2 });
      expect(await incremental(engine, snapshot, asOf)).toEqual({ mode: 'incremental', rows: expected });
    } finally {
      await columnar.dispose();
    }
  }, 300_000);
});
