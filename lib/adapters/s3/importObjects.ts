// Dropped import files read from S3 in ranges of a few MB: each range is read whole and at once, so the
// connection never idles while the import processes rows (a paused stream would hit the client's socket
// timeout on a 15-minute import), and memory stays at one range. If-Match pins every range to the version
// the first request saw: a file overwritten mid-import fails the read instead of mixing two versions.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ImportObject, ObjectSource } from '../../imports/drop.js';
import type { CreatedObject } from '../../queue/s3Notification.js';

const RANGE_BYTES = 8 * 1024 * 1024;

export function s3ImportObjects(client: S3Client, rangeBytes = RANGE_BYTES): ObjectSource {
  return {
    async open({ bucket, key }: CreatedObject): Promise<ImportObject | undefined> {
      let head: Awaited<ReturnType<typeof headObject>>;
      try {
        head = await headObject(client, bucket, key);
      } catch (error) {
        if (error instanceof Error && (error.name === 'NotFound' || error.name === 'NoSuchKey'))
          return undefined;
        throw error;
      }
      const size = head.ContentLength ?? 0;
      return {
        size,
        lastModified: head.LastModified?.getTime(),
        body: ranges(client, { bucket, key, size, etag: head.ETag, rangeBytes }),
      };
    },
    async remove({ bucket, key }: CreatedObject): Promise<void> {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}

const headObject = (client: S3Client, bucket: string, key: string) =>
  client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));

async function* ranges(
  client: S3Client,
  o: { bucket: string; key: string; size: number; etag: string | undefined; rangeBytes: number },
): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < o.size; start += o.rangeBytes) {
    const end = Math.min(o.size, start + o.rangeBytes) - 1;
    const out = await client.send(
      new GetObjectCommand({ Bucket: o.bucket, Key: o.key, Range: `bytes=${start}-${end}`, IfMatch: o.etag }),
    );
    if (!out.Body) throw new Error(`s3://${o.bucket}/${o.key} answered without a body`);
    yield await out.Body.transformToByteArray();
  }
}
