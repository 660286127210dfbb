// The raw archive bucket. Objects are immutable once written (a later erasure rewrites them whole).
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ArchiveStore } from '../../archive/ports.js';
import { ARCHIVE_PREFIX, type ArchiveRecord, decodeArchiveObject } from '../../archive/record.js';

export function archiveBucket(client: S3Client, bucket: string): ArchiveStore {
  return {
    async put(key, body) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/gzip' }),
      );
    },
    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (error) {
        if (error instanceof Error && (error.name === 'NotFound' || error.name === 'NoSuchKey')) return false;
        throw error;
      }
    },
  };
}

const DAY_FOLDER = /^raw\/dt=(\d{4}-\d{2}-\d{2})\/$/;

/** Reading the archive back: for tests, benchmarks and operators (and, later, erasure). */
export function archiveReader(client: S3Client, bucket: string) {
  async function* keys(prefix = ARCHIVE_PREFIX): AsyncGenerator<string> {
    let token: string | undefined;
    do {
      const out = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of out.Contents ?? []) if (o.Key) yield o.Key;
      token = out.NextContinuationToken;
    } while (token);
  }
  async function records(key: string): Promise<ArchiveRecord[]> {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!out.Body) throw new Error(`archive object ${key} has no body`);
    return decodeArchiveObject(await out.Body.transformToByteArray());
  }
  async function* allRecords(prefix = ARCHIVE_PREFIX): AsyncGenerator<ArchiveRecord & { key: string }> {
    for await (const key of keys(prefix)) for (const r of await records(key)) yield { ...r, key };
  }
  /** The received days with objects (`raw/dt=<day>/` folders), ascending. */
  async function* days(): AsyncGenerator<string> {
    let token: string | undefined;
    do {
      const out = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: `${ARCHIVE_PREFIX}dt=`,
          Delimiter: '/',
          ContinuationToken: token,
        }),
      );
      for (const p of out.CommonPrefixes ?? []) {
        const day = DAY_FOLDER.exec(p.Prefix ?? '')?.[1];
        if (day !== undefined) yield day;
      }
      token = out.NextContinuationToken;
    } while (token);
  }
  return { keys, records, allRecords, days };
}
