// Waiting (bounded) until the archive consumer has nothing left to do: the ingest queue empty, nothing in
// flight, for a few checks in a row. A duplicate that got past the edge is archived by then, so counting
// after this wait proves there is none (a fixed sleep only hoped so).
import { waitUntilDrained } from '../../lib/adapters/sqs/drained.js';
import { createSqs } from '../../lib/aws/clients.js';
import type { Config } from '../../lib/config.js';

export async function waitForArchiveIdle(config: Config, timeoutMs = 60_000): Promise<void> {
  const sqs = createSqs(config);
  try {
    await waitUntilDrained(sqs, [config.queues.ingest], { timeoutMs, intervalMs: 500, quietChecks: 3 });
  } finally {
    sqs.destroy();
  }
}
