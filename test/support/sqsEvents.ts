// The shapes of the deployed handlers as Lambda calls them, and the SQS event its event source mapping
// delivers: shared by the tests that invoke the handlers in-process and by the cost benchmark.
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';

export type HttpHandler = (
  e: APIGatewayProxyEventV2,
  c: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;
export type SqsHandler = (e: SQSEvent, c: Context) => Promise<SQSBatchResponse>;

/** One message as the handler sees it (the receipt handle is opaque to it). */
export interface SqsMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
}

/** Messages as ReceiveMessage returns them, in the shape `sqsEvent` takes. */
export const receivedMessages = (
  messages: readonly { MessageId?: string; ReceiptHandle?: string; Body?: string }[],
): SqsMessage[] =>
  messages.map((m) => ({
    messageId: String(m.MessageId),
    receiptHandle: String(m.ReceiptHandle),
    body: String(m.Body),
  }));

/** An SQS event as Lambda's event source mapping delivers it, from the queue `arn` in `region`. */
export function sqsEvent(
  messages: readonly SqsMessage[],
  queue: { readonly arn: string; readonly region: string; readonly senderId: string },
): SQSEvent {
  const now = String(Date.now());
  return {
    Records: messages.map(({ messageId, receiptHandle, body }) => ({
      messageId,
      receiptHandle,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: now,
        SenderId: queue.senderId,
        ApproximateFirstReceiveTimestamp: now,
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: queue.region,
    })),
  };
}
