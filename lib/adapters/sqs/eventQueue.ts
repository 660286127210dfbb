// The ingest queue as an EventSink: events packed into envelopes, sent in batches; entries SQS
// refuses are retried, and the promise resolves only when every envelope is on the queue.

import { setTimeout as sleep } from 'node:timers/promises';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { packEnvelopes } from '../../ingest/envelope.js';
import type { EventSink } from '../../ingest/ingest.js';
import { queueUrl } from './queueUrl.js';

/** SendMessageBatch takes at most 10 entries and 256 KiB in total. */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_ATTEMPTS = 4;

export function eventQueue(client: SQSClient, queueName: string): EventSink {
  return {
    async enqueue(events) {
      const url = await queueUrl(client, queueName);
      const batches = batchesOf(packEnvelopes(events));
      await Promise.all(batches.map((entries) => sendAll(client, url, entries)));
    },
  };
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
