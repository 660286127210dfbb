// The outbox API (admin keys only: entries name customers and what they were sent; addresses masked).
import { listOutbox, OutboxListQuery } from '../../lib/campaigns/outbox.js';
import { withHttp } from '../../lib/http/withHttp.js';
import { outboxListDeps } from '../../lib/runtime.js';

export const list = withHttp({ auth: 'admin', query: OutboxListQuery }, ({ query }) =>
  listOutbox(query, outboxListDeps()),
);
