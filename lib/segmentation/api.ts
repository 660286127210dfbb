// The segmentation API's use cases and request shapes: runs (ask, list, show with report), segments of a
// run, and their members page by page. Handlers in functions/http/segmentation.ts stay thin.
import { z } from 'zod';
import { invalid, notFound, type Outcome, ok } from '../outcome.js';
import { Assignment, RunRecord } from './model.js';
import type { RunFiles, RunStore } from './ports.js';
import type { RunReport } from './report.js';
import { findRun } from './run.js';
import { SEGMENT_IDS, type SegmentId } from './segments.js';

export interface SegmentationReadDeps {
  readonly runs: RunStore;
  readonly files: RunFiles;
}

/** Run ids are ASCII (seg_<asOf>_<suffix>), so characters are bytes: far below a sort key's 1,024. */
const MAX_RUN_ID_LENGTH = 128;

export const RunIdParam = z.object({
  id: z
    .string()
    .regex(/^seg_[0-9A-Za-z_-]+$/)
    .max(MAX_RUN_ID_LENGTH)
    .meta({ description: 'Run id' }),
});
export const SegmentParam = z.object({ id: z.enum(SEGMENT_IDS).meta({ description: 'Segment id' }) });

const RUN_LISTING_POSITION = /^[0-9T:.Z+-]{10,40}\|[0-9T:.Z+-]{10,40}\|seg_[0-9A-Za-z_-]{1,128}$/;
const positionOf = (cursor: string) => Buffer.from(cursor, 'base64url').toString();

export const RunListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,400}$/)
    // A cursor is a listing position (`<asOf>|<requestedAt>|<runId>`); anything else would reach the
    // store as a start key it refuses (an empty one was a 500).
    .refine((cursor) => RUN_LISTING_POSITION.test(positionOf(cursor)), {
      error: 'is not a cursor this API returned',
    })
    .optional()
    .meta({ description: 'nextCursor of the previous page' }),
});

export const RunListResponse = z
  .object({
    runs: z.array(RunRecord),
    nextCursor: z.string().optional().meta({ description: 'Absent on the last page' }),
  })
  .meta({ id: 'SegmentationRunsPage' });

export const SegmentsQuery = z.object({
  runId: z
    .string()
    .max(MAX_RUN_ID_LENGTH)
    .optional()
    .meta({ description: 'A completed run; default: the published run' }),
});

/** `<runId>.<byte offset>`: a page continues in the run the first page came from. */
const MEMBERS_CURSOR = /^(seg_[0-9A-Za-z_-]{1,128})\.(\d{1,15})$/;

export const MembersQuery = SegmentsQuery.extend({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().regex(MEMBERS_CURSOR).optional().meta({
    description:
      'nextCursor of the previous page. It names its run: the next pages come from the same run, even if another is published meanwhile',
  }),
});

export const RunResponse = z
  .object({
    run: RunRecord,
    report: z.record(z.string(), z.unknown()).nullable().meta({
      description: 'The run report (see docs/segmentation.md) once the run completed',
    }),
  })
  .meta({ id: 'SegmentationRunResponse' });

export const SegmentSummary = z
  .object({
    id: z.enum(SEGMENT_IDS),
    title: z.string(),
    population: z.enum(['buyers', 'prospects']),
    rule: z.string(),
    size: z.number().int(),
    share: z.number(),
    reasons: z.array(z.string()),
  })
  .meta({ id: 'SegmentSummary' });

export const SegmentsResponse = z
  .object({ runId: z.string(), asOf: z.string(), segments: z.array(SegmentSummary) })
  .meta({ id: 'SegmentsResponse' });

export const MembersResponse = z
  .object({
    runId: z.string(),
    segment: z.enum(SEGMENT_IDS),
    members: z.array(Assignment),
    nextCursor: z.string().optional(),
  })
  .meta({ id: 'SegmentMembersPage' });

/** A page of runs, newest as-of first; the cursor is the store's position, opaque to clients. */
export async function listRunsPage(
  query: z.infer<typeof RunListQuery>,
  deps: Pick<SegmentationReadDeps, 'runs'>,
): Promise<z.infer<typeof RunListResponse>> {
  const after = query.cursor === undefined ? undefined : positionOf(query.cursor);
  const page = await deps.runs.listRuns({ limit: query.limit, ...(after === undefined ? {} : { after }) });
  return page.next === undefined
    ? { runs: page.runs }
    : { runs: page.runs, nextCursor: Buffer.from(page.next).toString('base64url') };
}

export async function showRun(
  runId: string,
  deps: SegmentationReadDeps,
): Promise<Outcome<z.infer<typeof RunResponse>>> {
  const run = await deps.runs.getRun(runId);
  if (!run) return notFound(`No segmentation run ${runId}.`);
  const report = run.status === 'completed' ? await deps.files.getReport(runId) : undefined;
  return ok({ run, report: (report as unknown as Record<string, unknown>) ?? null });
}

/**
 * The completed run a read refers to: the one named, else the published one — or, while a newly claimed
 * live run is still writing, the latest completed live run before it.
 */
async function completedRun(
  runId: string | undefined,
  deps: SegmentationReadDeps,
): Promise<Outcome<RunRecord>> {
  if (runId !== undefined) {
    const run = await deps.runs.getRun(runId);
    if (!run) return notFound(`No segmentation run ${runId}.`);
    if (run.status !== 'completed')
      return notFound(`Segmentation run ${runId} is ${run.status}, not completed.`);
    return ok(run);
  }
  const published = await deps.runs.publishedRun();
  const run = published === undefined ? undefined : await deps.runs.getRun(published);
  if (run?.status === 'completed') return ok(run);
  const earlier = await findRun(deps.runs, (r) => r.status === 'completed' && r.published);
  if (!earlier) return notFound('No segmentation run has been published yet: POST /v1/segmentation/runs.');
  return ok(earlier);
}

export async function listSegments(
  runId: string | undefined,
  deps: SegmentationReadDeps,
): Promise<Outcome<z.infer<typeof SegmentsResponse>>> {
  const completed = await completedRun(runId, deps);
  if (!completed.ok) return completed;
  const run = completed.value;
  const report: RunReport | undefined = await deps.files.getReport(run.runId);
  if (!report) return notFound(`The report of run ${run.runId} is missing.`);
  return ok({
    runId: run.runId,
    asOf: run.asOf,
    segments: report.segments.map((s) => ({
      id: s.id,
      title: s.title,
      population: s.population,
      rule: s.rule,
      size: s.size,
      share: s.share,
      reasons: s.reasons.map((r) => r.text),
    })),
  });
}

export async function segmentMembers(
  segment: SegmentId,
  query: z.infer<typeof MembersQuery>,
  deps: SegmentationReadDeps,
): Promise<Outcome<z.infer<typeof MembersResponse>>> {
  const [, cursorRun, offset] = (query.cursor ?? '').match(MEMBERS_CURSOR) ?? [];
  if (cursorRun !== undefined && query.runId !== undefined && query.runId !== cursorRun)
    return invalid(`The cursor is a page of run ${cursorRun}, not of ${query.runId}.`, [
      { path: 'cursor', code: 'invalid_cursor', message: `belongs to run ${cursorRun}` },
    ]);
  const completed = await completedRun(cursorRun ?? query.runId, deps);
  if (!completed.ok) return completed;
  const run = completed.value;
  const page = await deps.files.membersPage(run.runId, segment, offset, query.limit);
  const out: z.infer<typeof MembersResponse> = { runId: run.runId, segment, members: page.members };
  if (page.next !== undefined) out.nextCursor = `${run.runId}.${page.next}`;
  return ok(out);
}
