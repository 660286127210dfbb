// The operator's view of dead-letter queues (npm run dlq) on the SQS emulator: a message that failed its
// receives is found through the source queue's redrive policy, counted, and a redrive moves it back to
// the source queue, where a consumer can take it again.
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { deadLetterQueueOf, redrive } from '../../lib/adapters/sqs/deadLetters.js';
import { createSqs } from '../../lib/aws/clients.js';
import { newId, waitFor } from '../support/archiveFixtures.js';
import { createTestQueue, queueDepth, receiveMessages } from '../support/archiveQueues.js';
import { testConfig } from '../support/provided.js';

const sqs = createSqs(testConfig());
afterAll(() => sqs.destroy());

describe('dead-letter queues', () => {
  it('finds, counts and redrives a message that exhausted its receives', async () => {
    const dlq = await createTestQueue(sqs, {}, 'precis-it-dlq');
    const source = await createTestQueue(sqs, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 1 }),
    });
    const body = newId('failed');
    await sqs.send(new SendMessageCommand({ QueueUrl: source.url, MessageBody: body }));

    // A consumer that fails it: received once, never deleted, back at once (visibility 0), and then over
    // its receive count, so SQS moves it to the DLQ.
    await waitFor('the message to reach the DLQ', async () => {
      await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: source.url, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
      );
      return (await queueDepth(sqs, dlq.url)) > 0 ? true : undefined;
    });

    const found = await deadLetterQueueOf(sqs, source.name);
    expect(found).toEqual({ source: source.name, name: dlq.name, arn: dlq.arn, messages: 1 });

    await redrive(sqs, found);
    const back = await waitFor('the message back on its source queue', async () => {
      const got = await receiveMessages(sqs, source.url, 0);
      return got.length > 0 ? got : undefined;
    });
    expect(back.map((m) => m.Body)).toEqual([body]);
    expect(await queueDepth(sqs, dlq.url)).toBe(0);
    const [message] = back;
    await sqs.send(new DeleteMessageCommand({ QueueUrl: source.url, ReceiptHandle: message?.ReceiptHandle }));
    expect((await deadLetterQueueOf(sqs, source.name)).messages).toBe(0);
  });

  it('says so when a queue has no dead-letter queue', async () => {
    const plain = await createTestQueue(sqs);
    await expect(deadLetterQueueOf(sqs, plain.name)).rejects.toThrow(
      `queue ${plain.name} has no dead-letter queue`,
    );
  });
});
