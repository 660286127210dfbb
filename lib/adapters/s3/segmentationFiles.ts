// A run's files in the archive bucket, under segmentation/<runId>/:
//   report.json                     the run report
//   members/<segment>.parquet       the segment's members, reasons as figures (lib/segmentation/members.ts):
//                                   the paginated API reads a page's row groups by range requests, the next
//                                   run's transitions read the customer ids of every segment
//   members/<segment>.csv           the same members for spreadsheets and marketing tools
// Runs written before the Parquet files have `assignments.ndjson.gz` and `members/<segment>.ndjson`
// instead; both are still read (LEGACY below), so the first run after an upgrade diffs against the run
// before it and the published run's pages keep working.
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AsyncBuffer } from 'hyparquet';
import { RunFilesBuilder } from '../../segmentation/exports.js';
import {
  bufferFile,
  membersMetadata,
  ownBytes,
  readCustomerIds,
  readMembers,
  renderAssignment,
} from '../../segmentation/members.js';
import { Assignment } from '../../segmentation/model.js';
import { DamagedObjectError, type MembersPage, type RunFiles } from '../../segmentation/ports.js';
import type { RunReport } from '../../segmentation/report.js';
import { SEGMENT_IDS, type SegmentId } from '../../segmentation/segments.js';

export const SEGMENTATION_PREFIX = 'segmentation/';
const SegmentOfRow = Assignment.pick({ customerId: true, segment: true });
const prefixOf = (runId: string) => `${SEGMENTATION_PREFIX}${runId}/`;
/** Bytes read per range request of a members page, doubled until the page is complete. */
const PAGE_READ_BYTES = 64 * 1024;

function isMissing(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound');
}

/** Decoding errors (gzip, JSON, schema) of an object that was read: damage, named by its key. */
function decoded<T>(key: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw new DamagedObjectError(key, error);
  }
}

/** A read that failed while a file was being decoded: an outage (retried), not damage. */
class ReadFailure extends Error {}

/** `decoded` for a decoder that reads as it goes (a Parquet file by ranges). */
async function decodedAsync<T>(key: string, decode: () => Promise<T>): Promise<T> {
  try {
    return await decode();
  } catch (error) {
    if (error instanceof ReadFailure) throw error.cause;
    throw new DamagedObjectError(key, error);
  }
}

const membersKey = (runId: string, segment: SegmentId, extension: 'parquet' | 'ndjson') =>
  `${prefixOf(runId)}members/${segment}.${extension}`;

export function segmentationFiles(client: S3Client, bucket: string): RunFiles {
  // Buffers, not strings: the SDK then knows every body's length (an empty string looks like a stream).
  const put = (key: string, body: string | Buffer, contentType: string) =>
    client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: typeof body === 'string' ? Buffer.from(body) : body,
        ContentType: contentType,
      }),
    );

  async function read(key: string, range?: string): Promise<Uint8Array | undefined> {
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (isMissing(error) || (error instanceof Error && error.name === 'InvalidRange')) return undefined;
      throw error;
    }
  }

  async function sizeOf(key: string): Promise<number | undefined> {
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return out.ContentLength;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  return {
    async putReport(runId, report) {
      const key = `${prefixOf(runId)}report.json`;
      await put(key, JSON.stringify(report, null, 2), 'application/json');
      return key;
    },

    async getReport(runId) {
      const key = `${prefixOf(runId)}report.json`;
      const body = await read(key);
      return body
        ? decoded(key, () => JSON.parse(Buffer.from(body).toString('utf8')) as RunReport)
        : undefined;
    },

    assignmentWriter(runId) {
      const builder = new RunFilesBuilder();
      return {
        add: (chunk) => builder.add(chunk),
        async finish() {
          const prefix = prefixOf(runId);
          // One file at a time: a million customers' files are hundreds of MB.
          for (const file of builder.files()) await put(`${prefix}${file.name}`, file.body, file.contentType);
          return prefix;
        },
      };
    },

    async segmentsOf(runId) {
      const segments = new Map<string, SegmentId>();
      let files = 0;
      for (const segment of SEGMENT_IDS) {
        const key = membersKey(runId, segment, 'parquet');
        const body = await read(key);
        if (!body) continue;
        files++;
        const ids = await decodedAsync(key, () => readCustomerIds(bufferFile(body)));
        for (const id of ids) segments.set(id, segment);
      }
      return files > 0 ? segments : legacySegmentsOf(runId);
    },

    async membersPage(runId, segment, cursor, limit): Promise<MembersPage> {
      const key = membersKey(runId, segment, 'parquet');
      const size = await sizeOf(key);
      if (size === undefined) return legacyMembersPage(runId, segment, cursor, limit);
      const file = rangedFile(key, size);
      const metadata = await decodedAsync(key, () => membersMetadata(file));
      const total = Number(metadata.num_rows);
      const start = cursor === undefined ? 0 : Number(cursor);
      const end = Math.min(total, start + limit);
      const records = await decodedAsync(key, () => readMembers(file, metadata, start, end));
      const members = records.map(renderAssignment);
      return end < total ? { members, next: String(end) } : { members };
    },
  };

  /** An object read by range requests, as hyparquet reads files (footer first, then a page's row groups). */
  function rangedFile(key: string, size: number): AsyncBuffer {
    return {
      byteLength: size,
      async slice(start, end = size) {
        const body = await read(key, `bytes=${start}-${end - 1}`).catch((error: unknown) => {
          throw new ReadFailure(`${key}: ${String(error)}`, { cause: error });
        });
        if (!body) throw new Error(`${key} is gone or shorter than its footer says`);
        return ownBytes(body);
      },
    };
  }

  // LEGACY: runs written before the members' Parquet files.

  async function legacySegmentsOf(runId: string): Promise<Map<string, SegmentId> | undefined> {
    const key = `${prefixOf(runId)}assignments.ndjson.gz`;
    const body = await read(key);
    if (!body) return undefined;
    return decoded(key, () => {
      // Line by line out of the Buffer: a million lines as one string would pass V8's string limit.
      const text = gunzipSync(body);
      const segments = new Map<string, SegmentId>();
      for (let start = 0; start < text.length; ) {
        const newline = text.indexOf(10, start);
        const end = newline === -1 ? text.length : newline;
        if (end > start) {
          const row = SegmentOfRow.parse(JSON.parse(text.toString('utf8', start, end)));
          segments.set(row.customerId, row.segment);
        }
        start = end + 1;
      }
      return segments;
    });
  }

  async function legacyMembersPage(
    runId: string,
    segment: SegmentId,
    cursor: string | undefined,
    limit: number,
  ): Promise<MembersPage> {
    const key = membersKey(runId, segment, 'ndjson');
    const start = cursor === undefined ? 0 : Number(cursor);
    // Ranges stay inside the object: S3 forgives a range past the end, not every emulator does.
    const size = await sizeOf(key);
    if (size === undefined || start >= size) return { members: [] };
    let bytes = PAGE_READ_BYTES;
    for (;;) {
      const end = Math.min(size, start + bytes) - 1;
      const body = await read(key, `bytes=${start}-${end}`);
      if (!body || body.length === 0) return { members: [] };
      const text = Buffer.from(body).toString('utf8');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      const lines = complete.split('\n').filter(Boolean);
      const atEnd = end === size - 1;
      if (lines.length >= limit || atEnd) {
        const page = lines.slice(0, limit);
        const members = page.map((line) => Assignment.parse(JSON.parse(line)));
        const consumed = page.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
        const more = lines.length > limit || !atEnd;
        return more ? { members, next: String(start + consumed) } : { members };
      }
      bytes *= 2;
    }
  }
}
