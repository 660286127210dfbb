// Imports queue consumer: files dropped under imports/<source>/<customers|orders>/ in the archive bucket
// (S3 notifications), imported through the ingest pipeline; each file's report goes to reports/imports/.
import { importDroppedObjects } from '../../lib/imports/drop.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { importDropDeps } from '../../lib/runtime.js';

export const handler = withSqs(
  (records) => importDroppedObjects(records, importDropDeps()),
  (r) => ({ reports: r.reports }),
);
