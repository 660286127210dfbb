// npm run demo: replays the real datasets (Online Retail orders, REES46 browsing) through the public HTTP
// API of a running local stack, with the unmodified Segment SDK, and shows what was quarantined.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { SingleBar } from 'cli-progress';
import { waitUntilDrained } from '../lib/adapters/sqs/drained.js';
import { createSqs } from '../lib/aws/clients.js';
import { datasetsAvailable, defaultDataDir, demoEvents } from '../lib/datasets/index.js';
import type { RunSummary } from '../lib/segmentation/model.js';
import { loadDemoTags } from '../lib/tags/demo.js';
import { type LocalStack, STACK_FILE } from '../local/stack.js';
import { apiRequest, messageOf, withRetries } from './apiCall.js';
import { type SegmentTarget, segmentClient, sendWithSdk } from './segment.js';

export async function replayDemo(target: SegmentTarget, options: { limit?: number } = {}): Promise<void> {
  if (!datasetsAvailable()) {
    throw new Error(`The demo data is not in ${defaultDataDir()} (see the shared data folder's README).`);
  }
  const analytics = segmentClient(target);
  const bar = new SingleBar({
    format: 'demo data |{bar}| {value}/{total} events delivered  {failed} failed  {rate}/s',
    hideCursor: true,
  });
  let produced = 0;
  let delivered = 0;
  let failed = 0;
  const started = Date.now();
  bar.start(0, 0, { failed, rate: 0 });
  const update = () =>
    bar.update(delivered, { failed, rate: Math.round(delivered / ((Date.now() - started) / 1000 || 1)) });
  // The SDK sends every full batch at once; past a few dozen requests in flight a laptop's stack answers
  // late, the SDK times out and re-sends (dedup absorbs it, but it is wasted work). Keep ~20 in flight.
  const maxInFlight = 2_000;
  let wake: (() => void) | undefined;
  const inFlight = () => produced - delivered - failed;
  for await (const event of demoEvents()) {
    if (options.limit !== undefined && produced >= options.limit) break;
    produced++;
    bar.setTotal(produced);
    sendWithSdk(analytics, event, (error) => {
      if (error) failed++;
      else delivered++;
      update();
      if (wake && inFlight() <= maxInFlight / 2) {
        wake();
        wake = undefined;
      }
    });
    if (inFlight() >= maxInFlight) await new Promise<void>((resolve) => (wake = resolve));
  }
  await analytics.closeAndFlush({ timeout: 120_000 });
  update();
  bar.stop();
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `Replayed ${produced} events in ${seconds.toFixed(1)} s: ${delivered} delivered, ${failed} failed.`,
  );
  console.log('Events the data-quality rules held back are listed by GET /v1/quarantine (admin key).');
}

/**
 * Once the replay is archived and profiled, asks for the nightly segmentation run (as an operator would,
 * through the admin API) and waits for it, so the demo ends with named segments to look at.
 */
export async function segmentDemo(stack: LocalStack): Promise<void> {
  const sqs = createSqs(stack.config);
  const started = Date.now();
  const progress = everyFewSeconds();
  await waitUntilDrained(sqs, [stack.config.queues.ingest, stack.config.queues.profiles], {
    onCheck: ([archive = 0, profiles = 0]) => {
      if (!progress()) return;
      console.log(`[precis] archive: ${archive} batches of events waiting to be archived`);
      console.log(`[precis] profiles: ${profiles} archive objects waiting to be applied to profiles`);
    },
  });
  console.log(`[precis] caught up: every event sent is archived and in the profiles (${since(started)})`);
  type RunAnswer = { run?: { runId: string; status: string; summary?: RunSummary } };
  // A busy laptop's stack may time a call out (503/504): asked again, with an Idempotency-Key on the POST,
  // so the retry finds the run the first attempt made instead of asking for a second one.
  const call = async (path: string, key: string, post?: { idempotencyKey: string }): Promise<RunAnswer> => {
    const answer = await withRetries(
      () =>
        apiRequest(`${stack.httpUrl}${path}`, {
          method: post ? 'POST' : 'GET',
          headers: {
            authorization: `Bearer ${key}`,
            'content-type': 'application/json',
            ...(post ? { 'idempotency-key': post.idempotencyKey } : {}),
          },
          body: post ? '{}' : undefined,
        }),
      { attempts: 6 },
    );
    if (answer.status >= 300) throw new Error(`${path} answered ${answer.status}: ${messageOf(answer)}`);
    return answer.body as RunAnswer;
  };
  // The demo tags are saved before the run: its nightly pass gives every customer theirs.
  const tags = await saveDemoTags(stack);
  console.log(`[precis] tags: ${tags.length} saved (${tags.join(', ')})`);
  const asked = await call('/v1/segmentation/runs', stack.adminKey, { idempotencyKey: randomUUID() });
  const runId = asked.run?.runId;
  if (!runId)
    throw new Error(`the segmentation run was not accepted: ${JSON.stringify(asked).slice(0, 300)}`);
  let run = (await call(`/v1/segmentation/runs/${runId}`, stack.readKey)).run;
  const runStarted = Date.now();
  while (run && run.status !== 'completed' && run.status !== 'failed') {
    if (progress()) console.log(`[precis] segmentation: run ${runId} ${run.status} (${since(runStarted)})`);
    await sleep(2_000);
    run = (await call(`/v1/segmentation/runs/${runId}`, stack.readKey)).run;
  }
  const sizes = Object.entries(run?.summary?.segments ?? {}).map(([s, n]) => `${s} ${n}`);
  console.log(`Segmentation run ${runId}: ${run?.status}; ${sizes.join(', ')}.`);
  console.log(`  Segments: curl -H 'authorization: Bearer ${stack.readKey}' ${stack.httpUrl}/v1/segments`);
  console.log(
    `  Tags: curl -H 'authorization: Bearer ${stack.readKey}' ${stack.httpUrl}/v1/tags/price-band/customers`,
  );
}

/** Saves every demo tag (PUT creates it or saves its next version); returns their ids. */
export async function saveDemoTags(stack: Pick<LocalStack, 'httpUrl' | 'adminKey'>): Promise<string[]> {
  const ids: string[] = [];
  for (const tag of await loadDemoTags()) {
    const saved = await withRetries(
      () =>
        apiRequest(`${stack.httpUrl}/v1/tags/${tag.id}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(tag),
        }),
      { attempts: 6 },
    );
    if (saved.status !== 200 && saved.status !== 201)
      throw new Error(`tag ${tag.id}: ${saved.status} ${messageOf(saved)}`);
    ids.push(tag.id);
  }
  return ids;
}

/** True at most once every 15 s: the pace of progress lines while the pipeline works. */
function everyFewSeconds(intervalMs = 15_000): () => boolean {
  let last = 0;
  return () => {
    if (Date.now() - last < intervalMs) return false;
    last = Date.now();
    return true;
  };
}

const since = (start: number) => `${Math.round((Date.now() - start) / 1000)} s`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const stack = JSON.parse(await readFile(STACK_FILE, 'utf8').catch(() => '{}')) as Partial<SegmentTarget>;
  if (!stack.httpUrl || !stack.writeKey) {
    console.error('No local stack is running: start one with `npm start` (or use `npm run dev`).');
    process.exit(1);
  }
  const limit = process.argv.includes('--limit')
    ? Number(process.argv[process.argv.indexOf('--limit') + 1])
    : undefined;
  await replayDemo({ httpUrl: stack.httpUrl, writeKey: stack.writeKey }, { limit });
}
