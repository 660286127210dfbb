// Segmentation runner: executes queued runs (nightly, API, CLI) one per invocation: rebuild customers as of
// the run's time from the archive, RFM + K-means, named segments, report, publication.
import { withSqs } from '../../lib/queue/withSqs.js';
import { runDeps } from '../../lib/runtime.js';
import { runQueuedRequests } from '../../lib/segmentation/consume.js';

export const handler = withSqs(
  (records) => runQueuedRequests(records, runDeps()),
  (r) => ({ runs: r.runs }),
);
