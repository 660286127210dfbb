// The storage ports of segmentation runs (lib/adapters/{dynamodb,s3,sqs} implement them; tests use the
// emulators through the same adapters).
import type { Assignment, AssignmentRecord, RunRecord, SegmentChange } from './model.js';
import type { RunReport } from './report.js';
import type { SegmentId } from './segments.js';

export interface RunStore {
  getRun(runId: string): Promise<RunRecord | undefined>;
  putRun(run: RunRecord): Promise<void>;
  /**
   * A page of runs, newest as-of first (then latest requested), in one bounded read. `after` is the
   * `next` of the previous page; `asOfBefore` keeps only runs as of strictly earlier times.
   */
  listRuns(page: { limit: number; after?: string; asOfBefore?: string }): Promise<RunsPage>;
  /** The live run whose assignments profiles carry now. */
  publishedRun(): Promise<string | undefined>;
  /**
   * Moves the published pointer to this run unless a run with a later as-of holds it (or, without
   * `replaceSameAsOf`, another run of the same as-of); false then. The run holding it may re-claim it.
   */
  claimPublished(runId: string, asOf: string, options: { replaceSameAsOf: boolean }): Promise<boolean>;
  /**
   * Assignments shown on profiles, a chunk at a time (idempotent: one item per customer, overwritten).
   */
  putAssignments(runId: string, asOf: string, assignments: readonly Assignment[]): Promise<void>;
  getAssignment(customerId: string): Promise<(Assignment & { runId: string; asOf: string }) | undefined>;
}

export interface RunsPage {
  runs: RunRecord[];
  /** Where the next page starts; absent on the last page. */
  next?: string;
}

export interface MembersPage {
  members: Assignment[];
  /** Pass back to get the next page; absent on the last page. */
  next?: string;
}

export interface RunFiles {
  /** The run report as JSON; returns its key. */
  putReport(runId: string, report: RunReport): Promise<string>;
  getReport(runId: string): Promise<RunReport | undefined>;
  /**
   * Collects a run's assignments chunk by chunk, then writes per segment the members as Parquet (API,
   * transitions) and CSV (export); `finish` returns the run's prefix.
   */
  assignmentWriter(runId: string): AssignmentWriter;
  /**
   * customerId -> segment of a past run, for transitions; undefined if the run wrote none. Throws
   * DamagedObjectError if the file does not decode.
   */
  segmentsOf(runId: string): Promise<Map<string, SegmentId> | undefined>;
  membersPage(
    runId: string,
    segment: SegmentId,
    cursor: string | undefined,
    limit: number,
  ): Promise<MembersPage>;
}

export interface AssignmentWriter {
  add(chunk: readonly AssignmentRecord[]): void;
  finish(): Promise<string>;
}

/** A stored object that could not be read or decoded; its key goes into the run's error and the log. */
export class ObjectError extends Error {
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`${key}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ObjectError';
  }
}

/**
 * An object that exists but does not decode (truncated, not gzip, rows of another shape): unlike an
 * outage, retrying will not help, so a reader that can do without it (transitions) goes on without it.
 */
export class DamagedObjectError extends ObjectError {
  constructor(key: string, cause: unknown) {
    super(key, cause);
    this.name = 'DamagedObjectError';
  }
}

/** What the log needs of a failure: the message, the stack (with the cause's) and the object key. */
export function failureDetails(error: unknown): { error: string; stack?: string; objectKey?: string } {
  if (!(error instanceof Error)) return { error: String(error) };
  const cause =
    error.cause instanceof Error ? `\ncaused by: ${error.cause.stack ?? error.cause.message}` : '';
  return {
    error: error.message,
    stack: `${error.stack ?? error.message}${cause}`,
    ...(error instanceof ObjectError ? { objectKey: error.key } : {}),
  };
}

export interface ChangePublisher {
  /** Publishes changes in chunks; at-least-once, so consumers key on (runId, customerId). */
  publish(runId: string, asOf: string, changes: readonly SegmentChange[]): Promise<number>;
}
