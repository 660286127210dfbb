// Segmentation runner: executes queued runs (nightly, API, CLI) one per invocation: customers' history as of
// the run's time through SQL over the columnar archive, RFM + K-means, named segments, report, publication.
import { runnerDeps } from '../../lib/history/runtime.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { runQueuedRequests } from '../../lib/segmentation/consume.js';

export const handler = withSqs(
  (records) => runQueuedRequests(records, runnerDeps()),
  (r) => ({ runs: r.runs }),
);
