// Nightly: asks for the live segmentation run as of the latest midnight in the business time zone. The run
// id is a function of that date, so the schedule firing twice asks for one run. `asOf` (YYYY-MM-DD) lets
// an operator re-run a day: invoke with {"asOf":"2026-11-20"}.
import { z } from 'zod';
import { logger } from '../../lib/log.js';
import { runRequestDeps } from '../../lib/runtime.js';
import { withSchedule } from '../../lib/schedule/withSchedule.js';
import { buildRequest, requestRun } from '../../lib/segmentation/requests.js';

const Input = z.object({
  asOf: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
});

export const handler = withSchedule(Input, async ({ asOf }) => {
  const deps = runRequestDeps();
  const request = buildRequest({ asOf, publish: true }, 'schedule', deps, { nightly: true });
  const run = await requestRun(request, deps);
  logger().info('nightly segmentation requested', { runId: run.runId, status: run.status, asOf: run.asOf });
  return { runId: run.runId, status: run.status };
});
