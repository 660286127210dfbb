// The ingest queue as an EventSink: events packed into envelopes, sent in batches; entries SQS
// refuses are retried, and the promise resolves only when every envelope is on the queue.

import type { SQSClient } from '@aws-sdk/client-sqs';
import { packEnvelopes } from '../../ingest/envelope.js';
import type { EventSink } from '../../ingest/ingest.js';
import { queueUrl } from './queueUrl.js';
import { sendBodies } from './sendBatch.js';

export function eventQueue(client: SQSClient, queueName: string): EventSink {
  return {
    async enqueue(events) {
      const url = await queueUrl(client, queueName);
      await sendBodies(client, url, packEnvelopes(events));
    },
  };
}
