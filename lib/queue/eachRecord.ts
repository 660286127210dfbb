// The one way a queue consumer handles its records one by one, in the spirit of Powertools'
// processPartialResponse: each record is handled on its own (at most `concurrency` at once); a record
// whose handler throws is reported failed, alone, and logged with its messageId and the error — never
// its body, which may carry customer data — while the others go on. Nothing is swallowed: a failed record
// comes back after the visibility timeout and, after the queue's maxReceiveCount, lands in its DLQ.
//
// The archive consumer is the one exception (lib/archive/archiveBatch.ts): its unit of work is the batch
// (events deduplicated across records, one object per day partition per invocation), and it reports
// each record by the events it carried.
import pMap from 'p-map';
import type { z } from 'zod';
import { type Logger, logger } from '../log.js';
import type { QueueRecord } from './record.js';

export interface RecordsOutcome<T> {
  /** Records to report in batchItemFailures, in the batch's order. */
  readonly failedRecordIds: string[];
  /** What the handler returned for each record that succeeded, in the batch's order. */
  readonly results: T[];
}

export interface EachRecordOptions {
  /** Records handled at once; 1 (the default) handles them in order. */
  readonly concurrency?: number;
  /** The log line of a failed record (its messageId and error go with it). */
  readonly failure?: string;
  /** The fields a failure's log line gives of the error (default: `{ error }`, which the logger formats). */
  readonly details?: (error: unknown) => Record<string, unknown>;
  readonly log?: Logger;
}

/**
 * A record's handler. `note` adds correlation keys (a run id, an object key; never customer data) to the
 * record's log line should it fail.
 */
export type RecordHandler<T> = (
  record: QueueRecord,
  note: (fields: Record<string, string | number>) => void,
) => Promise<T>;

/**
 * A message that can never be handled (not what the queue carries). Its message must say why without
 * quoting the body: it is logged.
 */
export class UnreadableRecord extends Error {
  override readonly name = 'UnreadableRecord';
}

export async function processRecords<T>(
  records: readonly QueueRecord[],
  handle: RecordHandler<T>,
  options: EachRecordOptions = {},
): Promise<RecordsOutcome<T>> {
  const log = options.log ?? logger();
  const outcomes = await pMap(
    records,
    async (record): Promise<{ ok: true; value: T } | { ok: false }> => {
      const notes: Record<string, string | number> = {};
      try {
        return { ok: true, value: await handle(record, (fields) => Object.assign(notes, fields)) };
      } catch (error) {
        log.error(options.failure ?? 'record failed; left on the queue for a retry', {
          messageId: record.id,
          ...notes,
          ...(options.details ? options.details(error) : { error }),
        });
        return { ok: false };
      }
    },
    { concurrency: options.concurrency ?? 1 },
  );
  const failedRecordIds: string[] = [];
  const results: T[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.ok) results.push(outcome.value);
    else failedRecordIds.push((records[i] as QueueRecord).id);
  });
  return { failedRecordIds, results };
}

/** processRecords as the batch function of withSqs: `withSqs(eachRecord(handle, options), summarize)`. */
export const eachRecord =
  <T>(handle: RecordHandler<T>, options: EachRecordOptions = {}) =>
  (records: QueueRecord[]): Promise<RecordsOutcome<T>> =>
    processRecords(records, handle, options);

/** A record's body as JSON, validated: one that is not throws UnreadableRecord, naming paths, not values. */
export function readBody<S extends z.ZodType>(record: QueueRecord, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(record.body);
  } catch {
    throw new UnreadableRecord('the message body is not JSON');
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  throw new UnreadableRecord(`the message body is not valid: ${issues.join('; ')}`);
}
