// Every minute: fires the campaign waits that are due (abandoned carts, deferred sends) and dispatches
// each. `now` (ISO) in the input sweeps as of another time: tests drive the clock with it, and an operator
// may catch up after an outage (a fired wait is never fired again).
import { z } from 'zod';
import { sweepTimers } from '../../lib/campaigns/engine.js';
import { logger } from '../../lib/log.js';
import { campaignEngineDeps } from '../../lib/runtime.js';
import { withSchedule } from '../../lib/schedule/withSchedule.js';

// EventBridge's scheduled event carries its own fields (time, detail...): only `now` is read.
const Input = z.object({ now: z.iso.datetime({ offset: true }).optional() });
const SWEEP_BUDGET_MS = 30_000;

export const handler = withSchedule(Input, async ({ now }) => {
  const at = now === undefined ? Date.now() : Date.parse(now);
  // Pages start only in the first 30 s of the function's 55: the last page (100 waits, 8 at a time)
  // is dispatched in full before the timeout.
  const deadline = Date.now() + SWEEP_BUDGET_MS;
  const swept = await sweepTimers(at, campaignEngineDeps(), { another: () => Date.now() < deadline });
  const summary = {
    now: new Date(at).toISOString(),
    fired: swept.fired,
    lost: swept.lost,
    cancelledLate: swept.cancelledLate,
    sent: swept.dispatched.filter((d) => d === 'sent').length,
    more: swept.more,
  };
  logger().info('campaign timers swept', summary);
  return summary;
});
