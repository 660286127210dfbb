// A segmentation run from request to published result. At-least-once safe: a completed run is never
// redone, every write is an idempotent overwrite keyed by run and customer, and a run that died midway
// is simply run again (its files are rewritten with the same content: same inputs, same seed).
import type { Logger } from '../log.js';
import { featuresOf } from './features.js';
import { type HistoryDeps, historyAsOf } from './history.js';
import type { RunRecord, RunRequest, RunSummary } from './model.js';
import type { ChangePublisher, RunFiles, RunStore } from './ports.js';
import { populationReport, type RunReport, rfmSegmentCounts, segmentReports } from './report.js';
import { segmentCustomers } from './segment.js';
import { transitionsBetween } from './transitions.js';

export interface RunDeps {
  readonly history: HistoryDeps;
  readonly runs: RunStore;
  readonly files: RunFiles;
  readonly changes: ChangePublisher;
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
    await deps.runs.putRun({
      ...running,
      status: 'failed',
      error: message,
      finishedAt: new Date(now()).toISOString(),
    });
    throw error;
  }
}

async function compute(
  run: RunRecord,
  request: RunRequest,
  deps: RunDeps,
  now: () => number,
): Promise<RunRecord> {
  const stages: Record<string, number> = {};
  const stage = async <T>(name: string, work: () => Promise<T> | T): Promise<T> => {
    const start = now();
    const out = await work();
    stages[name] = now() - start;
    return out;
  };
  const asOf = Date.parse(run.asOf);
  const history = await stage('history', () => historyAsOf(asOf, deps.history));
  const features = await stage('features', () =>
    [...history.customers].map(([customerId, agg]) => featuresOf(customerId, agg, asOf)),
  );
  const result = await stage('segmentation', () => segmentCustomers(features, run.parameters));

  const previous = (await deps.runs.listRuns()).find(
    (r) => r.status === 'completed' && r.asOf < run.asOf && r.runId !== run.runId,
  );
  const previousSegments = previous ? await deps.files.segmentsOf(previous.runId) : undefined;
  const diff =
    previous && previousSegments
      ? transitionsBetween(previous.runId, previousSegments, result.assignments)
      : undefined;

  const report: RunReport = {
    runId: run.runId,
    asOf: run.asOf,
    parameters: run.parameters,
    codeVersion: run.codeVersion,
    generatedAt: new Date(now()).toISOString(),
    input: {
      objects: history.objects,
      events: history.events,
      eventsAfterAsOf: history.later,
      customers: features.length,
    },
    stagesMs: stages,
    populations: { buyers: populationReport(result.buyers), prospects: populationReport(result.prospects) },
    segments: segmentReports([result.buyers, result.prospects], result.assignments, result.medians),
    rfmSegments: rfmSegmentCounts(result.assignments),
    transitions: diff?.transitions ?? null,
  };
  const exportPrefix = await stage('files', () => deps.files.putAssignments(run.runId, result.assignments));
  const reportKey = await deps.files.putReport(run.runId, report);

  let published = false;
  let note: string | undefined;
  if (request.publish) {
    published = await stage('publish', () => publish(run, result.assignments, deps));
    if (!published) note = 'A run with a later as-of time is published; this one was kept as a back-test.';
  }
  const summary: RunSummary = {
    customers: features.length,
    buyers: result.buyers.size,
    prospects: result.prospects.size,
    segments: Object.fromEntries(report.segments.map((s) => [s.id, s.size])),
    k: { buyers: result.buyers.k, prospects: result.prospects.k },
    silhouette: {
      buyers: round3(result.buyers.selection?.validation.silhouette),
      prospects: round3(result.prospects.selection?.validation.silhouette),
    },
    moved: diff?.transitions.moved ?? null,
  };
  const done: RunRecord = {
    ...run,
    status: 'completed',
    published,
    finishedAt: new Date(now()).toISOString(),
    summary,
    reportKey,
    exportPrefix,
  };
  if (note) done.note = note;
  return done;
}

/**
 * Writes assignments to profiles and publishes entry/exit events against the previously published run.
 * Claiming the pointer first means two live runs never both publish over each other out of order.
 */
async function publish(run: RunRecord, assignments: RunReportAssignments, deps: RunDeps): Promise<boolean> {
  // Remembered on the run before the pointer moves, so a retry after a crash diffs against the same run.
  const before = run.publishedOver ?? (await deps.runs.publishedRun()) ?? '';
  if (run.publishedOver === undefined) await deps.runs.putRun({ ...run, publishedOver: before });
  if (!(await deps.runs.claimPublished(run.runId, run.asOf))) return false;
  await deps.runs.putAssignments(run.runId, run.asOf, assignments);
  const previous = before && before !== run.runId ? await deps.files.segmentsOf(before) : undefined;
  const { changes } = transitionsBetween(before, previous ?? new Map(), assignments);
  const sent = await deps.changes.publish(run.runId, run.asOf, changes);
  deps.log.info('segment changes published', { runId: run.runId, changes: changes.length, messages: sent });
  return true;
}

const round3 = (x: number | undefined): number | null =>
  x === undefined ? null : Math.round(x * 1000) / 1000;

type RunReportAssignments = Parameters<typeof transitionsBetween>[2];
