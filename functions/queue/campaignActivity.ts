// Campaign activity consumer: each activity of an applied archive object (several per message) through the
// campaign engine — consent recorded, waits opened and cancelled, immediate candidates dispatched, goal
// events counted. A record that fails comes back whole: every step is idempotent per activity.
import { handleActivities } from '../../lib/campaigns/engine.js';
import { ActivityMessage } from '../../lib/campaigns/publish.js';
import { eachRecord, readBody } from '../../lib/queue/eachRecord.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { campaignEngineDeps } from '../../lib/runtime.js';

export const handler = withSqs(
  eachRecord(
    async (record) => {
      const { activities } = readBody(record, ActivityMessage);
      const handled = await handleActivities(activities, Date.now, campaignEngineDeps());
      return {
        activities: activities.length,
        dispatched: handled.reduce((n, h) => n + h.dispatched.length, 0),
      };
    },
    { concurrency: 2, failure: 'campaign activities not handled; the record will be retried' },
  ),
  (r) => ({
    activities: r.results.reduce((sum, x) => sum + x.activities, 0),
    dispatched: r.results.reduce((sum, x) => sum + x.dispatched, 0),
  }),
);
