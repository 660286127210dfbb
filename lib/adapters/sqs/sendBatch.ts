// Sending many message bodies to one queue: SendMessageBatch in batches of at most 10 entries and 256 KiB,
// entries SQS refuses retried; resolves only when every body is on the queue.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';

const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_ATTEMPTS = 4;

/** Returns how many SendMessageBatch calls were made. */
export async function sendBodies(client: SQSClient, url: string, bodies: readonly string[]): Promise<number> {
  const batches = batchesOf(bodies);
  await Promise.all(batches.map((entries) => sendAll(client, url, entries)));
  return batches.length;
}

function batchesOf(bodies: readonly string[]): SendMessageBatchRequestEntry[][] {
  const batches: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let bytes = 0;
  bodies.forEach((body, i) => {
    const size = Buffer.byteLength(body);
    if (current.length === MAX_BATCH_ENTRIES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ Id: String(i), MessageBody: body });
    bytes += size;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

async function sendAll(
  client: SQSClient,
  url: string,
  entries: SendMessageBatchRequestEntry[],
): Promise<void> {
  let pending = entries;
  for (let attempt = 1; ; attempt++) {
    const out = await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: pending }));
    const failed = new Set((out.Failed ?? []).map((f) => f.Id));
    if (failed.size === 0) return;
    const senderFault = (out.Failed ?? []).find((f) => f.SenderFault);
    if (senderFault || attempt >= MAX_ATTEMPTS) {
      throw new Error(`SQS refused ${failed.size} messages: ${senderFault?.Code ?? out.Failed?.[0]?.Code}`);
    }
    pending = pending.filter((e) => failed.has(e.Id));
    await sleep(50 * 2 ** attempt);
  }
}
