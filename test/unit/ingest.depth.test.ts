// Deep nesting (issue 7, defect 3): a 10 KB event nested 5,000 levels overflowed the stack of
// JSON.stringify and stableStringify on Lambda's default stack, and its whole batch got a 5xx. These
// tests run the edge in a plain `node` child process (ingest.depth.child.ts): vitest's worker threads
// have a stack of their own size, Lambda has the default main-thread one.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CUT_MARKER, cutAtDepth, MAX_EVENT_DEPTH, tooDeepAt } from '../../lib/ingest/depth.js';
import { prepareEvent } from '../../lib/ingest/route.js';
import { projectRoot } from '../../lib/projectRoot.js';
import { quarantineEntryOf } from '../../lib/quarantine/model.js';
import { defaultQuality, pathsAndCodes, requestContext } from './factories.js';

const CHILD = join(projectRoot(), 'test', 'unit', 'ingest.depth.child.ts');

/** The edge's answers to `[path, body]` requests, computed in one fresh `node` with default flags. */
function post(...requests: [string, string][]): Record<string, unknown>[] {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
    input: requests.map(([path, body]) => `${path} ${body}\n`).join(''),
    encoding: 'utf8',
    cwd: projectRoot(),
    env: { ...process.env, NODE_OPTIONS: '' },
    maxBuffer: 16 * 1024 * 1024,
  });
  expect(run.status, `the child crashed: ${run.stderr.slice(-2_000)}`).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>[];
}

/** `{"a":{"a":...{"a":1}}}` with `levels` objects. */
const nested = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const track = (id: string, properties = '{}') =>
  `{"type":"track","event":"Viewed","userId":"u1","messageId":"${id}","properties":${properties}}`;

describe('deeply nested events at the default main-thread stack size', () => {
  // Arrays: two bytes a level, so 100,000 levels fit in the 500 KB request limit.
  const deepArray = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  // One child for every request: starting node with tsx takes seconds on a busy machine.
  const [mixed, deepBody, deepInBatch, deepTrack, deepContext] = post(
    ['/v1/batch', `{"batch":[${track('m-0')},${track('m-deep', nested(5_000))},${track('m-2')}]}`],
    ['/v1/batch', deepArray],
    ['/v1/batch', `{"batch":[${deepArray}]}`],
    ['/v1/track', track('m-1', `{"a":${deepArray}}`)],
    ['/v1/batch', `{"context":{"x":${deepArray}},"batch":[${track('m-0')}]}`],
  );

  it('a 5,000-level event (10 KB) is quarantined with its path and reason; its neighbours are accepted', () => {
    expect(mixed?.thrown).toBeUndefined();
    expect(mixed).toMatchObject({
      outcome: {
        ok: true,
        value: {
          accepted: 2,
          rejected: [{ index: 1, messageId: 'm-deep', errors: [{ code: 'too_deep' }] }],
        },
      },
      envelopes: 1,
      quarantined: [{ replayable: false }],
    });
    const issue = (mixed as { outcome: { value: { rejected: { errors: { path: string }[] }[] } } }).outcome
      .value.rejected[0]?.errors[0];
    // The path leads to the first level past the limit: properties (level 2) then 23 more levels.
    expect(issue?.path).toBe(`properties${'.a'.repeat(23)}`);
  });

  it('a 100,000-level body is a clear 400, whatever route it comes to', () => {
    expect(deepBody).toMatchObject({ outcome: { ok: false, reason: 'invalid' } });
    expect(deepInBatch).toMatchObject({
      outcome: { ok: false, reason: 'invalid_events', response: { accepted: 0, rejected: [{ index: 0 }] } },
    });
    expect(deepTrack).toMatchObject({
      outcome: { ok: false, reason: 'invalid_events', response: { accepted: 0 } },
    });
  });

  it('a batch-level context nested too deep rejects the request, naming the path', () => {
    expect(deepContext).toMatchObject({ outcome: { ok: false, reason: 'invalid' } });
    const issues = (deepContext as { outcome: { issues: { path: string; code: string }[] } }).outcome.issues;
    expect(issues.map((i) => i.code)).toEqual(['too_deep']);
    // As in an event: context is level 2, x level 3, so level 25 is x and 22 indexes.
    expect(issues[0]?.path).toBe(`context.x${'[0]'.repeat(22)}`);
  });
});

describe('the nesting limit', () => {
  /** An event whose properties nest so that the deepest container is at `levels` (the event is 1). */
  const eventAtDepth = (levels: number) => {
    let properties: Record<string, unknown> = {};
    for (let level = levels; level > 2; level--) properties = { a: properties };
    return { type: 'track', event: 'Viewed', userId: 'u1', properties };
  };

  it(`accepts an event nested exactly ${MAX_EVENT_DEPTH} levels and rejects one a level deeper`, () => {
    const at = (levels: number) => prepareEvent(eventAtDepth(levels), requestContext(), defaultQuality());
    expect(at(MAX_EVENT_DEPTH).ok).toBe(true);
    const deeper = at(MAX_EVENT_DEPTH + 1);
    expect(deeper.ok === false && pathsAndCodes(deeper.issues)).toEqual([
      [`properties${'.a'.repeat(MAX_EVENT_DEPTH - 1)}`, 'too_deep'],
    ]);
  });

  it('names the first container past the limit, arrays by index', () => {
    expect(tooDeepAt({ a: [1, { b: [[]] }] }, 3)).toEqual(['a', 1, 'b']);
    expect(tooDeepAt({ a: [1, { b: [[]] }] }, 5)).toBeUndefined();
    expect(tooDeepAt('text', 0)).toBeUndefined();
  });

  it('cuts a copy at the limit without recursion, keeping every key', () => {
    const deep = JSON.parse(`{"__proto__":{"x":1},"a":${nested(200_000)}}`) as unknown;
    const cut = cutAtDepth(deep, 3) as Record<string, unknown>;
    expect(JSON.stringify(cut)).toBe(`{"__proto__":{"x":1},"a":{"a":{"a":"${CUT_MARKER}"}}}`);
  });
});

describe('paths of rejections, as the quarantine stores them', () => {
  it('hold no clear e-mail when a client used one as a key', () => {
    let deep: Record<string, unknown> = {};
    for (let level = 0; level < MAX_EVENT_DEPTH; level++) deep = { a: deep };
    const raw = { type: 'track', event: 'Viewed', userId: 'u1', properties: { 'jane@x.com': deep } };
    const result = prepareEvent(raw, requestContext(), defaultQuality());
    expect(result.ok).toBe(false);
    const reasons = result.ok ? [] : result.issues;
    const stored = quarantineEntryOf(
      { raw, issues: reasons, sourceId: 'web', receivedAt: 0, messageId: undefined },
      0,
    ).reasons;
    expect(stored.map((r) => r.code)).toEqual(['too_deep']);
    expect(JSON.stringify(stored)).not.toContain('jane@x.com');
    expect(stored[0]?.path).toMatch(/^properties\.j\*+@x\.com\.a/);
  });
});
