// The local S3 emulator keeps S3's promise: a 200 to PutObject means the whole object is stored and any
// read after it sees all of it, and an upload that breaks off stores nothing. s3rver alone broke both
// (it answered before its file was flushed, and left a cut upload's partial file as an object): a
// profiles consumer then read a truncated archive object, and the archive's recovery took a cut file for
// an archived one. local/s3Atomic.ts makes its writes atomic.
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { createS3 } from '../../lib/aws/clients.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const s3 = createS3(config);
const bucket = config.buckets.archive;
afterAll(() => s3.destroy());

describe('the S3 emulator', () => {
  it('answers 200 to a PUT only once a read sees the whole object (large bodies, many at once)', async () => {
    const bodies = Array.from({ length: 6 }, () => randomBytes(24 * 1024 * 1024));
    const keys = bodies.map(() => `test-s3/${randomUUID()}`);
    await Promise.all(
      bodies.map(async (body, i) => {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: keys[i], Body: body }));
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keys[i] }));
        const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
        expect(bytes.length).toBe(body.length);
        expect(bytes.equals(body)).toBe(true);
      }),
    );
  }, 120_000);

  it('stores nothing of an upload cut off half-way', async () => {
    const key = `test-s3/${randomUUID()}`;
    const url = new URL(`${config.endpoints.s3}/${bucket}/${key}`);
    await new Promise<void>((resolve) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'PUT',
          headers: { 'content-length': 1_000_000, 'content-type': 'application/octet-stream' },
        },
        () => resolve(),
      );
      req.on('error', () => resolve());
      req.write(randomBytes(400_000), () => {
        // The client dies mid-upload (a Lambda timed out): the connection drops.
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 200);
      });
    });
    // Give the emulator a moment to see the connection close.
    await new Promise((r) => setTimeout(r, 300));
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
    expect(listed.Contents ?? []).toEqual([]);
  });
});
