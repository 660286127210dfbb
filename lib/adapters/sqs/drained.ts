// Waiting for a pipeline to settle: until the given queues hold no message, visible or in flight, for
// several checks in a row (a consumer's retry or a new S3 notification would show up in between).
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { queueUrl } from './queueUrl.js';

export interface DrainOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Consecutive empty checks that count as drained. */
  readonly quietChecks?: number;
  /** Told the messages on each queue (visible and in flight), in queueNames' order, at every check. */
  readonly onCheck?: (depths: readonly number[]) => void;
}

export async function waitUntilDrained(
  sqs: SQSClient,
  queueNames: readonly string[],
  options: DrainOptions = {},
): Promise<void> {
  const { timeoutMs = 600_000, intervalMs = 2_000, quietChecks = 4 } = options;
  const urls = await Promise.all(queueNames.map((name) => queueUrl(sqs, name)));
  const deadline = Date.now() + timeoutMs;
  for (let quiet = 0; quiet < quietChecks; ) {
    if (Date.now() > deadline) {
      throw new Error(`queues ${queueNames.join(', ')} did not drain in ${timeoutMs / 1000} s`);
    }
    const depths = await Promise.all(
      urls.map(async (QueueUrl) => {
        const out = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return (
          Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
          Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
        );
      }),
    );
    options.onCheck?.(depths);
    quiet = depths.every((d) => d === 0) ? quiet + 1 : 0;
    await sleep(intervalMs);
  }
}
