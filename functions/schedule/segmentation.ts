// Nightly: asks for the live segmentation run as of the latest midnight in the business time zone. The run
// id is a function of that date, so the schedule firing twice asks for one run. `asOf` (YYYY-MM-DD) lets
// an operator re-run a day: invoke with {"asOf":"2026-11-20"}. An hourly firing asks for nothing when a
// live run as of that midnight or later is already published (see requestRun).
import { z } from 'zod';
import { logger } from '../../lib/log.js';
import { runRequestDeps } from '../../lib/runtime.js';
import { withSchedule } from '../../lib/schedule/withSchedule.js';
import { AsOf, buildRequest, requestRun } from '../../lib/segmentation/requests.js';

const Input = z.object({ asOf: AsOf.optional() });

export const handler = withSchedule(Input, async ({ asOf }) => {
  const deps = runRequestDeps();
  const built = buildRequest({ asOf, publish: true }, 'schedule', deps, { nightly: true });
  // An operator's mistake in the input: thrown, so the invocation fails visibly.
  if (!built.ok) throw new Error(built.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  // An hourly firing is satisfied by any live run of the day; an operator's explicit day is always asked.
  const run = await requestRun(built.value, deps, { skipIfPublished: asOf === undefined });
  logger().info('nightly segmentation requested', { runId: run.runId, status: run.status, asOf: run.asOf });
  return { runId: run.runId, status: run.status };
});
