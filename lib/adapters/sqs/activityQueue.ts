// The campaign-activity queue: activities packed several per message (lib/campaigns/publish.ts), sent in
// batches. At-least-once: the engine keys its work on each activity's messageId and trigger keys.
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type ActivityPublisher, packActivities } from '../../campaigns/publish.js';
import { queueUrl } from './queueUrl.js';
import { sendBodies } from './sendBatch.js';

export function activityQueue(client: SQSClient, queueName: string): ActivityPublisher {
  return {
    async publish(activities) {
      const bodies = packActivities(activities);
      if (bodies.length === 0) return 0;
      await sendBodies(client, await queueUrl(client, queueName), bodies);
      return bodies.length;
    },
  };
}
