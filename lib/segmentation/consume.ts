// The runner's use case: each queued request is executed; a request that is not a RunRequest, or a run
// that fails, is reported as a failed record, so SQS retries it and finally moves it to the DLQ.
import type { QueueRecord } from '../queue/record.js';
import { RunRequest } from './model.js';
import { failureDetails } from './ports.js';
import { executeRun, type RunDeps } from './run.js';

export async function runQueuedRequests(
  records: readonly QueueRecord[],
  deps: RunDeps,
): Promise<{ failedRecordIds: string[]; runs: string[] }> {
  const failedRecordIds: string[] = [];
  const runs: string[] = [];
  for (const record of records) {
    let request: RunRequest;
    try {
      request = RunRequest.parse(JSON.parse(record.body));
    } catch (error) {
      deps.log.error('not a segmentation run request', { messageId: record.id, error: String(error) });
      failedRecordIds.push(record.id);
      continue;
    }
    try {
      const run = await executeRun(request, deps);
      runs.push(`${run.runId}:${run.status}`);
    } catch (error) {
      deps.log.error('segmentation run failed', { runId: request.runId, ...failureDetails(error) });
      failedRecordIds.push(record.id);
    }
  }
  return { failedRecordIds, runs };
}
