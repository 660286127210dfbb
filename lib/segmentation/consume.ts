// The runner's use case: each queued request is executed; a request that is not a RunRequest, or a run
// that fails, is reported as a failed record, so SQS retries it and finally moves it to the DLQ.
import { processRecords, readBody } from '../queue/eachRecord.js';
import type { QueueRecord } from '../queue/record.js';
import { RunRequest } from './model.js';
import { failureDetails } from './ports.js';
import { executeRun, type RunDeps } from './run.js';

export async function runQueuedRequests(
  records: readonly QueueRecord[],
  deps: RunDeps,
): Promise<{ failedRecordIds: string[]; runs: string[] }> {
  const { failedRecordIds, results } = await processRecords(
    records,
    async (record, note) => {
      const request = readBody(record, RunRequest);
      note({ runId: request.runId });
      const run = await executeRun(request, deps);
      return `${run.runId}:${run.status}`;
    },
    { log: deps.log, failure: 'segmentation run failed', details: failureDetails },
  );
  return { failedRecordIds, runs: results };
}
