// Segment changes of published runs through the campaign engine: entries into (or exits from) a campaign's
// segment are dispatched. Trigger keys name the run's as-of day, so a redelivered message sends nothing twice.
import { handleSegmentChanges } from '../../lib/campaigns/engine.js';
import { eachRecord, readBody } from '../../lib/queue/eachRecord.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { campaignEngineDeps } from '../../lib/runtime.js';
import { SegmentChangesMessage } from '../../lib/segmentation/model.js';

export const handler = withSqs(
  eachRecord(
    async (record, note) => {
      const message = readBody(record, SegmentChangesMessage);
      note({ runId: message.runId });
      return (await handleSegmentChanges(message, Date.now(), campaignEngineDeps())).length;
    },
    { failure: 'segment changes not handled; the record will be retried' },
  ),
  (r) => ({ dispatched: r.results.reduce((sum, n) => sum + n, 0) }),
);
