// The one middleware stack of SQS consumers: Powertools logger context, then the batch handler, whose
// failed records are reported as batchItemFailures (the function must use ReportBatchItemFailures).
// A handler that throws fails the whole batch: nothing is ever deleted that was not processed.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../log.js';
import type { QueueRecord } from './record.js';

export function withSqs<R extends { failedRecordIds: readonly string[] }>(
  process: (records: QueueRecord[]) => Promise<R>,
  /** Figures of a batch for its summary log line. */
  summarize: (result: R) => Record<string, unknown> = () => ({}),
) {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger(), { resetKeys: true }))
    .handler(async (event) => {
      const started = Date.now();
      const records = event.Records.map((r) => ({ id: r.messageId, body: r.body }));
      const result = await process(records);
      const { failedRecordIds } = result;
      const summary = {
        records: records.length,
        failed: failedRecordIds.length,
        ms: Date.now() - started,
        ...summarize(result),
      };
      if (failedRecordIds.length > 0) logger().warn('batch done; records left for retry', summary);
      else logger().info('batch done', summary);
      return { batchItemFailures: failedRecordIds.map((itemIdentifier) => ({ itemIdentifier })) };
    });
}
