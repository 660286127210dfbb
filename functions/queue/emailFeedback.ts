// SES bounce and complaint events (the stage's configuration set → EventBridge → the email-feedback
// queue) into the suppression list: a permanent bounce suppresses the address, a complaint also revokes
// the customer's marketing consent by e-mail (lib/campaigns/feedback.ts). Idempotent: the first
// suppression of an address stays, a redelivered event changes nothing.
import { applySesEvent, FeedbackMessage } from '../../lib/campaigns/feedback.js';
import { eachRecord, readBody } from '../../lib/queue/eachRecord.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { emailFeedbackDeps } from '../../lib/runtime.js';

export const handler = withSqs(
  eachRecord(
    async (record, note) => {
      const event = readBody(record, FeedbackMessage);
      const applied = await applySesEvent(event, { ...emailFeedbackDeps(), now: Date.now() });
      note({ kind: applied.kind });
      return applied;
    },
    { failure: 'an SES event was not applied; the record will be retried' },
  ),
  (r) => ({
    suppressed: r.results.reduce((sum, x) => sum + x.suppressed, 0),
    unreadable: r.results.reduce((sum, x) => sum + x.unreadable, 0),
  }),
);
