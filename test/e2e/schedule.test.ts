// The scheduled functions as serverless-offline runs them (invoked through its Lambda API with the rule's
// input): the nightly quarantine report agrees with what GET /v1/quarantine lists; the segmentation
// schedule asks for one nightly run per day, however often it fires, and the runner completes it.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { createS3 } from '../../lib/aws/clients.js';
import { QuarantineReport } from '../../lib/quarantine/report.js';
import { testConfig } from '../support/provided.js';
import { callApi, waitForRun } from '../support/stackApi.js';

const admin = () => ({ authorization: `Bearer ${inject('adminKey')}` });

async function quarantinedToday(day: string) {
  const codes: Record<string, number> = {};
  let total = 0;
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ from: day, to: day, limit: '500', ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${inject('httpUrl')}/v1/quarantine?${query}`, { headers: admin() });
    const page = (await res.json()) as { items: { reasons: { code: string }[] }[]; nextCursor?: string };
    for (const item of page.items) {
      total++;
      for (const code of new Set(item.reasons.map((r) => r.code))) codes[code] = (codes[code] ?? 0) + 1;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return { total, codes };
}

describe('scheduled quarantine report', () => {
  it("is scheduled by serverless-offline from serverless.yml's cron rule", async () => {
    const log = await readFile(inject('offlineLog'), 'utf8');
    expect(log).toMatch(/Scheduling \[quarantineReport\] cron: \[15 0 \* \* \?\]/);
  });

  it("writes the day's report to S3 with the counts the quarantine API lists", async () => {
    const run = randomUUID();
    const post = (body: unknown) =>
      fetch(`${inject('httpUrl')}/v1/batch`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${inject('writeKey')}:`).toString('base64')}` },
        body: JSON.stringify(body),
      });
    await post({
      batch: [
        { type: 'track', userId: 'undefined', event: `bad-${run}` },
        { type: 'track', userId: 'u', event: 'Order Completed', properties: { revenue: -1, order: run } },
        { type: 'track', userId: 'u', event: 'Fine', messageId: `ok-${run}` },
      ],
    });
    const day = new Date().toISOString().slice(0, 10);
    // The day is still going (other tests' pipelines may quarantine meanwhile): the report must lie
    // between what the API lists just before and just after it ran.
    const before = await quarantinedToday(day);

    const res = await fetch(
      `${inject('lambdaUrl')}/2015-03-31/functions/precis-local-quarantineReport/invocations`,
      {
        method: 'POST',
        body: JSON.stringify({ day }),
      },
    );
    expect(res.headers.get('x-amz-function-error')).toBeNull();
    const out = (await res.json()) as { key: string; total: number };
    expect(out.key).toBe(`reports/quarantine/dt=${day}.json`);

    const config = testConfig();
    const object = await createS3(config).send(
      new GetObjectCommand({ Bucket: config.buckets.archive, Key: out.key }),
    );
    const report = QuarantineReport.parse(JSON.parse(await (object.Body?.transformToString() ?? '{}')));
    const after = await quarantinedToday(day);
    const between = (value: number | undefined, low: number, high: number) => {
      expect(value ?? 0).toBeGreaterThanOrEqual(low);
      expect(value ?? 0).toBeLessThanOrEqual(high);
    };
    between(report.total, before.total, after.total);
    for (const code of new Set([
      ...Object.keys(before.codes),
      ...Object.keys(after.codes),
      ...Object.keys(report.byReason),
    ])) {
      between(report.byReason[code], before.codes[code] ?? 0, after.codes[code] ?? 0);
    }
    expect(report.byReason.junk_id).toBeGreaterThanOrEqual(1);
    expect(report.byReason.negative_amount).toBeGreaterThanOrEqual(1);
    const sources = Object.values(report.bySource).reduce((n, s) => n + s.total, 0);
    expect(sources).toBe(report.total);
  });
});

async function invokeSchedule(name: string, input: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${inject('lambdaUrl')}/2015-03-31/functions/precis-local-${name}/invocations`, {
    method: 'POST',
    body: JSON.stringify(input),
  });
  expect(res.headers.get('x-amz-function-error')).toBeNull();
  return (await res.json()) as Record<string, unknown>;
}

describe('scheduled segmentation', () => {
  it("is scheduled hourly by serverless-offline from serverless.yml's cron rule", async () => {
    const log = await readFile(inject('offlineLog'), 'utf8');
    expect(log).toMatch(/Scheduling \[segmentationSchedule\] cron: \[5 \* \* \* \?\]/);
  });

  it('asks for one nightly run per day, however often it fires, and the runner completes it', async () => {
    // A day older than any other test's live run, so publishing it never hides theirs.
    const first = await invokeSchedule('segmentationSchedule', { asOf: '2011-06-01' });
    const second = await invokeSchedule('segmentationSchedule', { asOf: '2011-06-01' });
    expect(first.runId).toBe('seg_20110601T000000Z_nightly');
    expect(second.runId).toBe(first.runId);
    const run = await waitForRun(String(first.runId), 120_000);
    expect(run).toMatchObject({ status: 'completed', requestedBy: 'schedule', publish: true });
    // Listed once, however many runs other tests made: the listing is paged, newest as-of first.
    const listed: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const res = await callApi<{ runs: { runId: string }[]; nextCursor?: string }>(
        `/v1/segmentation/runs?limit=5${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const page = res.body;
      listed.push(...page.runs.map((r) => r.runId));
      cursor = page.nextCursor;
      if (cursor === undefined) break;
    }
    expect(cursor).toBeUndefined();
    expect(listed.filter((id) => id === first.runId)).toHaveLength(1);
  });
});
