// Request and response shapes of the quarantine API (GET /v1/quarantine, GET /v1/quarantine/{id},
// POST /v1/quarantine/{id}/replay), shared by the handlers, the CLI and the OpenAPI document.
import { z } from 'zod';
import { FieldIssue } from '../ingest/spec.js';
import { QuarantineEntry, type QuarantineQuery, QuarantineStatus } from './model.js';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a day as YYYY-MM-DD' });
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
    cursor: z.string().max(2000).optional(),
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
export function toStoreQuery(q: QuarantineListQuery, now: number): QuarantineQuery | { error: string } {
  const to = q.to ?? isoDay(now);
  const from = q.from ?? isoDay(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_LOOKBACK_DAYS - 1) * dayMs);
  const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / dayMs;
  if (span < 0) return { error: 'from must not be after to' };
  if (span >= MAX_DAYS) return { error: `at most ${MAX_DAYS} days at a time` };
  return {
    fromDay: from,
    toDay: to,
    status: q.status,
    reason: q.reason,
    sourceId: q.source,
    limit: q.limit,
    cursor: q.cursor,
  };
}
