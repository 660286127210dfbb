// Campaign activity consumer: each activity of an applied archive object (several per message) through the
// campaign engine — consent recorded, waits opened and cancelled, immediate candidates dispatched, goal
// events counted. A record that fails comes back whole: every step is idempotent per activity.
import { handleActivity } from '../../lib/campaigns/engine.js';
import { ActivityMessage } from '../../lib/campaigns/publish.js';
import { eachRecord, readBody } from '../../lib/queue/eachRecord.js';
import { withSqs } from '../../lib/queue/withSqs.js';
import { campaignEngineDeps } from '../../lib/runtime.js';

export const handler = withSqs(
  eachRecord(
    async (record) => {
      const { activities } = readBody(record, ActivityMessage);
      let dispatched = 0;
      for (const activity of activities) {
        const handled = await handleActivity(activity, Date.now(), campaignEngineDeps());
        dispatched += handled.dispatched.length;
      }
      return { activities: activities.length, dispatched };
    },
    { concurrency: 2, failure: 'campaign activities not handled; the record will be retried' },
  ),
  (r) => ({
    activities: r.results.reduce((sum, x) => sum + x.activities, 0),
    dispatched: r.results.reduce((sum, x) => sum + x.dispatched, 0),
  }),
);
