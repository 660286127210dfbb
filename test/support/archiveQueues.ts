// Queues of one test on the SQS emulator (fresh names, removed when the test ends), bounded reads of
// what is on them, and the Lambda context a middy handler expects.

import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { onTestFinished } from 'vitest';
import { newId } from './archiveFixtures.js';

export interface TestQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

/** Creates a queue for the current test and deletes it when the test ends. */
export async function createTestQueue(
  sqs: SQSClient,
  attributes: Record<string, string> = {},
  prefix = 'precis-it',
): Promise<TestQueue> {
  const name = newId(prefix).slice(0, 80);
  const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = out.QueueUrl;
  if (!url) throw new Error(`queue ${name} was created without a URL`);
  onTestFinished(async () => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {});
  });
  const arn = (await queueAttributes(sqs, url)).QueueArn;
  if (!arn) throw new Error(`queue ${name} has no QueueArn`);
  return { name, url, arn };
}

export async function queueAttributes(sqs: SQSClient, url: string): Promise<Record<string, string>> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
  return out.Attributes ?? {};
}

/**
 * Messages on a queue in any state (visible, in flight, delayed). local-aws-sqs counts in-flight
 * messages in ApproximateNumberOfMessages as well (AWS counts only visible ones there), so the sum of
 * AWS's three counters would count them twice.
 */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const a = await queueAttributes(sqs, url);
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
}

/**
 * Receives until `count` messages arrived (failing after `timeoutMs`), then once more so that extra
 * messages show up in the result instead of going unnoticed. Messages stay invisible for a minute; they
 * are not deleted. Short polls: local-aws-sqs holds a long poll open for its whole wait unless it fills
 * the batch, and answers a short poll from the whole queue.
 */
export async function receiveMessages(
  sqs: SQSClient,
  url: string,
  count: number,
  timeoutMs = 10_000,
): Promise<Message[]> {
  const messages: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (messages.length < count) {
    if (Date.now() >= deadline) {
      throw new Error(`received ${messages.length} of ${count} messages within ${timeoutMs} ms`);
    }
    const got = await receiveOnce(sqs, url);
    if (got.length === 0) await sleep(100);
    messages.push(...got);
  }
  messages.push(...(await receiveOnce(sqs, url)));
  return messages;
}

async function receiveOnce(sqs: SQSClient, url: string): Promise<Message[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 60,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      // local-aws-sqs reads only the older name.
      AttributeNames: ['All'],
    }),
  );
  return out.Messages ?? [];
}

/** The context Lambda hands a function; middy and the Powertools logger read it. */
export function lambdaContext(functionName = 'precis-test-archive', timeoutMs = 60_000): Context {
  const start = Date.now();
  const unsupported = () => {
    throw new Error('callback-style completion is not used by these handlers');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: newId('req'),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: newId('stream'),
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - start)),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
