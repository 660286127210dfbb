// Dead-letter queues as an operator sees them: found from the source queue's redrive policy (so the
// configuration names only the queues the functions use), counted, and moved back to their source with
// SQS's own message move task once the cause is fixed.
import { GetQueueAttributesCommand, type SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { queueUrl } from './queueUrl.js';

export interface DeadLetterQueue {
  /** The queue whose failures it holds. */
  readonly source: string;
  readonly name: string;
  readonly arn: string;
  /** Messages waiting (on the local emulator, in-flight ones too). */
  readonly messages: number;
}

const RedrivePolicy = z.object({ deadLetterTargetArn: z.string().min(1) });

async function attributesOf(sqs: SQSClient, name: string) {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await queueUrl(sqs, name),
      AttributeNames: ['QueueArn', 'RedrivePolicy', 'ApproximateNumberOfMessages'],
    }),
  );
  return out.Attributes ?? {};
}

/** The DLQ of `source`, from its redrive policy; an error if it has none (every queue of the stack has one). */
export async function deadLetterQueueOf(sqs: SQSClient, source: string): Promise<DeadLetterQueue> {
  const policy = (await attributesOf(sqs, source)).RedrivePolicy;
  if (!policy) throw new Error(`queue ${source} has no dead-letter queue`);
  const arn = RedrivePolicy.parse(JSON.parse(policy)).deadLetterTargetArn;
  // arn:aws:sqs:<region>:<account>:<name>
  const name = arn.slice(arn.lastIndexOf(':') + 1);
  const dlq = await attributesOf(sqs, name);
  return { source, name, arn, messages: Number(dlq.ApproximateNumberOfMessages ?? 0) };
}

/** Starts moving every message of the DLQ back to its source queue; returns the task handle. */
export async function redrive(sqs: SQSClient, dlq: DeadLetterQueue): Promise<string> {
  const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn }));
  return task.TaskHandle ?? '?';
}
