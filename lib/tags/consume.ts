// The tags queue's use case: evaluating every enabled tag on the customers a message names and storing
// what changed. Three producers: the profiles consumer (the customers of each applied archive object:
// behavior tags follow events within seconds), a published segmentation run (every customer of the run,
// each night: tags that read the run's segments and scores, and those that change with time alone, such as
// `daysSinceLastOrder`), and a saved or deleted definition (a sweep: the published run's members, a page
// per message, each page named again as customers). At-least-once safe: an evaluation is a pure function
// of what it reads, and the store keeps the latest evaluation only (lib/tags/ports.ts `replace`).
import pMap from 'p-map';
import { z } from 'zod';
import type { RecipientReader } from '../campaigns/dispatch.js';
import type { RunFiles, RunStore } from '../segmentation/ports.js';
import type { SegmentId } from '../segmentation/segments.js';
import { evaluateTags, nextTags, sameTags, tagSubject } from './evaluate.js';
import type { TagDefinition } from './model.js';
import type { CustomerTagStore, TagDefinitions } from './ports.js';

/** Customers per message: a message is evaluated in one invocation, far below its timeout. */
export const CUSTOMERS_PER_MESSAGE = 200;

/**
 * Why customers are named: `activity` (the profiles consumer; identity merges happen there, so merged-away
 * customers' tags are cleared then) or `run` (a published run's nightly pass).
 */
export const TAG_ORIGINS = ['activity', 'run'] as const;
export type TagOrigin = (typeof TAG_ORIGINS)[number];

export const TagRequestMessage = z.object({
  v: z.literal(1),
  origin: z.enum(TAG_ORIGINS),
  customerIds: z.array(z.string().min(1).max(200)).min(1).max(CUSTOMERS_PER_MESSAGE),
});
export type TagRequestMessage = z.infer<typeof TagRequestMessage>;

/**
 * One step of a sweep over the published run's members: the page at `cursor` of the first of `segments`;
 * the step names that page's customers and sends the next step.
 */
export const TagSweepMessage = z.object({
  v: z.literal(1),
  origin: z.literal('sweep'),
  runId: z.string().min(1).max(200),
  segments: z.array(z.string().min(1).max(64)).max(64),
  cursor: z.string().max(200).optional(),
});
export type TagSweepMessage = z.infer<typeof TagSweepMessage>;

export const TagQueueMessage = z.union([TagRequestMessage, TagSweepMessage]);
export type TagQueueMessage = z.infer<typeof TagQueueMessage>;

/** The port producers call (lib/adapters/sqs/tagRequests.ts). */
export interface TagRequests {
  /** Names customers to evaluate again; returns how many messages it sent. */
  request(origin: TagOrigin, customerIds: readonly string[]): Promise<number>;
  /** Sends one step of a sweep. */
  sweep(step: Omit<TagSweepMessage, 'v' | 'origin'>): Promise<void>;
}

/** Members read per sweep step: five request messages, a second or two of work. */
export const SWEEP_PAGE = 1000;

export interface SweepDeps {
  readonly runs: Pick<RunStore, 'publishedRun'>;
  readonly files: Pick<RunFiles, 'getReport' | 'membersPage'>;
  readonly requests: TagRequests;
}

/**
 * Starts a sweep of every customer of the published run (a definition saved or deleted: every customer is
 * evaluated again now, not at their next event or the next night); false when no run is published.
 */
export async function sweepPublished(deps: SweepDeps): Promise<boolean> {
  const runId = await deps.runs.publishedRun();
  if (runId === undefined) return false;
  const report = await deps.files.getReport(runId);
  const segments = (report?.segments ?? []).filter((s) => s.size > 0).map((s) => s.id);
  if (segments.length > 0) await deps.requests.sweep({ runId, segments });
  return true;
}

/** One sweep step: a page of members named as customers, then the next step (if any) sent. */
export async function sweepStep(step: TagSweepMessage, deps: SweepDeps): Promise<number> {
  const [segment, ...rest] = step.segments;
  if (segment === undefined) return 0;
  const page = await deps.files.membersPage(step.runId, segment as SegmentId, step.cursor, SWEEP_PAGE);
  await deps.requests.request(
    'run',
    page.members.map((m) => m.customerId),
  );
  // The next step after this page's requests: a crash between the two repeats this page, never skips it.
  if (page.next !== undefined)
    await deps.requests.sweep({ runId: step.runId, segments: step.segments, cursor: page.next });
  else if (rest.length > 0) await deps.requests.sweep({ runId: step.runId, segments: rest });
  return page.members.length;
}

export interface TagDeps {
  readonly recipients: RecipientReader;
  readonly definitions: Pick<TagDefinitions, 'listDefinitions'>;
  readonly store: CustomerTagStore;
  /** Customer ids merged into this one (the identity merge log): their stored tags are removed. */
  readonly absorbed: (customerId: string) => Promise<readonly string[]>;
  readonly now: () => number;
}

export interface TagsEvaluated {
  readonly customers: number;
  /** Customers whose stored tags changed. */
  readonly changed: number;
  /** Stored records of customers that are gone (merged away, unknown) removed. */
  readonly removed: number;
}

/** Compare-and-set attempts of one customer's record against concurrent evaluations. */
const WRITE_ATTEMPTS = 5;

/** Customers evaluated at once (each is a few reads and at most a few writes). */
const CONCURRENCY = 8;

export async function evaluateCustomers(
  message: Pick<TagRequestMessage, 'origin' | 'customerIds'>,
  deps: TagDeps,
): Promise<TagsEvaluated> {
  const definitions = (await deps.definitions.listDefinitions()).filter((t) => t.enabled);
  const followMerges = message.origin === 'activity';
  const outcomes = await pMap(
    new Set(message.customerIds),
    (id) => evaluateCustomer(id, definitions, followMerges, deps),
    {
      concurrency: CONCURRENCY,
    },
  );
  return {
    customers: outcomes.length,
    changed: outcomes.filter((o) => o.changed).length,
    removed: outcomes.reduce((sum, o) => sum + o.removed, 0),
  };
}

async function evaluateCustomer(
  id: string,
  definitions: readonly TagDefinition[],
  followMerges: boolean,
  deps: TagDeps,
): Promise<{ changed: boolean; removed: number }> {
  // The evaluation's time is taken before anything is read: of two evaluations, the one that read later
  // data has the later time, and only it may stand.
  const now = deps.now();
  const customer = await deps.recipients.read(id, now);
  let removed = 0;
  if (customer === undefined || customer.customerId !== id) {
    // Unknown, or merged into another since it was named: its own tags go; the survivor is evaluated.
    if (await deps.store.remove(id)) removed++;
    if (customer === undefined) return { changed: false, removed };
  }
  const customerId = customer.customerId;
  for (const gone of followMerges ? await deps.absorbed(customerId) : []) {
    if (gone !== customerId && (await deps.store.remove(gone))) removed++;
  }
  const evaluated = evaluateTags(definitions, tagSubject(customer.view, customer.assignment, now));
  const evaluatedAt = new Date(now).toISOString();
  // Compare-and-set: an evaluation stored meanwhile is read again and this one applied on top of it (its
  // `since` kept), unless it is the later one.
  for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
    const previous = await deps.store.tagsOf(customerId);
    // A later evaluation (of later data) is stored: it stands.
    if (previous !== undefined && previous.evaluatedAt > evaluatedAt) return { changed: false, removed };
    const next = nextTags(customerId, previous, evaluated, evaluatedAt);
    // Nothing to write when nothing changed: the nightly pass over every customer writes only changes.
    if (sameTags(previous, next)) return { changed: false, removed };
    const outcome = await deps.store.replace(previous, next);
    if (outcome !== 'changed') return { changed: outcome === 'stored', removed };
  }
  throw new Error(`the tags of ${customerId} kept changing under ${WRITE_ATTEMPTS} attempts`);
}
