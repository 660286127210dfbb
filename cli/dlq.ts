// npm run dlq -- status | redrive: the ingest dead-letter queue. Redrive moves every message back to the
// ingest queue (SQS StartMessageMoveTask); run it once the cause (an outage, a bug) is fixed.
import { GetQueueAttributesCommand, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { queueUrl } from '../lib/adapters/sqs/queueUrl.js';
import { createSqs } from '../lib/aws/clients.js';
import { runCli, targetConfig } from './target.js';

runCli(async () => {
  const config = await targetConfig();
  const sqs = createSqs(config);
  const url = await queueUrl(sqs, config.queues.ingestDlq);
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages'],
    }),
  );
  const count = attrs.Attributes?.ApproximateNumberOfMessages ?? '0';
  switch (process.argv[2]) {
    case 'status':
      console.log(`${config.queues.ingestDlq}: ${count} messages`);
      return;
    case 'redrive': {
      const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: attrs.Attributes?.QueueArn }));
      console.log(`moving ${count} messages back to their source queue (task ${task.TaskHandle ?? '?'})`);
      return;
    }
    default:
      throw new Error('usage: npm run dlq -- status | redrive');
  }
});
