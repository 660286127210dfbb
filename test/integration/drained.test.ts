// waitUntilDrained against the SQS emulator: it returns once a queue stays empty, goes on while a slow
// consumer makes progress, and gives up early on a queue that stopped draining (stallMs).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntilDrained } from '../../lib/adapters/sqs/drained.js';
import { createSqs } from '../../lib/aws/clients.js';
import { testConfig } from '../support/provided.js';

const sqs = createSqs(testConfig());
const created: string[] = [];
afterAll(async () => {
  for (const QueueUrl of created) await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {});
  sqs.destroy();
});

async function queueWith(messages: number): Promise<{ name: string; url: string }> {
  const name = `precis-drained-${randomUUID().slice(0, 8)}`;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const url = String(QueueUrl);
  created.push(url);
  // SendMessageBatch takes ten at a time.
  for (let from = 0; from < messages; from += 10)
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: Array.from({ length: Math.min(10, messages - from) }, (_, i) => ({
          Id: `m${from + i}`,
          MessageBody: `message ${from + i}`,
        })),
      }),
    );
  return { name, url };
}

describe('waitUntilDrained', () => {
  it('gives up on a queue that stopped draining once stallMs pass, long before its hard bound', async () => {
    const { name } = await queueWith(2);
    const started = Date.now();
    await expect(
      waitUntilDrained(sqs, [name], { timeoutMs: 120_000, stallMs: 1_500, intervalMs: 200 }),
    ).rejects.toThrow(/stopped draining: 2 messages or more for 1.5 s/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('waits on while a slow consumer makes progress, longer than stallMs in all', async () => {
    const { name, url } = await queueWith(30);
    // One message every 400 ms or more: 12 s or more in all, each step far within the 10 s stall bound.
    const consumer = (async () => {
      for (let left = 30; left > 0; ) {
        await sleep(400);
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
        );
        for (const m of Messages) {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
          left--;
        }
      }
    })();
    const started = Date.now();
    await waitUntilDrained(sqs, [name], {
      timeoutMs: 60_000,
      stallMs: 1_500,
      intervalMs: 200,
      quietChecks: 2,
    });
    expect(Date.now() - started).toBeGreaterThan(1_500);
    await consumer;
  });
});
