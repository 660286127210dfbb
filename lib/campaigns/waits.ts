// Durable waits: timers longer than SQS's 15 minutes, as rows of the waits table swept every minute
// (lib/adapters/dynamodb/waitsTable.ts; lib/adapters/memory/waitStore.ts has the same semantics). An
// abandoned-cart wait opens on a cart add and is cancelled by an order; a deferred send (quiet hours, a
// cap reached, a best send time) is a wait that nothing cancels. A cancelled wait never fires, and a wait
// that two sweeps find fires once: `fire` is a conditional pending → fired, and only its winner yields a
// candidate. docs/campaigns.md, "Triggers and timers".
import { z } from 'zod';
import { Instant } from './activity.js';
import type { Candidate, Command, TriggerContext } from './triggers.js';

const Key = z.string().min(1).max(512);

export const NewWait = z.object({
  /** `wait`: a trigger's wait, cancelled by its events; `deferred`: a decided send put off to `dueAt`. */
  kind: z.enum(['wait', 'deferred']),
  campaignId: z.string().min(1).max(64),
  customerId: z.string().min(1).max(1100),
  /** One pending wait per customer, campaign and key (a cart, the customer, a deferred occurrence). */
  waitKey: Key,
  /** The candidate's trigger key when the wait fires. */
  triggerKey: Key,
  triggeredAt: Instant,
  dueAt: Instant,
  /** Events that cancel it; none for a deferred send that nothing should stop. */
  cancelOn: z.array(z.string().min(1).max(200)),
  context: z.record(z.string(), z.unknown()),
});
/** Times are ISO-8601 UTC with milliseconds (NewWait.parse makes them so): they compare as strings. */
export type NewWait = z.infer<typeof NewWait>;

export const WaitStatus = z.enum(['pending', 'fired', 'cancelled']);
export type WaitStatus = z.infer<typeof WaitStatus>;

export const Wait = NewWait.extend({
  status: WaitStatus,
  openedAt: Instant,
  /** When it fired or was cancelled. */
  closedAt: Instant.optional(),
});
export type Wait = z.infer<typeof Wait>;

/** What names one wait: `fire` holds only if the row is still this opening (its trigger key). */
export type WaitRef = Pick<Wait, 'customerId' | 'campaignId' | 'waitKey' | 'triggerKey'>;

export interface CancelRequest {
  customerId: string;
  /** Only waits whose `cancelOn` lists this event. */
  event: string;
  campaignIds: readonly string[];
  /** Only waits triggered at or before this time (ISO): the cancelling event's time. */
  before: string;
}

/** Rows and the time they close are kept this long (then TTL removes them): a month of explanations. */
export const CLOSED_RETENTION_DAYS = 30;

export interface WaitStore {
  /** Opens a wait unless one is pending for the same customer, campaign and wait key. */
  open(wait: NewWait, now: number): Promise<'opened' | 'already_open'>;
  /** Cancels the customer's matching pending waits; returns how many it cancelled. */
  cancel(request: CancelRequest, now: number): Promise<number>;
  /**
   * Pending waits due at `now` (dueAt ≤ now), earliest first, at most `limit`: reads only due pending
   * rows, and catches up on any due time a stopped sweep missed.
   */
  due(now: number, limit: number): Promise<Wait[]>;
  /** pending → fired; false if it was cancelled, fired already, or replaced by a newer opening. */
  fire(wait: WaitRef, now: number): Promise<boolean>;
}

/** A send the decision put off to `dueAt`: one per occurrence, fired by the same sweep. */
export function deferredSend(candidate: Candidate, dueAt: number, cancelOn: readonly string[] = []): NewWait {
  return {
    kind: 'deferred',
    campaignId: candidate.campaignId,
    customerId: candidate.customerId,
    waitKey: `deferred:${candidate.triggerKey}`,
    triggerKey: candidate.triggerKey,
    triggeredAt: candidate.triggeredAt,
    dueAt: new Date(dueAt).toISOString(),
    cancelOn: [...cancelOn],
    context: candidate.context,
  };
}

export interface Applied {
  /** Triggers without a wait: for the send decision now. */
  candidates: Candidate[];
  opened: number;
  /** Opens refused because a wait of the same key was pending (a second add to an open cart). */
  alreadyOpen: number;
  cancelled: number;
}

/**
 * Applies the trigger engine's commands for one activity, in order (cancels before opens: an event that
 * cancels and re-opens a campaign's wait starts a new one). Idempotent: a redelivered activity finds
 * its wait pending, and its cancels find nothing left to cancel.
 */
export async function applyCommands(
  commands: readonly Command[],
  waits: WaitStore,
  now: number,
): Promise<Applied> {
  const applied: Applied = { candidates: [], opened: 0, alreadyOpen: 0, cancelled: 0 };
  for (const c of commands) {
    if (c.command === 'candidate') applied.candidates.push(c.candidate);
    else if (c.command === 'cancel_waits') applied.cancelled += await waits.cancel(c, now);
    else if ((await waits.open(c.wait, now)) === 'opened') applied.opened++;
    else applied.alreadyOpen++;
  }
  return applied;
}

export interface Fired {
  kind: Wait['kind'];
  candidate: Candidate;
  /** When it was due (a sweep that ran late fires it after). */
  dueAt: string;
}

export interface SweepDeps {
  waits: WaitStore;
  /**
   * Whether a cancelling event reached the customer after the wait opened but out of order (the order
   * was processed before the cart add it follows, so its cancel found no wait). The wiring answers it
   * from the profile's timeline (cancelledByTimeline); without it, no re-check.
   */
  cancelledLate?: (wait: Wait) => Promise<boolean>;
  /** Rows per sweep call (the schedule calls again while `more`). */
  limit?: number;
  /** Fires in flight at once. */
  concurrency?: number;
}

export interface SweepResult {
  /** The waits this sweep fired, as candidates. */
  fired: Fired[];
  /** Due rows read. */
  due: number;
  /** Due rows another sweep fired or a cancel closed first. */
  lost: number;
  /** Fired, but a cancelling event had happened after it opened. */
  cancelledLate: number;
  /** The limit was reached: more rows may be due. */
  more: boolean;
}

/** Fires every due wait it wins and returns them as candidates (`now` is the schedule's time). */
export async function sweepDueWaits(now: number, deps: SweepDeps): Promise<SweepResult> {
  const limit = deps.limit ?? 500;
  const rows = await deps.waits.due(now, limit);
  const result: SweepResult = {
    fired: [],
    due: rows.length,
    lost: 0,
    cancelledLate: 0,
    more: rows.length >= limit,
  };
  let next = 0;
  const worker = async () => {
    for (let row = rows[next++]; row !== undefined; row = rows[next++]) {
      if (!(await deps.waits.fire(row, now))) result.lost++;
      else if (deps.cancelledLate !== undefined && (await deps.cancelledLate(row))) result.cancelledLate++;
      else result.fired.push({ kind: row.kind, candidate: candidateOf(row), dueAt: row.dueAt });
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency ?? 16, rows.length) }, worker));
  result.fired.sort((a, b) => (a.candidate.triggeredAt < b.candidate.triggeredAt ? -1 : 1));
  return result;
}

function candidateOf(wait: Wait): Candidate {
  return {
    campaignId: wait.campaignId,
    customerId: wait.customerId,
    triggerKey: wait.triggerKey,
    triggeredAt: wait.triggeredAt,
    context: wait.context as TriggerContext,
  };
}

/**
 * Whether the customer's recent events (the profile's timeline) hold one of the wait's cancelling events
 * at or after its trigger: the re-check of `cancelledLate`.
 */
export function cancelledByTimeline(
  wait: Pick<Wait, 'cancelOn' | 'triggeredAt'>,
  events: readonly { event?: string; timestamp: string }[],
): boolean {
  const since = Date.parse(wait.triggeredAt);
  return events.some(
    (e) => e.event !== undefined && wait.cancelOn.includes(e.event) && Date.parse(e.timestamp) >= since,
  );
}
