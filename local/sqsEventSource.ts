// A local stand-in for Lambda's SQS event source mapping. serverless-offline-sqs deletes every message
// of a batch whatever the handler answers, which would turn a reported failure into a lost event; this
// one behaves as AWS does: batches of up to batchSize within the batching window, successful records
// deleted, failed ones (batchItemFailures, or all of them when the handler throws) left to reappear
// after the visibility timeout and, past maxReceiveCount, to be moved to the DLQ by the queue.
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface SqsEventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  /** Pollers working the queue at once (Lambda scales out across batches the same way). */
  readonly concurrency?: number;
  /** Runs the function; a rejection fails the whole batch, as a Lambda error would. */
  readonly invoke: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  readonly onError?: (error: unknown) => void;
}

export interface SqsEventSource {
  stop(): Promise<void>;
}

export function startSqsEventSource(o: SqsEventSourceOptions): SqsEventSource {
  let running = true;
  const poll = async () => {
    while (running) {
      try {
        const messages = await receiveBatch(o, () => running);
        if (messages.length > 0) await deliver(o, messages);
      } catch (error) {
        o.onError?.(error);
        if (running) await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  const loops = Array.from({ length: o.concurrency ?? 1 }, poll);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function receiveBatch(o: SqsEventSourceOptions, running: () => boolean): Promise<Message[]> {
  const messages: Message[] = [];
  let deadline = Number.POSITIVE_INFINITY;
  while (running() && messages.length < o.batchSize) {
    const first = messages.length === 0;
    const out = await o.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: o.queueUrl,
        MaxNumberOfMessages: Math.min(10, o.batchSize - messages.length),
        // Short long-polls so that stop() is prompt.
        WaitTimeSeconds: first ? 1 : 0,
        MessageSystemAttributeNames: ['All'],
        // local-aws-sqs reads only the older name; without it records lose ApproximateReceiveCount.
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const got = out.Messages ?? [];
    messages.push(...got);
    if (first && got.length > 0) deadline = Date.now() + o.maximumBatchingWindowSeconds * 1000;
    if (messages.length > 0 && (got.length === 0 || Date.now() >= deadline)) break;
  }
  return messages;
}

async function deliver(o: SqsEventSourceOptions, messages: Message[]): Promise<void> {
  const records = messages.map((m) => toRecord(m, o));
  let failed: Set<string>;
  try {
    const response = await o.invoke({ Records: records });
    failed = failuresOf(response, records, o.reportBatchItemFailures);
  } catch (error) {
    o.onError?.(error);
    return;
  }
  const done = messages.filter((m) => m.MessageId && !failed.has(m.MessageId));
  for (let i = 0; i < done.length; i += 10) {
    await o.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: o.queueUrl,
        Entries: done.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

/** AWS semantics: an unknown or empty itemIdentifier fails the whole batch. */
function failuresOf(
  response: SQSBatchResponse | undefined,
  records: SQSRecord[],
  report: boolean,
): Set<string> {
  const all = new Set(records.map((r) => r.messageId));
  if (!report || !response?.batchItemFailures) return new Set();
  const failed = new Set<string>();
  for (const f of response.batchItemFailures) {
    if (!f.itemIdentifier || !all.has(f.itemIdentifier)) return all;
    failed.add(f.itemIdentifier);
  }
  return failed;
}

function toRecord(m: Message, o: SqsEventSourceOptions): SQSRecord {
  const attrs = m.Attributes ?? {};
  return {
    messageId: String(m.MessageId),
    receiptHandle: String(m.ReceiptHandle),
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: o.queueArn,
    awsRegion: o.region,
  };
}
