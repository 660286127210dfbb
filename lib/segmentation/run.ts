// A segmentation run from request to published result. At-least-once safe: a completed run is never
// redone, every write is an idempotent overwrite keyed by run and customer, and a run that died midway
// is simply run again (its files are rewritten with the same content: same inputs, same seed).

import type { Logger } from '../log.js';
import { fitModels } from '../models/nightly.js';
import { DAY_MS, dayOf } from '../models/purchases.js';
import { INTERACTION_DAYS, nightlyRecommendations, type ProductInteraction } from '../models/recommend.js';
import type { TagRequests } from '../tags/consume.js';
import { holdoutDayOf } from './features.js';
import { renderAssignment } from './members.js';
import { isNightly, type RunRecord, type RunRequest, type RunSummary } from './model.js';
import {
  type ChangePublisher,
  DamagedObjectError,
  failureDetails,
  type RunFiles,
  type RunStore,
} from './ports.js';
import type { HistoryReader, StageTimer } from './reader.js';
import { populationReport, type RunReport, segmentReports } from './report.js';
import { segmentCustomers } from './segment.js';
import type { SegmentId } from './segments.js';
import { TransitionCounter } from './transitions.js';

export interface RunDeps {
  readonly history: HistoryReader;
  readonly runs: RunStore;
  readonly files: RunFiles;
  readonly changes: ChangePublisher;
  /** The tags queue: a live run names every customer it published, for the nightly tag evaluation. */
  readonly tags?: TagRequests;
  readonly codeVersion: string;
  readonly log: Logger;
  readonly now?: () => number;
}

/** The run record of a new request, as POST /v1/segmentation/runs and the schedule store it. */
export function queuedRun(request: RunRequest, codeVersion: string): RunRecord {
  return {
    runId: request.runId,
    status: 'queued',
    asOf: request.parameters.asOf,
    parameters: request.parameters,
    publish: request.publish,
    published: false,
    codeVersion,
    requestedBy: request.requestedBy,
    requestedAt: request.requestedAt,
    attempts: 0,
  };
}

export async function executeRun(request: RunRequest, deps: RunDeps): Promise<RunRecord> {
  const now = deps.now ?? Date.now;
  const existing = await deps.runs.getRun(request.runId);
  if (existing?.status === 'completed') return existing;
  const base = existing ?? queuedRun(request, deps.codeVersion);
  const running: RunRecord = {
    ...base,
    status: 'running',
    codeVersion: deps.codeVersion,
    startedAt: new Date(now()).toISOString(),
    attempts: base.attempts + 1,
  };
  await deps.runs.putRun(running);
  try {
    const done = await compute(running, request, deps, now);
    await deps.runs.putRun(done);
    deps.log.info('segmentation run completed', { runId: done.runId, summary: done.summary });
    return done;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The stored record, not `running`: it may have gained `publishedOver`, which a retry needs.
    const latest = (await deps.runs.getRun(running.runId)) ?? running;
    await deps.runs.putRun({
      ...latest,
      status: 'failed',
      error: message,
      finishedAt: new Date(now()).toISOString(),
    });
    throw error;
  }
}

/** Runs read per page while looking for one (runs are daily: the one sought is near the top). */
const FIND_PAGE = 25;

/** The newest run (as of before `asOfBefore`, if given) that `wanted` accepts, page by page. */
export async function findRun(
  runs: RunStore,
  wanted: (run: RunRecord) => boolean,
  asOfBefore?: string,
): Promise<RunRecord | undefined> {
  let after: string | undefined;
  do {
    const page = await runs.listRuns({
      limit: FIND_PAGE,
      ...(after === undefined ? {} : { after }),
      ...(asOfBefore === undefined ? {} : { asOfBefore }),
    });
    const found = page.runs.find(wanted);
    if (found) return found;
    after = page.next;
  } while (after !== undefined);
  return undefined;
}

/** Assignments built, written and diffed per chunk: see segment.ts for why. */
const CHUNK = 10_000;

async function compute(
  started: RunRecord,
  request: RunRequest,
  deps: RunDeps,
  now: () => number,
): Promise<RunRecord> {
  let run = started;
  const stages: Record<string, number> = {};
  const stage: StageTimer = async (name, work) => {
    const start = now();
    const out = await work();
    stages[name] = now() - start;
    return out;
  };
  const asOf = Date.parse(run.asOf);
  const { holdoutDays, clvMonths, monthlyDiscountRate, seed } = run.parameters;
  const holdoutDay = holdoutDayOf(asOf, holdoutDays);
  const { features, ids, input } = await deps.history.read(asOf, stage, holdoutDay);
  const models = await stage('models', () =>
    fitModels(features, { asOf, holdoutDays, clvMonths, monthlyDiscountRate, seed }),
  );
  const recommendations = await stage('recommendations', async () => {
    const source = deps.history.interactions?.(asOf, INTERACTION_DAYS * DAY_MS, holdoutDay);
    if (!source) return undefined;
    const rows: ProductInteraction[] = [];
    for await (const row of source) rows.push(row);
    return nightlyRecommendations(rows, holdoutDay, dayOf(asOf - 1));
  });
  const result = await stage('segmentation', () => segmentCustomers(features, run.parameters, models));

  // Transitions for the report: against the latest completed run before this one (live or back-test).
  const previous = await findRun(deps.runs, (r) => r.status === 'completed', run.asOf);
  const previousSegments = previous ? await segmentsOfPrevious(previous.runId, deps) : undefined;
  const diff =
    previous && previousSegments ? new TransitionCounter(previous.runId, previousSegments) : undefined;
  let live: TransitionCounter | undefined;
  if (request.publish) {
    run = { ...run, publishedOver: run.publishedOver ?? (await deps.runs.publishedRun()) ?? '' };
    live = await stage('claim', () => claim(run, deps));
  }

  const writer = deps.files.assignmentWriter(run.runId);
  let changes = 0;
  let tagMessages = 0;
  await stage('assignments', async () => {
    for (const built of result.chunks(CHUNK)) {
      const chunk = built.map((a) => ({
        ...a,
        ...ids.get(a.customerId),
        ...(recommendations ? { recommendations: recommendations.forCustomer(a.customerId) } : {}),
      }));
      writer.add(chunk);
      diff?.add(chunk);
      if (live) {
        await deps.runs.putAssignments(run.runId, run.asOf, chunk.map(renderAssignment));
        changes += await deps.changes.publish(run.runId, run.asOf, live.add(chunk));
        // After their assignments: the evaluation reads the segment and scores just published.
        tagMessages +=
          (await deps.tags?.request(
            'run',
            chunk.map((a) => a.customerId),
          )) ?? 0;
      }
    }
    diff?.exits();
    if (live) changes += await deps.changes.publish(run.runId, run.asOf, live.exits());
  });
  const exportPrefix = await stage('files', () => writer.finish());
  if (live) deps.log.info('segment changes published', { runId: run.runId, messages: changes, tagMessages });

  const report: RunReport = {
    runId: run.runId,
    asOf: run.asOf,
    parameters: run.parameters,
    codeVersion: run.codeVersion,
    generatedAt: new Date(now()).toISOString(),
    input,
    stagesMs: stages,
    populations: { buyers: populationReport(result.buyers), prospects: populationReport(result.prospects) },
    segments: segmentReports(result),
    rfmSegments: result.rfmLabels,
    models: { ...models.report, recommendations: recommendations?.report ?? null },
    transitions: diff?.transitions() ?? null,
  };
  const reportKey = await deps.files.putReport(run.runId, report);
  const summary: RunSummary = {
    customers: result.size,
    buyers: result.buyers.size,
    prospects: result.prospects.size,
    segments: Object.fromEntries(report.segments.map((s) => [s.id, s.size])),
    k: { buyers: result.buyers.k, prospects: result.prospects.k },
    silhouette: {
      buyers: round3(result.buyers.selection?.validation.silhouette),
      prospects: round3(result.prospects.selection?.validation.silhouette),
    },
    moved: diff?.transitions().moved ?? null,
  };
  const done: RunRecord = {
    ...run,
    status: 'completed',
    published: live !== undefined,
    finishedAt: new Date(now()).toISOString(),
    summary,
    reportKey,
    exportPrefix,
  };
  if (request.publish && !live) {
    done.note =
      'A run with a later as-of time (or, for a nightly run, a live run of the same day) is published; this one was kept as a back-test.';
  }
  return done;
}

/**
 * Claims the published pointer for a live run and returns the counter of its changes against the run
 * published before, or undefined when a run with a later as-of holds the pointer (this one is then a
 * back-test). The previous run is stored on the run record first, so a retry after a crash diffs
 * against the same run, and two live runs never publish over each other out of order.
 */
async function claim(run: RunRecord, deps: RunDeps): Promise<TransitionCounter | undefined> {
  const before = run.publishedOver ?? '';
  await deps.runs.putRun(run);
  // The nightly run never replaces a live run of its own day (an operator's, the demo's): asked for by
  // the hourly schedule, it may be computed after one, and what GET /v1/segments serves would flip.
  const replaceSameAsOf = !isNightly(run.runId);
  if (!(await deps.runs.claimPublished(run.runId, run.asOf, { replaceSameAsOf }))) return undefined;
  const previous = before && before !== run.runId ? await segmentsOfPrevious(before, deps) : undefined;
  return new TransitionCounter(before, previous ?? new Map());
}

/**
 * The segments of a previous run, or undefined if its file is damaged: one bad object must not stop every
 * later run. The report then has no transitions, and a live run publishes every customer as an entry (as
 * the first live run does); consumers key on (runId, customerId), so that is safe to act on. An outage is
 * not damage: it fails the run, which is retried.
 */
async function segmentsOfPrevious(
  previousRunId: string,
  deps: RunDeps,
): Promise<Map<string, SegmentId> | undefined> {
  try {
    return await deps.files.segmentsOf(previousRunId);
  } catch (error) {
    if (!(error instanceof DamagedObjectError)) throw error;
    deps.log.warn('previous run unreadable: transitions skipped', {
      previousRunId,
      ...failureDetails(error),
    });
    return undefined;
  }
}

const round3 = (x: number | undefined): number | null =>
  x === undefined ? null : Math.round(x * 1000) / 1000;
