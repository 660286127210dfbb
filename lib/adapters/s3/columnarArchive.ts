// The columnar archive in the archive bucket (facts/dt=<day>/part-0.parquet and manifest.json beside it).
// A day is written by the DuckDB engine into its local folder, then uploaded; readers that query with
// DuckDB mirror the bucket's Parquet files into their folder first (DuckDB has no S3 access here), and
// fetch only what changed (by ETag), so a warm runner downloads one or two days a night.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { FACTS_PREFIX, factsDayKey } from '../../history/columns.js';
import { type ColumnarArchive, DayManifest, FACTS_FORMAT } from '../../history/compact.js';
import type { FactRow } from '../../history/facts.js';
import { jsonOrUndefined } from '../../json.js';
import type { Logger } from '../../log.js';
import { factFiles, SNAPSHOT_MANIFEST, StoredSnapshot } from '../duckdb/historyEngine.js';

export interface DayWriter {
  writeDay(
    day: string,
    rows: AsyncIterable<FactRow>,
  ): Promise<{ readonly path: string; readonly rows: number }>;
}

const manifestKey = (day: string): string => `${FACTS_PREFIX}dt=${day}/manifest.json`;

export function s3ColumnarArchive(
  client: S3Client,
  bucket: string,
  writer: DayWriter,
  log: Pick<Logger, 'warn'>,
  now: () => number = Date.now,
): ColumnarArchive {
  return {
    async manifest(day) {
      let text: string;
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey(day) }));
        text = (await out.Body?.transformToString()) ?? '';
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined;
        throw error;
      }
      // A manifest that does not read is as good as none: the day is compacted again, which repairs it.
      const parsed = DayManifest.safeParse(jsonOrUndefined(text));
      if (!parsed.success) log.warn('columnar manifest unreadable: day compacted again', { day });
      return parsed.success ? parsed.data : undefined;
    },

    async putDay(day, objects, rows) {
      const written = await writer.writeDay(day, rows);
      const size = (await stat(written.path)).size;
      const put = await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: factsDayKey(day),
          Body: createReadStream(written.path),
          ContentLength: size,
          ContentType: 'application/vnd.apache.parquet',
        }),
      );
      // The local file is the object now: recorded as the mirror records what it fetched, so a mirror over
      // the writer's folder (the DuckDB reader's) keeps it instead of downloading it again.
      if (put.ETag) await writeFile(`${written.path}.etag`, put.ETag);
      const manifest: DayManifest = {
        day,
        objects: [...objects],
        rows: written.rows,
        format: FACTS_FORMAT,
        compactedAt: new Date(now()).toISOString(),
      };
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: manifestKey(day),
          Body: JSON.stringify(manifest),
          ContentType: 'application/json',
        }),
      );
      return manifest;
    },
  };
}

interface Listed {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
}

/** The bucket's objects under `prefix`, page by page. */
async function* objectsUnder(client: S3Client, bucket: string, prefix: string): AsyncGenerator<Listed> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? [])
      if (object.Key) yield { key: object.Key, etag: object.ETag ?? '', size: object.Size ?? 0 };
    token = page.NextContinuationToken;
  } while (token);
}

/** The bucket's Parquet files of the columnar archive. */
export async function* factObjects(client: S3Client, bucket: string): AsyncGenerator<Listed> {
  for await (const object of objectsUnder(client, bucket, FACTS_PREFIX))
    if (object.key.endsWith('.parquet')) yield object;
}

/**
 * Streams an object to `local` through a staging file, then renames it: a reader never sees half a
 * file (and what is recorded after it, an ETag or a manifest, is only written once it is whole).
 */
async function download(client: S3Client, bucket: string, key: string, local: string): Promise<void> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!(out.Body instanceof Readable)) throw new Error(`object ${key} has no body`);
  await mkdir(dirname(local), { recursive: true });
  await pipeline(out.Body, createWriteStream(`${local}.part`));
  await rename(`${local}.part`, local);
}

/**
 * Brings `root/facts/` up to the bucket's Parquet files: downloads each one whose ETag differs from the
 * one recorded beside the local copy (`<file>.etag`). Returns how many were fetched and kept.
 */
export async function mirrorFacts(
  client: S3Client,
  bucket: string,
  root: string,
): Promise<{ readonly fetched: number; readonly kept: number; readonly bytes: number }> {
  const listed = new Set<string>();
  let fetched = 0;
  let kept = 0;
  let bytes = 0;
  for await (const object of factObjects(client, bucket)) {
    const local = join(root, object.key);
    listed.add(local);
    if ((await readFile(`${local}.etag`, 'utf8').catch(() => undefined)) === object.etag) {
      kept++;
      continue;
    }
    await download(client, bucket, object.key, local);
    await writeFile(`${local}.etag`, object.etag);
    fetched++;
    bytes += object.size;
  }
  // A day gone from the bucket (rewritten away by an erasure) must not stay in the local copy.
  for (const local of await factFiles(root)) {
    if (!listed.has(local)) await rm(local, { force: true });
  }
  return { fetched, kept, bytes };
}

/** Where the DuckDB reader's node-state snapshot is kept in the bucket (same layout as its folder). */
export const SNAPSHOT_PREFIX = 'history/snapshot/';

/**
 * Copies the snapshot the engine just stored under `root` to the bucket: its files, then its manifest
 * (a reader that finds the manifest finds the files), then removes the earlier snapshots' files.
 */
export async function uploadSnapshot(client: S3Client, bucket: string, root: string): Promise<void> {
  const stored = StoredSnapshot.parse(JSON.parse(await readFile(join(root, SNAPSHOT_MANIFEST), 'utf8')));
  for (const file of stored.files) {
    const path = join(root, file);
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${SNAPSHOT_PREFIX}${file}`,
        Body: createReadStream(path),
        ContentLength: (await stat(path)).size,
        ContentType: 'application/vnd.apache.parquet',
      }),
    );
  }
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `${SNAPSHOT_PREFIX}${SNAPSHOT_MANIFEST}`,
      Body: JSON.stringify(stored),
      ContentType: 'application/json',
    }),
  );
  const keep = new Set([
    ...stored.files.map((f) => `${SNAPSHOT_PREFIX}${f}`),
    `${SNAPSHOT_PREFIX}${SNAPSHOT_MANIFEST}`,
  ]);
  for await (const { key } of objectsUnder(client, bucket, SNAPSHOT_PREFIX))
    if (!keep.has(key)) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/**
 * Brings the bucket's snapshot into `root` (a cold runner: the last night's snapshot instead of a
 * rebuild from the whole archive): its files, then its manifest. False when the bucket has none.
 */
export async function downloadSnapshot(client: S3Client, bucket: string, root: string): Promise<boolean> {
  let text: string;
  try {
    const out = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: `${SNAPSHOT_PREFIX}${SNAPSHOT_MANIFEST}` }),
    );
    text = (await out.Body?.transformToString()) ?? '';
  } catch (error) {
    if (error instanceof NoSuchKey) return false;
    throw error;
  }
  // Unreadable, or naming a file another runner's upload has just replaced (two runs at once): no
  // snapshot, which the run rebuilds and stores again.
  const stored = StoredSnapshot.safeParse(jsonOrUndefined(text));
  if (!stored.success) return false;
  try {
    for (const file of stored.data.files)
      await download(client, bucket, `${SNAPSHOT_PREFIX}${file}`, join(root, file));
  } catch (error) {
    if (error instanceof NoSuchKey) return false;
    throw error;
  }
  await writeFile(join(root, SNAPSHOT_MANIFEST), text);
  return true;
}
