// The segmentation read API's expected failures are values (lib/outcome.ts), not HTTP errors thrown from
// lib/: an unknown or unfinished run, nothing published yet, a members cursor of another run.
import { describe, expect, it } from 'vitest';
import { listSegments, MembersQuery, segmentMembers, showRun } from '../../lib/segmentation/api.js';
import type { RunRecord } from '../../lib/segmentation/model.js';
import type { RunFiles, RunStore } from '../../lib/segmentation/ports.js';
import type { RunReport } from '../../lib/segmentation/report.js';
import { buildRequest } from '../../lib/segmentation/requests.js';
import { queuedRun } from '../../lib/segmentation/run.js';

const NOW = Date.parse('2026-12-06T15:30:00Z');
const window = { timezone: 'UTC', now: () => NOW, minAsOf: Date.parse('1990-01-01T00:00:00Z') };

function run(status: RunRecord['status']): RunRecord {
  const built = buildRequest({ asOf: '2026-12-01', publish: true }, 'test', window);
  if (!built.ok) throw new Error('rejected');
  return { ...queuedRun({ ...built.value, runId: `seg_20261201T000000Z_${status}` }, 'test'), status };
}

/** The RunStore and RunFiles calls the read API makes, over the given runs; nothing published. */
function readDeps(runs: RunRecord[], report?: RunReport): { runs: RunStore; files: RunFiles } {
  const unused = () => {
    throw new Error('not used by the read API');
  };
  return {
    runs: {
      getRun: async (id) => runs.find((r) => r.runId === id),
      publishedRun: async () => undefined,
      listRuns: async () => ({ runs }),
      putRun: unused,
      claimPublished: unused,
      putAssignments: unused,
      getAssignment: unused,
    },
    files: {
      getReport: async () => report,
      membersPage: async () => ({ members: [] }),
      putReport: unused,
      assignmentWriter: unused,
      segmentsOf: unused,
    },
  };
}

describe('the segmentation read API', () => {
  it('answers an unknown run as not found, a value rather than a thrown HTTP error', async () => {
    expect(await showRun('seg_20261201T000000Z_none', readDeps([]))).toEqual({
      ok: false,
      reason: 'not_found',
      message: 'No segmentation run seg_20261201T000000Z_none.',
    });
  });

  it('shows a run not completed yet without its report', async () => {
    const queued = run('queued');
    expect(await showRun(queued.runId, readDeps([queued]))).toEqual({
      ok: true,
      value: { run: queued, report: null },
    });
  });

  it('has no segments of an unfinished run, nor before any run was published', async () => {
    const running = run('running');
    expect(await listSegments(running.runId, readDeps([running]))).toMatchObject({
      ok: false,
      reason: 'not_found',
      message: `Segmentation run ${running.runId} is running, not completed.`,
    });
    expect(await listSegments(undefined, readDeps([running]))).toMatchObject({
      ok: false,
      reason: 'not_found',
      message: expect.stringMatching(/^No segmentation run has been published yet/),
    });
    const completed = run('completed');
    expect(await listSegments(completed.runId, readDeps([completed]))).toMatchObject({
      ok: false,
      reason: 'not_found',
      message: `The report of run ${completed.runId} is missing.`,
    });
  });

  it("refuses a members cursor of another run as invalid, naming the cursor's run", async () => {
    const completed = run('completed');
    const query = MembersQuery.parse({
      cursor: `${completed.runId}.10`,
      runId: 'seg_20261202T000000Z_other',
    });
    expect(await segmentMembers('loyal', query, readDeps([completed]))).toEqual({
      ok: false,
      reason: 'invalid',
      message: `The cursor is a page of run ${completed.runId}, not of seg_20261202T000000Z_other.`,
      issues: [{ path: 'cursor', code: 'invalid_cursor', message: `belongs to run ${completed.runId}` }],
    });
    expect(
      await segmentMembers(
        'loyal',
        MembersQuery.parse({ cursor: `${completed.runId}.0` }),
        readDeps([completed]),
      ),
    ).toEqual({
      ok: true,
      value: { runId: completed.runId, segment: 'loyal', members: [] },
    });
  });
});
