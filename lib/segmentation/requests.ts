// Asking for a run: the nightly schedule, the admin API and the CLI all build a RunRequest here, store the
// queued run and hand it to the runner queue (a run takes minutes: longer than an HTTP request may).
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { stableStringify } from '../ingest/normalize.js';
import type { FieldIssue } from '../ingest/spec.js';
import { NIGHTLY, RunParameterFields, RunParameters, type RunRecord, RunRequest } from './model.js';
import type { RunStore } from './ports.js';
import { queuedRun } from './run.js';

export interface RunQueue {
  enqueue(request: RunRequest): Promise<void>;
}

export interface RequestDeps extends AsOfWindow {
  readonly runs: RunStore;
  readonly queue: RunQueue;
  readonly codeVersion: string;
}

/** What bounds an as-of time: the business time zone's coming midnight, and the ingestion floor. */
export interface AsOfWindow {
  readonly timezone: string;
  readonly now: () => number;
  /** PRECIS_MIN_TIMESTAMP: no earlier event is ever archived, so no earlier run can see anything. */
  readonly minAsOf: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether YYYY-MM-DD names a day of the calendar (Date.parse rolls 2024-02-30 over to March 1st). */
const isCalendarDate = (date: string): boolean => {
  const ms = Date.parse(`${date}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === date;
};

/** YYYY-MM-DD or an ISO instant, whose date is a real one; the window is checked by buildRequest. */
export const AsOf = z
  .union([z.string().regex(DATE), z.iso.datetime({ offset: true })], {
    error: 'must be a real date (YYYY-MM-DD) or an ISO 8601 instant',
  })
  .refine((asOf) => isCalendarDate(asOf.slice(0, 10)), { message: 'is not a real date' })
  .meta({
    description:
      'YYYY-MM-DD (midnight at the start of that day in the business time zone) or an instant; not before PRECIS_MIN_TIMESTAMP, not after the coming midnight. Default: the latest midnight.',
  });

/** The body of POST /v1/segmentation/runs (every field optional). */
export const RunRequestBody = z
  .object({
    asOf: AsOf.optional(),
    publish: z.boolean().optional().meta({
      description:
        'Write assignments to profiles and publish segment changes. Default: true without asOf (a live run), false with one (a back-test).',
    }),
    parameters: RunParameterFields.omit({ asOf: true, timezone: true }).partial().optional(),
  })
  .strict()
  .meta({ id: 'SegmentationRunRequest' });
export type RunRequestBody = z.infer<typeof RunRequestBody>;

/** Minutes the zone is ahead of UTC at `at`. */
function offsetMinutes(at: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  // setUTCFullYear, not Date.UTC: that maps years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(get('year'), get('month') - 1, get('day'));
  const local = date.setUTCHours(get('hour'), get('minute'), get('second'), 0);
  return Math.round((local - Math.floor(at / 1000) * 1000) / 60_000);
}

/** The UTC instant of midnight at the start of `date` (YYYY-MM-DD) in `timezone`. */
export function midnightIn(date: string, timezone: string): number {
  // Parsed as ISO, not Date.UTC(y, m, d): that maps years 0-99 to 1900-1999.
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  // Two passes settle days when the offset changes (DST) near midnight.
  let guess = utcMidnight - offsetMinutes(utcMidnight, timezone) * 60_000;
  guess = utcMidnight - offsetMinutes(guess, timezone) * 60_000;
  return guess;
}

const localDate = (now: number, timezone: string, days = 0): string =>
  new Date(now + offsetMinutes(now, timezone) * 60_000 + days * 86_400_000).toISOString().slice(0, 10);

/** The latest midnight in `timezone` at or before `now`: the nightly run's as-of time. */
export function latestMidnight(now: number, timezone: string): number {
  return midnightIn(localDate(now, timezone), timezone);
}

/**
 * The latest as-of time a run may have: the coming midnight (a run "as of tomorrow" sees all of today).
 * A later one would see no more events, only measure recency from a day that has not come.
 */
export function comingMidnight(now: number, timezone: string): number {
  return midnightIn(localDate(now, timezone, 1), timezone);
}

export type BuiltRequest =
  | { readonly ok: true; readonly value: RunRequest }
  | { readonly ok: false; readonly issues: FieldIssue[] };

function windowIssue(asOf: number, window: AsOfWindow): FieldIssue | undefined {
  const at = new Date(asOf).toISOString();
  const latest = comingMidnight(window.now(), window.timezone);
  if (asOf > latest) {
    const message = `${at} is after the coming midnight (${new Date(latest).toISOString()} in ${window.timezone})`;
    return { path: 'asOf', code: 'as_of_too_late', message };
  }
  if (asOf < window.minAsOf) {
    const floor = new Date(window.minAsOf).toISOString();
    const message = `${at} is before ${floor}, the earliest event time ingestion accepts (PRECIS_MIN_TIMESTAMP)`;
    return { path: 'asOf', code: 'as_of_too_early', message };
  }
  return undefined;
}

const compact = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

/** The run a body asks for, or why its as-of time is outside the window (a 400 at the edge). */
export function buildRequest(
  body: RunRequestBody,
  requestedBy: string,
  deps: AsOfWindow,
  options: { readonly nightly?: boolean; readonly idempotencyKey?: string } = {},
): BuiltRequest {
  const asOfMs =
    body.asOf === undefined
      ? latestMidnight(deps.now(), deps.timezone)
      : DATE.test(body.asOf)
        ? midnightIn(body.asOf, deps.timezone)
        : Date.parse(body.asOf);
  const issue = windowIssue(asOfMs, deps);
  if (issue) return { ok: false, issues: [issue] };
  const asOf = new Date(asOfMs).toISOString();
  const parameters = RunParameters.parse({ ...body.parameters, asOf, timezone: deps.timezone });
  // The nightly run of a day has one id, so a schedule firing twice asks for the same run; so does a
  // client's retry with the same Idempotency-Key (scoped to whoever asks, so keys never collide).
  const suffix = options.nightly
    ? NIGHTLY
    : options.idempotencyKey !== undefined
      ? `k${createHash('sha256').update(`${requestedBy}\n${options.idempotencyKey}`).digest('hex').slice(0, 16)}`
      : randomBytes(4).toString('hex');
  const value = RunRequest.parse({
    runId: `seg_${compact(asOf)}_${suffix}`,
    parameters,
    publish: body.publish ?? body.asOf === undefined,
    requestedBy,
    requestedAt: new Date(deps.now()).toISOString(),
  });
  return { ok: true, value };
}

/**
 * The headers of a run request. With an Idempotency-Key (the IETF httpapi draft's header), a client that
 * got no answer (a timeout, a 5xx) can send the same request again and get the run it already asked for,
 * not a second run.
 */
export const RunRequestHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional()
    .meta({
      description:
        'Makes a retry safe: the same key (from the same API key, for the same as-of time) answers the run ' +
        'the first request made; with a different body it is refused (409).',
      example: 'b7c9e0f2-demo-nightly',
    }),
});

/** Whether a stored run was asked with this request's parameters (an idempotency key's reuse). */
export const askedAs = (run: RunRecord, request: RunRequest): boolean =>
  run.publish === request.publish && stableStringify(run.parameters) === stableStringify(request.parameters);

/**
 * How long a stored run may stay queued before it is asked again. The runner takes a message within
 * seconds (a run starting marks it running), so a run still queued this long after it was asked lost its
 * message: the enqueue failed after the record was stored. A duplicate message is harmless once the run
 * completed (executeRun returns it as it is).
 */
export const REQUEUE_AFTER_MS = 10 * 60_000;

/**
 * Stores the queued run and enqueues it. A run that already exists (the schedule firing twice) is not
 * queued again unless it failed, or is still queued REQUEUE_AFTER_MS after it was asked (its message lost). With `skipIfPublished` (the hourly schedule), no run is needed when a
 * live run as of that time or later is already published (an operator's or the demo's run of the day):
 * the published run is returned. Otherwise the first firing after that run would publish a second run of
 * the same day over it, and what GET /v1/segments serves would change under its reader for nothing new.
 */
export async function requestRun(
  request: RunRequest,
  deps: RequestDeps,
  options: { readonly skipIfPublished?: boolean } = {},
): Promise<RunRecord> {
  if (options.skipIfPublished) {
    const publishedId = await deps.runs.publishedRun();
    const published = publishedId === undefined ? undefined : await deps.runs.getRun(publishedId);
    if (published && published.asOf >= request.parameters.asOf) return published;
  }
  const existing = await deps.runs.getRun(request.runId);
  if (existing?.status === 'queued' && deps.now() - Date.parse(existing.requestedAt) >= REQUEUE_AFTER_MS) {
    // Asked again as it was stored: the next hourly firing recovers a lost message (else the day's run
    // would wait queued forever).
    await deps.queue.enqueue(requestOf(existing));
    return existing;
  }
  if (existing && existing.status !== 'failed') return existing;
  const run = existing ? { ...existing, status: 'queued' as const } : queuedRun(request, deps.codeVersion);
  await deps.runs.putRun(run);
  await deps.queue.enqueue(request);
  return run;
}

/** The request a stored run was asked with. */
const requestOf = (run: RunRecord): RunRequest =>
  RunRequest.parse({
    runId: run.runId,
    parameters: run.parameters,
    publish: run.publish,
    requestedBy: run.requestedBy,
    requestedAt: run.requestedAt,
  });
