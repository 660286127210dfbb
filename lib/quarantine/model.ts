// A quarantined event: the raw payload as the client sent it (sealed: it may hold PII), the reasons it
// was held back and what is needed to replay it exactly as it was first received (source, receive time,
// batch sentAt).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { FieldIssue } from '../ingest/spec.js';

/** Larger payloads are kept as a preview only: they can be inspected but not replayed. */
export const MAX_STORED_PAYLOAD_BYTES = 64 * 1024;
const PREVIEW_BYTES = 2048;

const Iso = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'must be an ISO-8601 date-time' });

export const QuarantineStatus = z.enum(['open', 'replayed']);
export type QuarantineStatus = z.infer<typeof QuarantineStatus>;

export const QuarantineEntry = z
  .object({
    id: z.string(),
    sourceId: z.string(),
    status: QuarantineStatus,
    reasons: z.array(FieldIssue),
    /**
     * The event as JSON text, exactly as received (or a preview when it was too large to keep), sealed as
     * one PII token (`enc:v1:…`, lib/pii/protect.ts payloadSeal) since raw events hold PII in clear.
     * Entries quarantined before PII protection hold the clear text. Read APIs open it for admins only.
     */
    payload: z.string(),
    replayable: z.boolean(),
    messageId: z.string().optional(),
    type: z.string().optional(),
    event: z.string().optional(),
    receivedAt: Iso,
    sentAt: Iso.optional(),
    quarantinedAt: Iso,
    replayedAt: Iso.optional(),
    lastReplayAt: Iso.optional(),
    replayAttempts: z.number().int().nonnegative(),
  })
  .meta({ id: 'QuarantineEntry' });
export type QuarantineEntry = z.infer<typeof QuarantineEntry>;

export interface QuarantineInput {
  readonly raw: unknown;
  readonly issues: FieldIssue[];
  readonly messageId?: string | undefined;
  readonly sourceId: string;
  readonly receivedAt: number;
  readonly sentAt?: string | undefined;
}

/**
 * The id is a hash of the source and the clear payload, so a client re-sending the same bad event updates
 * one entry instead of filling the quarantine with copies. The payload is still clear here: the caller
 * seals it (sealedEntries) before storing it.
 */
export function quarantineEntryOf(input: QuarantineInput, now: number): QuarantineEntry {
  const json = JSON.stringify(input.raw) ?? 'null';
  const bytes = Buffer.byteLength(json);
  const replayable = bytes <= MAX_STORED_PAYLOAD_BYTES;
  const raw =
    input.raw !== null && typeof input.raw === 'object' ? (input.raw as Record<string, unknown>) : {};
  return {
    id: quarantineId(input.sourceId, json),
    sourceId: input.sourceId,
    status: 'open',
    reasons: input.issues,
    payload: replayable ? json : json.slice(0, PREVIEW_BYTES),
    replayable,
    messageId: input.messageId,
    type: typeof raw.type === 'string' ? raw.type.slice(0, 50) : undefined,
    event: typeof raw.event === 'string' ? raw.event.slice(0, 200) : undefined,
    receivedAt: new Date(input.receivedAt).toISOString(),
    sentAt: input.sentAt,
    quarantinedAt: new Date(now).toISOString(),
    replayAttempts: 0,
  };
}

/** Encrypts payloads for storage, and opens them again (lib/pii/protect.ts payloadSeal). */
export type SealPayload = (payload: string) => Promise<string>;
export type OpenPayload = (stored: string) => Promise<string>;

/** The entries with their payloads sealed; ids and everything else as computed from the clear payload. */
export function sealedEntries(
  entries: readonly QuarantineEntry[],
  seal: SealPayload,
): Promise<QuarantineEntry[]> {
  return Promise.all(entries.map(async (e) => ({ ...e, payload: await seal(e.payload) })));
}

export function quarantineId(sourceId: string, payloadJson: string): string {
  return `q_${createHash('sha256').update(sourceId).update('\n').update(payloadJson).digest('hex').slice(0, 32)}`;
}

export interface QuarantineQuery {
  /** Inclusive UTC days (YYYY-MM-DD), newest first. */
  readonly fromDay: string;
  readonly toDay: string;
  readonly status?: QuarantineStatus | undefined;
  readonly reason?: string | undefined;
  readonly sourceId?: string | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface QuarantinePage {
  readonly items: QuarantineEntry[];
  readonly nextCursor?: string | undefined;
}

/** The storage port of the quarantine; lib/adapters/dynamodb/quarantineTable.ts implements it. */
export interface QuarantineStore {
  /** Idempotent: an entry that already exists is left as it is. */
  put(entries: readonly QuarantineEntry[]): Promise<void>;
  get(id: string): Promise<QuarantineEntry | undefined>;
  list(query: QuarantineQuery): Promise<QuarantinePage>;
  markReplayed(id: string, at: string): Promise<void>;
  recordFailedReplay(id: string, reasons: FieldIssue[], at: string): Promise<void>;
}
