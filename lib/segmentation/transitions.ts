// Who moved between segments since a previous run, and why: a from × to matrix (with "(none)" for
// customers who were not in the previous run or are not in this one) and the changes to publish. Fed
// chunk by chunk, so a million customers never need their assignments in memory at once.
import type { AssignmentRecord, SegmentChange } from './model.js';
import { reasonText } from './naming.js';
import type { SegmentId } from './segments.js';

export const NONE = '(none)';

export interface Transitions {
  readonly previousRunId: string;
  /** from -> to -> customers. */
  readonly matrix: Record<string, Record<string, number>>;
  readonly moved: number;
  readonly stayed: number;
  /** "why": per move `from -> to`, the first EXAMPLES customers who made it, with their reasons now. */
  readonly examples: Record<string, { customerId: string; reasons: string[] }[]>;
}

const EXAMPLES = 5;

export class TransitionCounter {
  private readonly matrix: Record<string, Record<string, number>> = {};
  private readonly seen = new Set<string>();
  private readonly examples: Transitions['examples'] = {};
  private moved = 0;
  private stayed = 0;

  constructor(
    private readonly previousRunId: string,
    private readonly previous: ReadonlyMap<string, SegmentId>,
  ) {}

  /** Counts a chunk of this run's assignments; returns the changes among them (entries and moves). */
  add(chunk: readonly AssignmentRecord[]): SegmentChange[] {
    const changes: SegmentChange[] = [];
    for (const a of chunk) {
      this.seen.add(a.customerId);
      const before = this.previous.get(a.customerId);
      this.count(before ?? NONE, a.segment);
      if (before === a.segment) {
        this.stayed++;
        continue;
      }
      this.moved++;
      // Words for movers only: most customers stay, and their reasons are never rendered here.
      const reasons = a.reasons.map(reasonText);
      this.example(`${before ?? NONE} -> ${a.segment}`, a.customerId, reasons);
      changes.push({ customerId: a.customerId, from: before ?? null, to: a.segment, reasons });
    }
    return changes;
  }

  /** After the last chunk: the exits of customers of the previous run who are not in this one. */
  exits(): SegmentChange[] {
    const changes: SegmentChange[] = [];
    for (const [customerId, before] of this.previous) {
      if (this.seen.has(customerId)) continue;
      // Gone from the population (erased, or merged into another customer): an exit without an entry.
      this.moved++;
      this.count(before, NONE);
      const reasons = ['no longer a customer of its own'];
      this.example(`${before} -> ${NONE}`, customerId, reasons);
      changes.push({ customerId, from: before, to: null, reasons });
    }
    return changes;
  }

  transitions(): Transitions {
    return {
      previousRunId: this.previousRunId,
      matrix: this.matrix,
      moved: this.moved,
      stayed: this.stayed,
      examples: this.examples,
    };
  }

  private example(move: string, customerId: string, reasons: string[]): void {
    const list = this.examples[move] ?? [];
    if (list.length < EXAMPLES) list.push({ customerId, reasons });
    this.examples[move] = list;
  }

  private count(from: string, to: string): void {
    const row = this.matrix[from] ?? {};
    row[to] = (row[to] ?? 0) + 1;
    this.matrix[from] = row;
  }
}
