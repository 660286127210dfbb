// The per-record SQS helper every record-by-record consumer uses: a poison record fails alone, a thrown
// error is reported and logged (messageId and error, never the body), concurrency is bounded, and behind
// withSqs the failures come out as batchItemFailures.
import { readFileSync } from 'node:fs';
import type { Context, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eachRecord, processRecords, readBody, UnreadableRecord } from '../../lib/queue/eachRecord.js';
import type { QueueRecord } from '../../lib/queue/record.js';
import { createdObjects } from '../../lib/queue/s3Notification.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { recordingLogger } from '../support/archiveFixtures.js';

const SECRET = 'jane.doe@example.com';
const records = (...bodies: string[]): QueueRecord[] => bodies.map((body, i) => ({ id: `m${i}`, body }));
const Order = z.object({ orderId: z.string(), email: z.string() });

describe('processRecords', () => {
  it('fails a poison record alone and keeps the others, in the batch order', async () => {
    const logged = recordingLogger();
    const batch = records(
      JSON.stringify({ orderId: 'o1', email: SECRET }),
      `{"orderId": "o2", "email": "${SECRET}"`,
      JSON.stringify({ orderId: 'o3', email: SECRET }),
      JSON.stringify({ orderId: 4, email: SECRET }),
    );
    const out = await processRecords(batch, async (r) => readBody(r, Order).orderId, {
      log: logged.log,
      concurrency: 3,
    });
    expect(out).toEqual({ failedRecordIds: ['m1', 'm3'], results: ['o1', 'o3'] });
    const errors = logged.entries.filter((e) => e.level === 'error');
    expect(errors.map((e) => (e.extra[0] as { messageId: string }).messageId).sort()).toEqual(['m1', 'm3']);
    // The log names the record and the reason, never the body's data.
    expect(JSON.stringify(logged.entries, errorFields)).not.toContain(SECRET);
    expect(JSON.stringify(errors, errorFields)).toContain('orderId: Invalid input: expected string');
  });

  it('reports an error a handler throws, with its note, instead of swallowing it', async () => {
    const logged = recordingLogger();
    const boom = new Error('table unavailable');
    const out = await processRecords(
      records('a', 'b'),
      async (r, note) => {
        note({ runId: `run-${r.id}` });
        if (r.body === 'b') throw boom;
        return r.body.toUpperCase();
      },
      { log: logged.log, failure: 'thing not done' },
    );
    expect(out).toEqual({ failedRecordIds: ['m1'], results: ['A'] });
    expect(logged.entries).toEqual([
      {
        level: 'error',
        message: 'thing not done',
        extra: [{ messageId: 'm1', runId: 'run-m1', error: boom }],
      },
    ]);
  });

  it('gives the failure log the fields `details` makes of the error', async () => {
    const logged = recordingLogger();
    await processRecords(
      records('x'),
      async () => {
        throw new Error('no');
      },
      { log: logged.log, details: (error) => ({ reason: (error as Error).message }) },
    );
    expect(logged.entries[0]?.extra[0]).toEqual({ messageId: 'm0', reason: 'no' });
  });

  it('handles at most `concurrency` records at once, one at a time by default', async () => {
    for (const concurrency of [undefined, 3]) {
      let running = 0;
      let peak = 0;
      const out = await processRecords(
        records(...Array.from({ length: 10 }, (_, i) => String(i))),
        async (r) => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setImmediate(resolve));
          running -= 1;
          return Number(r.body);
        },
        { concurrency, log: recordingLogger().log },
      );
      expect(out.results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(peak).toBe(concurrency ?? 1);
    }
  });

  it('reads S3 notifications, and refuses a body that is not one without quoting it', () => {
    const body = JSON.stringify({
      Records: [
        { eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'raw/a+b.gz' } } },
      ],
    });
    expect(createdObjects(body)).toEqual([{ bucket: 'b', key: 'raw/a b.gz' }]);
    expect(createdObjects(JSON.stringify({ Event: 's3:TestEvent' }))).toEqual([]);
    expect(() => createdObjects(SECRET)).toThrow(UnreadableRecord);
    expect(() => createdObjects(SECRET)).not.toThrow(SECRET);
  });
});

describe('eachRecord behind withSqs', () => {
  it('returns the failed records as batchItemFailures and the others as done', async () => {
    const event = JSON.parse(readFileSync('events/sqs/segmentation-run.json', 'utf8')) as SQSEvent;
    const good = event.Records[0];
    if (good === undefined) throw new Error('the sample event has no record');
    event.Records = [good, { ...good, messageId: 'poison', body: 'not json' }];
    const seen: string[] = [];
    const handler = withSqs(
      eachRecord(
        async (r) => {
          seen.push(r.id);
          return readBody(r, z.object({ runId: z.string() })).runId;
        },
        { log: recordingLogger().log },
      ),
    );
    const response = await handler(event, context());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
    expect(seen).toEqual([good.messageId, 'poison']);
  });
});

/** Errors serialize to {} by default: keep their message and name so the assertions see them. */
function errorFields(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

function context(): Context {
  const fail = () => {
    throw new Error('callback-style completion is not used');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'precis-test-queue',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:precis-test-queue',
    memoryLimitInMB: '1024',
    awsRequestId: 'req-1',
    logGroupName: '/aws/lambda/precis-test-queue',
    logStreamName: 'stream-1',
    getRemainingTimeInMillis: () => 60_000,
    done: fail,
    fail,
    succeed: fail,
  };
}
