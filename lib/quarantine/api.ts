// The quarantine API (GET /v1/quarantine, GET /v1/quarantine/{id}, POST /v1/quarantine/{id}/replay):
// request and response shapes, shared by the handlers, the CLI and the OpenAPI document, and its use
// cases, whose expected failures (an unknown id, a bad date range) are outcomes.
import { z } from 'zod';
import { boundedId } from '../ids.js';
import { FieldIssue, isCalendarDate } from '../ingest/spec.js';
import { invalid, notFound, type Outcome, ok } from '../outcome.js';
import { decodeQuarantineCursor } from './cursor.js';
import {
  QuarantineEntry,
  type QuarantinePage,
  type QuarantineQuery,
  QuarantineStatus,
  type QuarantineStore,
} from './model.js';
import { type ReplayDeps, type ReplayOutcome, replayEntry } from './replay.js';

/** Entry ids are `q_` and 32 hex digits; the bound leaves room and keeps far below DynamoDB's key limits. */
export const QuarantineIdPath = z.object({
  id: boundedId(64).meta({ description: 'The id of a quarantined event', example: 'q_3f2a...' }),
});

// A day of the calendar: Date.parse rolls 2024-02-30 over to March 1st and reads 2024-13-45 as NaN (an
// empty 200), so a typo would list the wrong days or none instead of being reported.
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const isDay = (s: string) => DAY.test(s) && isCalendarDate(s);
const Day = z
  .string()
  .regex(DAY, { error: 'must be a day as YYYY-MM-DD' })
  .refine(isCalendarDate, { error: 'is not a day of the calendar' });

const MAX_DAYS = 92;
export const DEFAULT_LOOKBACK_DAYS = 7;

export const QuarantineListQuery = z
  .object({
    from: Day.optional().meta({
      description: `First day (UTC); default ${DEFAULT_LOOKBACK_DAYS - 1} days before to`,
    }),
    to: Day.optional().meta({ description: 'Last day (UTC), inclusive; default today' }),
    status: QuarantineStatus.optional(),
    reason: z.string().max(100).optional().meta({ description: 'Only entries with this reason code' }),
    source: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z
      .string()
      .max(2000)
      .refine((c) => decodeQuarantineCursor(c) !== undefined, { error: 'is not a cursor this API returned' })
      .optional(),
  })
  .meta({ id: 'QuarantineListQuery' });
export type QuarantineListQuery = z.infer<typeof QuarantineListQuery>;

export const QuarantineListResponse = z
  .object({ items: z.array(QuarantineEntry), nextCursor: z.string().optional() })
  .meta({ id: 'QuarantineListResponse' });

export const ReplayRequest = z
  .object({ event: z.record(z.string(), z.unknown()).optional().meta({ description: 'A corrected event' }) })
  .meta({ id: 'ReplayRequest' });

export const ReplayResponse = z
  .object({
    id: z.string(),
    outcome: z.enum(['replayed', 'still_invalid', 'not_replayable', 'already_replayed']),
    messageId: z.string().optional(),
    errors: z.array(FieldIssue).optional(),
    reason: z.string().optional(),
  })
  .meta({ id: 'ReplayResponse' });

const dayMs = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The store query for an API query: a bounded range of days ending today by default. */
export function toStoreQuery(q: QuarantineListQuery, now: number): Outcome<QuarantineQuery> {
  const to = q.to ?? isoDay(now);
  const from = q.from ?? isoDay(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_LOOKBACK_DAYS - 1) * dayMs);
  const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / dayMs;
  if (span < 0) return invalid('from must not be after to');
  if (span >= MAX_DAYS) return invalid(`at most ${MAX_DAYS} days at a time`);
  // The listing resumes at the cursor's day and walks back to `from`: a day outside the range (a forged
  // 9999-12-31) would walk millions of days, past the bound above.
  const day = q.cursor === undefined ? undefined : decodeQuarantineCursor(q.cursor)?.day;
  if (q.cursor !== undefined && (day === undefined || !isDay(day) || day < from || day > to)) {
    return invalid('cursor is not one this API returned for this range of days', [
      { path: 'cursor', code: 'invalid_cursor', message: `does not resume within ${from}..${to}` },
    ]);
  }
  return ok({
    fromDay: from,
    toDay: to,
    status: q.status,
    reason: q.reason,
    sourceId: q.source,
    limit: q.limit,
    cursor: q.cursor,
  });
}

export type EntryDeps = Pick<ReplayDeps, 'quarantine' | 'openPayload'>;

/** A page of entries, newest first (payloads stay sealed). */
export async function listEntries(
  q: QuarantineListQuery,
  deps: { readonly quarantine: Pick<QuarantineStore, 'list'>; readonly now: () => number },
): Promise<Outcome<QuarantinePage>> {
  const query = toStoreQuery(q, deps.now());
  return query.ok ? ok(await deps.quarantine.list(query.value)) : query;
}

const unknownEntry = (id: string) => notFound(`No quarantined event has the id ${id}.`);

/** One entry with its payload opened (admins only: it holds what the client sent). */
export async function showEntry(id: string, deps: EntryDeps): Promise<Outcome<QuarantineEntry>> {
  const entry = await deps.quarantine.get(id);
  if (!entry) return unknownEntry(id);
  return ok({ ...entry, payload: await deps.openPayload(entry.payload) });
}

/** Replays an entry by id, with a corrected event in place of the stored one if given. */
export async function replayById(
  id: string,
  corrected: unknown,
  deps: ReplayDeps,
): Promise<Outcome<ReplayOutcome>> {
  const entry = await deps.quarantine.get(id);
  return entry ? ok(await replayEntry(entry, deps, corrected)) : unknownEntry(id);
}
