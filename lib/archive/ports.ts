// Storage ports of the archive consumer: dedup claims (DynamoDB) and archive objects (S3).

/**
 * A claim on an event: "writer `token` will archive this event in `objectKey`". The object key is part
 * of the claim so that whoever finds the claim abandoned can tell whether the event was in fact
 * archived (the object exists: S3 writes are all-or-nothing) or must be archived again. An event is
 * its source and messageId: as in Segment, a messageId is unique within a source, and two sources'
 * events with one messageId are two events.
 */
export interface DedupClaim {
  readonly sourceId: string;
  readonly messageId: string;
  readonly token: string;
  readonly objectKey: string;
  /** Epoch ms after which the claim may be taken over. */
  readonly leaseUntil: number;
  /** Epoch ms after which the messageId may be seen as new again (the dedup window). */
  readonly expiresAt: number;
}

export interface DedupRecord extends DedupClaim {
  readonly status: 'pending' | 'done';
}

export interface DedupStore {
  /** Creates the claim unless a live record exists; returns that record instead. */
  tryClaim(claim: DedupClaim, now: number): Promise<'claimed' | DedupRecord>;
  /** Replaces an abandoned claim, if it is still the one held by `previousToken`. */
  takeOver(claim: DedupClaim, previousToken: string): Promise<boolean>;
  /** Marks claims done (their events are archived). Unconditional: only the claim holder calls it. */
  markDone(records: readonly DedupClaim[]): Promise<void>;
  /** Gives claims back after a failed write, so a retry need not wait for the lease. */
  release(claims: readonly DedupClaim[]): Promise<void>;
}

export interface ArchiveStore {
  put(key: string, body: Uint8Array): Promise<void>;
  exists(key: string): Promise<boolean>;
}
