// The segmentation queue: one message per requested run, consumed by the runner function.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RunQueue } from '../../segmentation/requests.js';
import { queueUrl } from './queueUrl.js';

export function runQueue(client: SQSClient, queueName: string): RunQueue {
  return {
    async enqueue(request) {
      const url = await queueUrl(client, queueName);
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(request) }));
    },
  };
}
