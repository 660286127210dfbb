// Waiting (bounded) until the archive consumer has nothing left to do: the ingest queue empty, nothing in
// flight, for a few checks in a row. A duplicate that got past the edge is archived by then, so counting
// after this wait proves there is none (a fixed sleep only hoped so).
//
// Two copies of one event in two concurrent archive batches are a normal race: the second finds the
// first's claim under lease ('busy'), and its record comes back after the ingest queue's visibility
// timeout (360 s, serverless.yml) to be found a duplicate. The wait allows for that one retry.
import { waitUntilDrained } from '../../lib/adapters/sqs/drained.js';
import { createSqs } from '../../lib/aws/clients.js';
import type { Config } from '../../lib/config.js';

/** The ingest queue's visibility timeout (serverless.yml, also local) and a minute to process the retry. */
export const ARCHIVE_IDLE_TIMEOUT_MS = (360 + 60) * 1000;

export async function waitForArchiveIdle(config: Config, timeoutMs = ARCHIVE_IDLE_TIMEOUT_MS): Promise<void> {
  const sqs = createSqs(config);
  try {
    await waitUntilDrained(sqs, [config.queues.ingest], { timeoutMs, intervalMs: 500, quietChecks: 3 });
  } finally {
    sqs.destroy();
  }
}
