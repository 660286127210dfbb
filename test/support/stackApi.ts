// Calling the local stack's API from e2e tests with a key, and waiting (bounded) on its asynchronous
// pipeline: a customer's profile reaching a state, a segmentation run finishing.
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';

export interface Answer<T> {
  status: number;
  body: T;
}

/** A JSON call with a Bearer key (the read key unless told). */
export async function callApi<T = Record<string, unknown>>(
  path: string,
  init: { method?: string; body?: unknown; key?: string } = {},
): Promise<Answer<T>> {
  const res = await fetch(`${inject('httpUrl')}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.key ?? inject('readKey')}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Polls GET /v1/customers/{id} until `ready` holds; fails after `timeoutMs` with the last answer. */
export async function waitForCustomer<P>(
  id: string,
  ready: (p: P) => boolean,
  timeoutMs = 60_000,
): Promise<P> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await callApi<P>(`/v1/customers/${encodeURIComponent(id)}`);
    last = res.body;
    if (res.status === 200 && ready(res.body)) return res.body;
    await sleep(500);
  }
  throw new Error(`customer ${id} not ready within ${timeoutMs} ms; last answer: ${JSON.stringify(last)}`);
}

/** Asks for a segmentation run through the admin API (202 expected); its id. */
export async function startRun(body: Record<string, unknown>): Promise<string> {
  const started = await callApi('/v1/segmentation/runs', { method: 'POST', key: inject('adminKey'), body });
  if (started.status !== 202)
    throw new Error(`run refused: ${started.status} ${JSON.stringify(started.body)}`);
  return (started.body.run as { runId: string }).runId;
}

/** Every member of the given segments of a run (all of the run's segments by default), through the API. */
export async function allMembers<M extends { customerId: string }>(
  runId: string,
  segmentIds?: readonly string[],
): Promise<Map<string, M>> {
  const ids =
    segmentIds ??
    ((await callApi(`/v1/segments?runId=${runId}`)).body as { segments: { id: string }[] }).segments.map(
      (s) => s.id,
    );
  const members = new Map<string, M>();
  for (const id of ids) {
    let cursor: string | undefined;
    do {
      const query = `runId=${runId}&limit=500${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await callApi(`/v1/segments/${id}/members?${query}`)).body as {
        members: M[];
        nextCursor?: string;
      };
      for (const m of page.members) members.set(m.customerId, m);
      cursor = page.nextCursor;
    } while (cursor);
  }
  return members;
}

export interface RunAnswer {
  runId: string;
  status: string;
  requestedBy?: string;
  publish?: boolean;
  summary?: { buyers: number };
}

/** Polls GET /v1/segmentation/runs/{id} until the run completed or failed; fails after `timeoutMs`. */
export async function waitForRun(runId: string, timeoutMs = 300_000): Promise<RunAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { run } = (await callApi<{ run: RunAnswer }>(`/v1/segmentation/runs/${runId}`)).body;
    if (run.status === 'completed' || run.status === 'failed') return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ${timeoutMs} ms`);
    await sleep(1_000);
  }
}
