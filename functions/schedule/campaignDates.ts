// Every hour on the hour: schedules the moments of the enabled date campaigns (a birthday at 09:00 in
// the customer's zone) that fall in the hour begun, and in the hour that begins a UTC day the lapses of
// the inactivity campaigns ("no order for 30 days"), as deferred sends the minute sweep dispatches.
// `now` (ISO) in the input schedules another hour: tests drive the clock with it, and an operator re-runs
// an hour a failed run missed (nothing is scheduled or sent twice).
import { z } from 'zod';
import { scheduleDateTriggers, scheduleInactivityTriggers } from '../../lib/campaigns/engine.js';
import { logger } from '../../lib/log.js';
import { campaignEngineDeps } from '../../lib/runtime.js';
import { withSchedule } from '../../lib/schedule/withSchedule.js';

const Input = z.object({ now: z.iso.datetime({ offset: true }).optional() });

export const handler = withSchedule(Input, async ({ now }) => {
  const at = now === undefined ? Date.now() : Date.parse(now);
  const dates = await scheduleDateTriggers(at, campaignEngineDeps());
  const inactivity = await scheduleInactivityTriggers(at, campaignEngineDeps());
  logger().info('campaign dates scheduled', { dates, inactivity });
  return { dates, inactivity };
});
