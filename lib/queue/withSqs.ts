// The one middleware stack of SQS consumers: Powertools logger context, then the batch handler, whose
// failed records are reported as batchItemFailures (the function must use ReportBatchItemFailures).
// A handler that throws fails the whole batch: nothing is ever deleted that was not processed.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../log.js';
import type { QueueRecord } from './record.js';

export function withSqs(
  process: (records: QueueRecord[]) => Promise<{ failedRecordIds: readonly string[] }>,
) {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger(), { resetKeys: true }))
    .handler(async (event) => {
      const records = event.Records.map((r) => ({ id: r.messageId, body: r.body }));
      const { failedRecordIds } = await process(records);
      if (failedRecordIds.length > 0) {
        logger().warn('records left for retry', { failed: failedRecordIds.length, of: records.length });
      }
      return { batchItemFailures: failedRecordIds.map((itemIdentifier) => ({ itemIdentifier })) };
    });
}
