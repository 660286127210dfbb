// Ingest queue consumer: dedup by messageId and archive to S3, reporting partial batch failures.
import { archiveBatch } from '../../lib/archive/archiveBatch.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { archiveDeps } from '../../lib/runtime.js';

export const handler = withSqs(
  (records) => archiveBatch(records, archiveDeps()),
  (r) => ({ archived: r.archived.length, duplicates: r.duplicates, objects: r.objects.length }),
);
