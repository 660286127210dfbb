// The import use case, shared by the upload endpoint, the S3 drop consumer and the CLI's server side: a
// CSV or NDJSON stream becomes Segment events (lib/imports/mapping.ts) that go through the live ingest
// pipeline in batches — validation, normalization, quality rules, PII protection, quarantine, queue —
// and a report of what happened to every row.
//
// Memory: customers stream (one batch of events at a time). Orders must be grouped over the whole file
// (an order's lines may be anywhere), so the orders — not the rows — are held until the file ends:
// ~500 bytes per line (1M lines: 460 MB of heap, measured), which keeps files up to ~100 MB / 1M lines
// well inside the 2 GB importFile function. Larger files: split them by order.
//
// A file that cannot be read to its end (malformed CSV, broken gzip) gives a `failed` report: customers
// read before the fault are imported (a fixed file re-imports them as duplicates), orders are not (an
// order cut short would count with the wrong lines, and its messageId would keep the fix out).
import { randomUUID } from 'node:crypto';
import { type IngestDeps, ingest } from '../ingest/ingest.js';
import type { IngestResponse, SpecEventInput } from '../ingest/spec.js';
import { identifierHash } from '../pii/hmac.js';
import { customerEvent, type EventOrigin, type MappingOptions, OrderCollector } from './mapping.js';
import {
  EVENTS_PER_BATCH,
  type ImportError,
  type ImportFormat,
  type ImportReport,
  type ImportType,
  MAX_REPORTED_ERRORS,
} from './model.js';
import { type ImportBody, ImportReadError, type ReadRow, readRows } from './read.js';

export interface ImportDeps {
  readonly ingest: IngestDeps;
  /** The identifier HMAC secret (lib/pii/hmac.ts): e-mail-only rows get a keyed anonymousId. */
  readonly secret: () => Promise<string>;
  readonly now: () => number;
  readonly newId?: () => string;
  /** Events per ingest call (default 500). */
  readonly batchSize?: number;
  /** Ingest calls in flight (default 4). */
  readonly concurrency?: number;
}

export interface ImportInput {
  readonly type: ImportType;
  /** The source the events are attributed to (the write key's, or the S3 path's). */
  readonly sourceId: string;
  readonly format: ImportFormat;
  readonly gzip?: boolean;
  readonly body: ImportBody;
  /** When the file was exported (epoch ms; default: now): the time of customer rows without a date. */
  readonly asOf?: number;
  readonly file?: string;
}

export async function importFile(input: ImportInput, deps: ImportDeps): Promise<ImportReport> {
  const startedAt = deps.now();
  const importId = `imp_${(deps.newId ?? randomUUID)()}`;
  const secret = await deps.secret();
  const options: MappingOptions = {
    sourceId: input.sourceId,
    asOf: input.asOf ?? startedAt,
    junk: deps.ingest.quality.junkIds,
    emailKey: (email) => identifierHash(secret, 'import-email', email),
  };
  const tally = new Tally();
  const sender = new BatchSender(input.sourceId, deps, tally);
  const rows = readRows(input.body, input.format, input.gzip ?? false);
  let failure: string | undefined;
  try {
    if (input.type === 'customers') await importCustomers(rows, options, tally, sender);
    else await importOrders(rows, options, tally, sender);
  } catch (error) {
    if (!(error instanceof ImportReadError)) {
      await sender.settle();
      throw error;
    }
    failure = error.message;
  }
  await sender.flush();
  const report: ImportReport = {
    importId,
    type: input.type,
    source: input.sourceId,
    format: input.format,
    ...(input.file === undefined ? {} : { file: input.file }),
    status: failure === undefined ? 'completed' : 'failed',
    ...(failure === undefined ? {} : { failure }),
    rows: tally.rows,
    skipped: tally.skipped,
    events: tally.events,
    accepted: tally.accepted,
    rejected: tally.rejected,
    errorCount: tally.errorCount,
    errors: tally.firstErrors(),
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(deps.now()).toISOString(),
  };
  const { errors: _, ...summary } = report;
  deps.ingest.log.info('import done', summary);
  return report;
}

async function importCustomers(
  rows: AsyncIterable<ReadRow>,
  options: MappingOptions,
  tally: Tally,
  sender: BatchSender,
): Promise<void> {
  for await (const read of rows) {
    tally.rows++;
    if ('error' in read) {
      tally.skip([read.error]);
      continue;
    }
    const mapped = customerEvent(read.values, read.row, options);
    if (mapped.ok) await sender.add(mapped.value, { row: read.row });
    else tally.skip(mapped.errors);
  }
}

async function importOrders(
  rows: AsyncIterable<ReadRow>,
  options: MappingOptions,
  tally: Tally,
  sender: BatchSender,
): Promise<void> {
  const orders = new OrderCollector(options);
  for await (const read of rows) {
    tally.rows++;
    const errors = 'error' in read ? [read.error] : orders.add(read.values, read.row);
    if (errors.length > 0) tally.skip(errors);
  }
  tally.skipped += orders.conflictingRows();
  for (const error of orders.conflicts()) tally.error(error);
  for (const { event, origin } of orders.events()) await sender.add(event, origin);
}

/** The counts of a report, and its first errors by row. */
class Tally {
  rows = 0;
  skipped = 0;
  events = 0;
  accepted = 0;
  rejected = 0;
  errorCount = 0;
  private errors: ImportError[] = [];

  /** A row that could not become an event. */
  skip(errors: readonly ImportError[]): void {
    this.skipped++;
    for (const e of errors) this.error(e);
  }

  error(e: ImportError): void {
    this.errorCount++;
    this.errors.push(e);
    // Errors arrive out of row order (the pipeline answers per batch): keep the first by row.
    if (this.errors.length >= 2 * MAX_REPORTED_ERRORS) this.errors = this.firstErrors();
  }

  firstErrors(): ImportError[] {
    return [...this.errors].sort((a, b) => a.row - b.row).slice(0, MAX_REPORTED_ERRORS);
  }
}

/**
 * Sends events through the ingest pipeline in batches, a few batches in flight: `add` waits when the
 * window is full, which paces the reading. The first failed batch fails the import (storage down: the
 * caller retries the whole file, and dedup absorbs what got through).
 */
class BatchSender {
  private events: SpecEventInput[] = [];
  private origins: EventOrigin[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  private readonly batchSize: number;
  private readonly concurrency: number;

  constructor(
    private readonly sourceId: string,
    private readonly deps: ImportDeps,
    private readonly tally: Tally,
  ) {
    this.batchSize = deps.batchSize ?? EVENTS_PER_BATCH;
    this.concurrency = deps.concurrency ?? 4;
  }

  async add(event: SpecEventInput, origin: EventOrigin): Promise<void> {
    this.events.push(event);
    this.origins.push(origin);
    this.tally.events++;
    if (this.events.length >= this.batchSize) await this.send();
  }

  /** Sends what is pending and waits for every batch. */
  async flush(): Promise<void> {
    if (this.events.length > 0) await this.send();
    await this.settle();
    this.check();
  }

  /** Waits for the batches in flight, whatever their outcome. */
  async settle(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  private async send(): Promise<void> {
    this.check();
    const events = this.events;
    const origins = this.origins;
    this.events = [];
    this.origins = [];
    const sent: Promise<void> = this.ingestBatch(events, origins)
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
    if (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    this.check();
  }

  private check(): void {
    if (this.failure) throw this.failure.error;
  }

  private async ingestBatch(events: SpecEventInput[], origins: EventOrigin[]): Promise<void> {
    // No batch sentAt: historical timestamps are not clock-corrected.
    const body = { batch: events };
    const request = {
      route: 'batch' as const,
      body,
      bodyBytes: Buffer.byteLength(JSON.stringify(body)),
      sourceId: this.sourceId,
    };
    const outcome = await ingest(request, this.deps.ingest);
    // A batch built here is always a batch: an invalid request is a bug, not a row's fault.
    if (!outcome.ok && outcome.reason === 'invalid') {
      throw new Error(`import batch refused by ingest: ${outcome.message}`);
    }
    const response: IngestResponse = outcome.ok ? outcome.value : outcome.response;
    this.tally.accepted += response.accepted;
    this.tally.rejected += response.rejected.length;
    for (const rejection of response.rejected) {
      const origin = origins[rejection.index] ?? { row: 0 };
      for (const issue of rejection.errors) {
        this.tally.error({
          row: rowOf(origin, issue.path),
          field: issue.path,
          code: issue.code,
          reason: issue.message,
          quarantineId: rejection.quarantineId,
        });
      }
    }
  }
}

/** The row an issue of an event points at: the line of `properties.products[i]`, else the event's row. */
function rowOf(origin: EventOrigin, path: string): number {
  const product = /^properties\.products\[(\d+)\]/.exec(path);
  return (product && origin.lineRows?.[Number(product[1])]) || origin.row;
}
