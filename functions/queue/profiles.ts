// Profiles queue consumer: each new archive object (an S3 notification) applied to identity and profiles.
import { applyNotification } from '../../lib/profiles/consume.js';
import { eachRecord } from '../../lib/queue/eachRecord.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { profileDeps } from '../../lib/runtime.js';

export const handler = withSqs(
  eachRecord((record) => applyNotification(record, profileDeps()), {
    concurrency: 2,
    failure: 'archive objects not applied; the record will be retried',
  }),
  (r) => ({ objects: r.results.reduce((sum, n) => sum + n, 0) }),
);
