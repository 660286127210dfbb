// npm run dlq -- status | redrive [ingest|profiles|imports|segmentation|segment-changes|campaign-activity|email-feedback|tag-requests]: the dead-letter queues. Status lists each
// queue's DLQ and what waits there; redrive moves the messages back to their source queue (SQS
// StartMessageMoveTask), by default from every DLQ that holds any. Run it once the cause is fixed: every
// consumer is idempotent, so a redrive is safe to repeat.
import { type DeadLetterQueue, deadLetterQueueOf, redrive } from '../lib/adapters/sqs/deadLetters.js';
import { createSqs } from '../lib/aws/clients.js';
import { runCli, targetConfig } from './target.js';

const USAGE =
  'usage: npm run dlq -- status | redrive [ingest|profiles|imports|segmentation|segment-changes|campaign-activity|email-feedback|tag-requests]';

runCli(async () => {
  const config = await targetConfig();
  const sqs = createSqs(config);
  const sources = {
    ingest: config.queues.ingest,
    profiles: config.queues.profiles,
    imports: config.queues.imports,
    segmentation: config.queues.segmentation,
    'segment-changes': config.queues.segmentChanges,
    'campaign-activity': config.queues.campaignActivity,
    'email-feedback': config.queues.emailFeedback,
    'tag-requests': config.queues.tags,
  };
  const [command, only] = process.argv.slice(2);
  if (only !== undefined && !Object.hasOwn(sources, only)) throw new Error(USAGE);
  const picked = Object.entries(sources).filter(([key]) => only === undefined || key === only);
  const dlqs: DeadLetterQueue[] = await Promise.all(picked.map(([, name]) => deadLetterQueueOf(sqs, name)));
  switch (command) {
    case 'status':
      for (const dlq of dlqs)
        console.log(`${dlq.name}: ${dlq.messages} messages (failures of ${dlq.source})`);
      return;
    case 'redrive': {
      const waiting = dlqs.filter((dlq) => only !== undefined || dlq.messages > 0);
      if (waiting.length === 0) console.log('every dead-letter queue is empty');
      for (const dlq of waiting) {
        const task = await redrive(sqs, dlq);
        console.log(`moving ${dlq.messages} messages from ${dlq.name} back to ${dlq.source} (task ${task})`);
      }
      return;
    }
    default:
      throw new Error(USAGE);
  }
});
