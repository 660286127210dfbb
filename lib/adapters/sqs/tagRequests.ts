// The tags queue: customer ids to evaluate, CUSTOMERS_PER_MESSAGE per message (lib/tags/consume.ts).
// At-least-once: an evaluation stores only the latest result, so a redelivered message costs only work.
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  CUSTOMERS_PER_MESSAGE,
  type TagRequestMessage,
  type TagRequests,
  type TagSweepMessage,
} from '../../tags/consume.js';
import { queueUrl } from './queueUrl.js';
import { sendBodies } from './sendBatch.js';

export function tagRequestsQueue(client: SQSClient, queueName: string): TagRequests {
  return {
    async request(origin, customerIds) {
      const unique = [...new Set(customerIds)];
      if (unique.length === 0) return 0;
      const bodies: string[] = [];
      for (let i = 0; i < unique.length; i += CUSTOMERS_PER_MESSAGE) {
        const message: TagRequestMessage = {
          v: 1,
          origin,
          customerIds: unique.slice(i, i + CUSTOMERS_PER_MESSAGE),
        };
        bodies.push(JSON.stringify(message));
      }
      await sendBodies(client, await queueUrl(client, queueName), bodies);
      return bodies.length;
    },
    async sweep(step) {
      const message: TagSweepMessage = { v: 1, origin: 'sweep', ...step };
      await sendBodies(client, await queueUrl(client, queueName), [JSON.stringify(message)]);
    },
  };
}
