// Tags queue consumer: the customers each message names are evaluated against every enabled tag, and
// what changed is stored (lib/tags/consume.ts). Partial batch failures: a failed message alone comes back.
import { eachRecord, readBody } from '../../lib/queue/eachRecord.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { tagDeps } from '../../lib/runtime.js';
import { evaluateCustomers, TagRequestMessage } from '../../lib/tags/consume.js';

export const handler = withSqs(
  eachRecord(
    async (record, note) => {
      const message = readBody(record, TagRequestMessage);
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
