// Tags queue consumer: the customers each message names are evaluated against every enabled tag, and
// what changed is stored (lib/tags/consume.ts). Partial batch failures: a failed message alone comes back.
import { eachRecord, readBody } from '../../lib/queue/eachRecord.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { tagDeps, tagSweepDeps } from '../../lib/runtime.js';
import { evaluateCustomers, sweepStep, TagQueueMessage, type TagsEvaluated } from '../../lib/tags/consume.js';

export const handler = withSqs(
  eachRecord(
    async (record, note): Promise<TagsEvaluated> => {
      const message = readBody(record, TagQueueMessage);
      if (message.origin === 'sweep') {
        note({ origin: message.origin, runId: message.runId });
        await sweepStep(message, tagSweepDeps());
        return { customers: 0, changed: 0, removed: 0 };
      }
      note({ origin: message.origin, customers: message.customerIds.length });
      return evaluateCustomers(message, tagDeps());
    },
    { concurrency: 2, failure: 'tags not evaluated; the record will be retried' },
  ),
  (r) => ({
    customers: r.results.reduce((sum, x) => sum + x.customers, 0),
    changed: r.results.reduce((sum, x) => sum + x.changed, 0),
    removed: r.results.reduce((sum, x) => sum + x.removed, 0),
  }),
);
