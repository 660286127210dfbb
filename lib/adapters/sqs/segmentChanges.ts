// The segment-changes queue: a run's entries and exits, in messages of CHANGES_PER_MESSAGE changes, for the
// campaign engine. At-least-once: a consumer keys its work on (runId, customerId).
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SegmentChangesMessage } from '../../segmentation/model.js';
import type { ChangePublisher } from '../../segmentation/ports.js';
import { queueUrl } from './queueUrl.js';
import { sendBodies } from './sendBatch.js';

/** About 60 KB per message with three reasons per change; SQS allows 256 KiB. */
const CHANGES_PER_MESSAGE = 200;

export function segmentChangesQueue(client: SQSClient, queueName: string): ChangePublisher {
  return {
    async publish(runId, asOf, changes) {
      if (changes.length === 0) return 0;
      const url = await queueUrl(client, queueName);
      const bodies: string[] = [];
      for (let i = 0; i < changes.length; i += CHANGES_PER_MESSAGE) {
        const message: SegmentChangesMessage = {
          v: 1,
          runId,
          asOf,
          changes: changes.slice(i, i + CHANGES_PER_MESSAGE),
        };
        bodies.push(JSON.stringify(message));
      }
      await sendBodies(client, url, bodies);
      return bodies.length;
    },
  };
}
