// Waiting for a pipeline to settle: until the given queues hold no message, visible or in flight, for
// several checks in a row (a consumer's retry or a new S3 notification would show up in between).
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { queueUrl } from './queueUrl.js';

export interface DrainOptions {
  /** The hard bound of the whole wait. */
  readonly timeoutMs?: number;
  /**
   * Gives up sooner when the queues stop draining: no new low of their total (visible and in flight) for
   * this long. A pipeline that is slow (a busy machine) goes on while it makes progress; one that is
   * stuck fails within it. Must exceed the longest a message may stay in flight without being deleted
   * (a consumer's retry after its visibility timeout). Default: only the hard bound.
   */
  readonly stallMs?: number;
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
  const { timeoutMs = 600_000, intervalMs = 2_000, quietChecks = 4, stallMs } = options;
  const urls = await Promise.all(queueNames.map((name) => queueUrl(sqs, name)));
  const start = Date.now();
  const deadline = start + timeoutMs;
  let lowest = Number.POSITIVE_INFINITY;
  let lowAt = start;
  for (let quiet = 0; quiet < quietChecks; ) {
    const now = Date.now();
    if (now > deadline) {
      throw new Error(`queues ${queueNames.join(', ')} did not drain in ${timeoutMs / 1000} s`);
    }
    if (stallMs !== undefined && now - lowAt > stallMs) {
      throw new Error(
        `queues ${queueNames.join(', ')} stopped draining: ${lowest} messages or more for ${stallMs / 1000} s`,
      );
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
    const total = depths.reduce((sum, d) => sum + d, 0);
    if (total < lowest) {
      lowest = total;
      lowAt = Date.now();
    }
    quiet = total === 0 ? quiet + 1 : 0;
    await sleep(intervalMs);
  }
}
