// Who moved between segments since the previous run, and why: a from × to matrix (with "(none)" for
// customers who were not in the previous run or are not in this one) and the changes to publish.
import type { Assignment, SegmentChange } from './model.js';
import type { SegmentId } from './segments.js';

export const NONE = '(none)';

export interface Transitions {
  readonly previousRunId: string;
  /** from -> to -> customers. */
  readonly matrix: Record<string, Record<string, number>>;
  readonly moved: number;
  readonly stayed: number;
}

export function transitionsBetween(
  previousRunId: string,
  previous: ReadonlyMap<string, SegmentId>,
  current: readonly Assignment[],
): { transitions: Transitions; changes: SegmentChange[] } {
  const matrix: Record<string, Record<string, number>> = {};
  const count = (from: string, to: string) => {
    const row = matrix[from] ?? {};
    row[to] = (row[to] ?? 0) + 1;
    matrix[from] = row;
  };
  const changes: SegmentChange[] = [];
  const seen = new Set<string>();
  let moved = 0;
  let stayed = 0;
  for (const a of current) {
    seen.add(a.customerId);
    const before = previous.get(a.customerId);
    count(before ?? NONE, a.segment);
    if (before === a.segment) {
      stayed++;
      continue;
    }
    moved++;
    changes.push({ customerId: a.customerId, from: before ?? null, to: a.segment, reasons: a.reasons });
  }
  for (const [customerId, before] of previous) {
    if (seen.has(customerId)) continue;
    // Gone from the population (erased, or merged into another customer): an exit without an entry.
    moved++;
    count(before, NONE);
    changes.push({ customerId, from: before, to: null, reasons: ['no longer a customer of its own'] });
  }
  return { transitions: { previousRunId, matrix, moved, stayed }, changes };
}
