// The daily data-quality report: what was quarantined on a day, by source and by reason, and how much of
// it has been replayed. Built from the quarantine itself, stored as JSON beside the archive.
import { z } from 'zod';
import type { QuarantineStore } from './model.js';

export const QuarantineReport = z
  .object({
    day: z.string(),
    generatedAt: z.string(),
    total: z.number().int(),
    open: z.number().int(),
    replayed: z.number().int(),
    byReason: z.record(z.string(), z.number().int()),
    bySource: z.record(
      z.string(),
      z.object({ total: z.number().int(), byReason: z.record(z.string(), z.number().int()) }),
    ),
  })
  .meta({ id: 'QuarantineReport' });
export type QuarantineReport = z.infer<typeof QuarantineReport>;

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Reads every entry of the day (page by page) and counts; an entry with several reasons counts once per code. */
export async function buildQuarantineReport(
  day: string,
  store: Pick<QuarantineStore, 'list'>,
  now: number,
): Promise<QuarantineReport> {
  const report: QuarantineReport = {
    day,
    generatedAt: new Date(now).toISOString(),
    total: 0,
    open: 0,
    replayed: 0,
    byReason: {},
    bySource: {},
  };
  let cursor: string | undefined;
  do {
    const page = await store.list({ fromDay: day, toDay: day, limit: 500, cursor });
    for (const entry of page.items) {
      report.total++;
      report[entry.status]++;
      const source = report.bySource[entry.sourceId] ?? { total: 0, byReason: {} };
      source.total++;
      for (const code of new Set(entry.reasons.map((r) => r.code))) {
        bump(report.byReason, code);
        bump(source.byReason, code);
      }
      report.bySource[entry.sourceId] = source;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return report;
}

/** reports/quarantine/dt=YYYY-MM-DD.json: one object per day, rewritten when the report is run again. */
export const quarantineReportKey = (day: string) => `reports/quarantine/dt=${day}.json`;

/** The UTC day before `now`: a nightly run reports on the day that just ended. */
export const previousDay = (now: number) => new Date(now - 86_400_000).toISOString().slice(0, 10);
