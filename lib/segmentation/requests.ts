// Asking for a run: the nightly schedule, the admin API and the CLI all build a RunRequest here, store the
// queued run and hand it to the runner queue (a run takes minutes: longer than an HTTP request may).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { RunParameterFields, RunParameters, type RunRecord, RunRequest } from './model.js';
import type { RunStore } from './ports.js';
import { queuedRun } from './run.js';

export interface RunQueue {
  enqueue(request: RunRequest): Promise<void>;
}

export interface RequestDeps {
  readonly runs: RunStore;
  readonly queue: RunQueue;
  readonly codeVersion: string;
  readonly timezone: string;
  readonly now: () => number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The body of POST /v1/segmentation/runs (every field optional). */
export const RunRequestBody = z
  .object({
    asOf: z
      .union([z.string().regex(DATE), z.iso.datetime({ offset: true })])
      .optional()
      .meta({
        description:
          'YYYY-MM-DD (midnight at the start of that day in the business time zone) or an instant. Default: the latest midnight.',
      }),
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
  const local = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return Math.round((local - Math.floor(at / 1000) * 1000) / 60_000);
}

/** The UTC instant of midnight at the start of `date` (YYYY-MM-DD) in `timezone`. */
export function midnightIn(date: string, timezone: string): number {
  const [y, m, d] = date.split('-').map(Number);
  const utcMidnight = Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1);
  // Two passes settle days when the offset changes (DST) near midnight.
  let guess = utcMidnight - offsetMinutes(utcMidnight, timezone) * 60_000;
  guess = utcMidnight - offsetMinutes(guess, timezone) * 60_000;
  return guess;
}

/** The latest midnight in `timezone` at or before `now`: the nightly run's as-of time. */
export function latestMidnight(now: number, timezone: string): number {
  const localDate = new Date(now + offsetMinutes(now, timezone) * 60_000).toISOString().slice(0, 10);
  return midnightIn(localDate, timezone);
}

const compact = (iso: string) => iso.replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

export function buildRequest(
  body: RunRequestBody,
  requestedBy: string,
  deps: Pick<RequestDeps, 'timezone' | 'now'>,
  options: { readonly nightly?: boolean } = {},
): RunRequest {
  const asOfMs =
    body.asOf === undefined
      ? latestMidnight(deps.now(), deps.timezone)
      : DATE.test(body.asOf)
        ? midnightIn(body.asOf, deps.timezone)
        : Date.parse(body.asOf);
  const asOf = new Date(asOfMs).toISOString();
  const parameters = RunParameters.parse({ ...body.parameters, asOf, timezone: deps.timezone });
  // The nightly run of a day has one id, so a schedule firing twice asks for the same run.
  const suffix = options.nightly ? 'nightly' : randomBytes(4).toString('hex');
  return RunRequest.parse({
    runId: `seg_${compact(asOf)}_${suffix}`,
    parameters,
    publish: body.publish ?? body.asOf === undefined,
    requestedBy,
    requestedAt: new Date(deps.now()).toISOString(),
  });
}

/**
 * Stores the queued run and enqueues it. A run that already exists (the schedule firing twice) is not
 * queued again unless it failed.
 */
export async function requestRun(request: RunRequest, deps: RequestDeps): Promise<RunRecord> {
  const existing = await deps.runs.getRun(request.runId);
  if (existing && existing.status !== 'failed') return existing;
  const run = existing ? { ...existing, status: 'queued' as const } : queuedRun(request, deps.codeVersion);
  await deps.runs.putRun(run);
  await deps.queue.enqueue(request);
  return run;
}
