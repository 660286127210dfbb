// A run's files in the archive bucket, under segmentation/<runId>/:
//   report.json                     the run report
//   assignments.ndjson.gz           every customer's assignment (transitions of the next run read it)
//   members/<segment>.ndjson        members for the paginated API (uncompressed: pages are byte ranges)
//   members/<segment>.csv           the same members for spreadsheets and marketing tools
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RunFilesBuilder } from '../../segmentation/exports.js';
import { Assignment } from '../../segmentation/model.js';
import { DamagedObjectError, type MembersPage, type RunFiles } from '../../segmentation/ports.js';
import type { RunReport } from '../../segmentation/report.js';
import type { SegmentId } from '../../segmentation/segments.js';

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
    },

    async membersPage(runId, segment, cursor, limit): Promise<MembersPage> {
      const key = `${prefixOf(runId)}members/${segment}.ndjson`;
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
    },
  };
}
