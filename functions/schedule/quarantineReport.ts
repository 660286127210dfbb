// Nightly: the previous UTC day's quarantine report, to S3 (reports/quarantine/dt=DAY.json) and the log.
import { z } from 'zod';
import { logger } from '../../lib/log.js';
import { buildQuarantineReport, previousDay, quarantineReportKey } from '../../lib/quarantine/report.js';
import { quarantine, reports } from '../../lib/runtime.js';
import { withSchedule } from '../../lib/schedule/withSchedule.js';

/** `day` lets an operator re-run a past day: invoke with {"day":"2026-11-20"}. */
const Input = z.object({
  day: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
});

export const handler = withSchedule(Input, async ({ day }) => {
  const report = await buildQuarantineReport(day ?? previousDay(Date.now()), quarantine(), Date.now());
  const key = quarantineReportKey(report.day);
  await reports().putJson(key, report);
  logger().info('quarantine report', {
    key,
    day: report.day,
    total: report.total,
    byReason: report.byReason,
  });
  return { key, total: report.total };
});
