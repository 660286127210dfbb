// Profiles queue consumer: each new archive object (an S3 notification) applied to identity and profiles.
import pMap from 'p-map';
import { logger } from '../../lib/log.js';
import { applyArchiveObject } from '../../lib/profiles/consume.js';
import { parseS3Notification } from '../../lib/queue/s3Notification.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { profileDeps } from '../../lib/runtime.js';

export const handler = withSqs(
  async (records) => {
    const failedRecordIds: string[] = [];
    let objects = 0;
    await pMap(
      records,
      async (record) => {
        const parsed = parseS3Notification(record.body);
        if (!parsed.ok) {
          logger().error('unreadable profiles message', { recordId: record.id, reason: parsed.reason });
          failedRecordIds.push(record.id);
          return;
        }
        try {
          for (const object of parsed.objects) {
            await applyArchiveObject(object.key, profileDeps());
            objects++;
          }
        } catch (error) {
          // The record stays on the queue: the ledgers make its next delivery count each event once.
          logger().error('archive object not applied', { recordId: record.id, error });
          failedRecordIds.push(record.id);
        }
      },
      { concurrency: 2 },
    );
    return { failedRecordIds, objects };
  },
  (r) => ({ objects: r.objects }),
);
