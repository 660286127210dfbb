// Asking for a segmentation run: which as-of times are accepted (real dates, inside a documented window),
// and when the schedule's nightly run is not needed.
import { describe, expect, it } from 'vitest';
import { RunListQuery } from '../../lib/segmentation/api.js';
import type { RunRecord, RunRequest } from '../../lib/segmentation/model.js';
import type { RunStore } from '../../lib/segmentation/ports.js';
import {
  askedAs,
  buildRequest,
  REQUEUE_AFTER_MS,
  type RequestDeps,
  RunRequestBody,
  requestRun,
} from '../../lib/segmentation/requests.js';
import { queuedRun } from '../../lib/segmentation/run.js';

const NOW = Date.parse('2026-12-06T15:30:00Z');
const FLOOR = Date.parse('1990-01-01T00:00:00Z');
const deps = { timezone: 'UTC', now: () => NOW, minAsOf: FLOOR };

/** The issues of a body, whether the schema or the window rejects it. */
function issuesOf(body: unknown, timezone = 'UTC'): { path: string; code?: string; message: string }[] {
  const parsed = RunRequestBody.safeParse(body);
  if (!parsed.success)
    return parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const built = buildRequest(parsed.data, 'test', { ...deps, timezone });
  return built.ok ? [] : built.issues.map((i) => ({ path: i.path, code: i.code, message: i.message }));
}

describe('the as-of time of a requested run', () => {
  it('must be a real calendar date', () => {
    for (const asOf of ['2024-02-30', '2023-02-29', '2024-04-31', '2024-13-01', '2024-00-10']) {
      expect(issuesOf({ asOf }), asOf).toEqual([
        { path: 'asOf', message: expect.stringMatching(/real date/) },
      ]);
    }
    expect(issuesOf({ asOf: '2024-02-30T10:00:00Z' })).toEqual([
      { path: 'asOf', message: expect.stringMatching(/real date/) },
    ]);
    expect(issuesOf({ asOf: '2024-02-29' })).toEqual([]);
  });

  it('is not after the coming midnight in the business time zone', () => {
    for (const asOf of ['9999-12-31', '2026-12-08', '2026-12-07T00:00:01Z', '9999-12-31T00:00:00Z']) {
      expect(issuesOf({ asOf }), asOf).toEqual([
        {
          path: 'asOf',
          code: 'as_of_too_late',
          message: expect.stringContaining('2026-12-07T00:00:00.000Z'),
        },
      ]);
    }
    // "As of tomorrow": everything up to the end of today.
    expect(issuesOf({ asOf: '2026-12-07' })).toEqual([]);
    expect(issuesOf({ asOf: '2026-12-06T15:29:00Z' })).toEqual([]);
    // 15:30 UTC is already the 7th in Tokyo: its coming midnight starts the 8th there.
    expect(issuesOf({ asOf: '2026-12-08' }, 'Asia/Tokyo')).toEqual([]);
  });

  it('is not before the ingestion floor, and year 1 stays year 1', () => {
    expect(issuesOf({ asOf: '0001-01-01' })).toEqual([
      {
        path: 'asOf',
        code: 'as_of_too_early',
        message: expect.stringMatching(/^0001-01-01T00:00:00.000Z is before 1990-01-01T00:00:00.000Z/),
      },
    ]);
    expect(issuesOf({ asOf: '1989-12-31' })[0]?.code).toBe('as_of_too_early');
    expect(issuesOf({ asOf: '1990-01-01' })).toEqual([]);
  });

  it('defaults to a live run as of the latest midnight; only the schedule asks for the nightly id', () => {
    const built = buildRequest({}, 'test', deps);
    expect(built.ok && built.value).toMatchObject({
      runId: expect.stringMatching(/^seg_20261206T000000Z_[0-9a-f]{8}$/),
      publish: true,
      parameters: { asOf: '2026-12-06T00:00:00.000Z' },
    });
    const nightly = buildRequest({ publish: true }, 'schedule', deps, { nightly: true });
    expect(nightly.ok && nightly.value.runId).toBe('seg_20261206T000000Z_nightly');
  });
});

/** The few RunStore calls requestRun makes, over a map. */
function memoryRuns(published?: RunRecord): RunStore & { stored: Map<string, RunRecord> } {
  const stored = new Map<string, RunRecord>(published ? [[published.runId, published]] : []);
  const unused = () => {
    throw new Error('not used by requestRun');
  };
  return {
    stored,
    getRun: async (id) => stored.get(id),
    putRun: async (run) => {
      stored.set(run.runId, run);
    },
    publishedRun: async () => published?.runId,
    listRuns: unused,
    claimPublished: unused,
    putAssignments: unused,
    getAssignment: unused,
  };
}

describe('a request with an Idempotency-Key', () => {
  const built = (body: RunRequestBody, by: string, idempotencyKey?: string) => {
    const out = buildRequest(body, by, deps, { idempotencyKey });
    if (!out.ok) throw new Error('rejected');
    return out.value;
  };

  it('asks for the same run when retried by the same key, and for another run from another API key', async () => {
    const first = built({}, 'key:admin1', 'retry-me');
    expect(first.runId).toMatch(/^seg_20261206T000000Z_k[0-9a-f]{16}$/);
    expect(built({}, 'key:admin1', 'retry-me').runId).toBe(first.runId);
    expect(built({}, 'key:admin2', 'retry-me').runId).not.toBe(first.runId);
    expect(built({}, 'key:admin1', 'another').runId).not.toBe(first.runId);
    // Without a key every request is a run of its own.
    expect(built({}, 'key:admin1').runId).not.toBe(built({}, 'key:admin1').runId);

    const queued: string[] = [];
    const runs = memoryRuns();
    const requestDeps = {
      ...deps,
      runs,
      queue: { enqueue: async (r: RunRequest) => void queued.push(r.runId) },
      codeVersion: 'test',
    };
    const run = await requestRun(first, requestDeps);
    const retried = await requestRun(built({}, 'key:admin1', 'retry-me'), requestDeps);
    expect(retried).toEqual(run);
    expect(queued).toEqual([first.runId]);
  });

  it('tells a reuse with another body from a retry', () => {
    const run = queuedRun(built({ parameters: { kMax: 6 } }, 'key:a', 'k1'), 'test');
    expect(askedAs(run, built({ parameters: { kMax: 6 } }, 'key:a', 'k1'))).toBe(true);
    expect(askedAs(run, built({ parameters: { kMax: 7 } }, 'key:a', 'k1'))).toBe(false);
    expect(askedAs(run, built({ parameters: { kMax: 6 }, publish: false }, 'key:a', 'k1'))).toBe(false);
  });
});

describe('the nightly run', () => {
  const requestDeps = (runs: RunStore, queued: string[]): RequestDeps => ({
    ...deps,
    runs,
    queue: { enqueue: async (r) => void queued.push(r.runId) },
    codeVersion: 'test',
  });
  const nightly = () => {
    const built = buildRequest({ publish: true }, 'schedule', deps, { nightly: true });
    if (!built.ok) throw new Error('rejected');
    return built.value;
  };
  const liveRun = (runId: string, asOf: string): RunRecord => {
    const built = buildRequest({ asOf, publish: true }, 'test', deps);
    if (!built.ok) throw new Error('rejected');
    return {
      ...queuedRun({ ...built.value, runId }, 'test'),
      status: 'completed',
      published: true,
      attempts: 1,
    };
  };

  it('is not queued when a live run as of that midnight or later is published', async () => {
    const queued: string[] = [];
    const published = liveRun('seg_20261206T000000Z_demo', '2026-12-06');
    const run = await requestRun(nightly(), requestDeps(memoryRuns(published), queued), {
      skipIfPublished: true,
    });
    expect(run.runId).toBe(published.runId);
    expect(queued).toEqual([]);
  });

  it('is queued when only an older run is published', async () => {
    const queued: string[] = [];
    const runs = memoryRuns(liveRun('seg_20111210T000000Z_test', '2011-12-10'));
    const run = await requestRun(nightly(), requestDeps(runs, queued), { skipIfPublished: true });
    expect(run).toMatchObject({ runId: 'seg_20261206T000000Z_nightly', status: 'queued' });
    expect(queued).toEqual(['seg_20261206T000000Z_nightly']);
  });

  it('is enqueued again when its first enqueue failed after the run was stored, once that is stale', async () => {
    const runs = memoryRuns();
    let now = NOW;
    const sent: RunRequest[] = [];
    let failNext = true;
    const faulty: RequestDeps = {
      ...deps,
      now: () => now,
      runs,
      // Fault injection on the queue port: the first send fails (SQS throttled, a network error).
      queue: {
        enqueue: async (r) => {
          if (failNext) {
            failNext = false;
            throw new Error('SQS unavailable');
          }
          sent.push(r);
        },
      },
      codeVersion: 'test',
    };
    const firing = () => {
      const built = buildRequest({ publish: true }, 'schedule', faulty, { nightly: true });
      if (!built.ok) throw new Error('rejected');
      return requestRun(built.value, faulty, { skipIfPublished: true });
    };
    await expect(firing()).rejects.toThrow('SQS unavailable');
    const stored = runs.stored.get('seg_20261206T000000Z_nightly');
    expect(stored?.status).toBe('queued');

    // A retry within minutes: the message may still be on its way to the runner.
    now = NOW + REQUEUE_AFTER_MS - 1;
    expect((await firing()).status).toBe('queued');
    expect(sent).toEqual([]);

    // The next hourly firing: asked again, as the stored run was asked (its parameters, its time).
    now = NOW + 60 * 60_000;
    const run = await firing();
    expect(run).toEqual(stored);
    expect(sent).toEqual([
      {
        runId: 'seg_20261206T000000Z_nightly',
        parameters: stored?.parameters,
        publish: true,
        requestedBy: 'schedule',
        requestedAt: new Date(NOW).toISOString(),
      },
    ]);
  });

  it('is not enqueued again once the runner started it', async () => {
    const runs = memoryRuns();
    const sent: string[] = [];
    const request = nightly();
    const later: RequestDeps = { ...requestDeps(runs, sent), now: () => NOW + 60 * 60_000 };
    for (const status of ['running', 'completed'] as const) {
      runs.stored.set(request.runId, { ...queuedRun(request, 'test'), status });
      expect((await requestRun(request, later)).status).toBe(status);
    }
    expect(sent).toEqual([]);
  });
});

describe('the run listing cursor', () => {
  it('refuses a cursor that is not a listing position, naming it (an empty position was a 500)', () => {
    for (const cursor of ['0', 'AA', Buffer.from('seg_x').toString('base64url')]) {
      const parsed = RunListQuery.safeParse({ cursor });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual(['cursor']);
    }
    const position = '2011-12-10T00:00:00.000Z|2026-12-06T09:00:00.000Z|seg_20111210_ab12';
    expect(RunListQuery.safeParse({ cursor: Buffer.from(position).toString('base64url') }).success).toBe(
      true,
    );
  });
});
