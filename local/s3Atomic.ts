// s3rver's file store writes an object straight into its final file and answers as soon as the bytes are
// handed to the write stream, not when they are on disk; an upload cut off half-way leaves its partial
// file in place as the object. S3 is all-or-nothing, and the archive counts on it (a claim's object that
// exists holds the claim's events: lib/archive/archiveBatch.ts). This replaces the store's putObject with
// an atomic one: the body goes to a temporary file (which listings skip: it lacks the object suffix), the
// 200 waits until it is flushed and closed, and a rename puts it in place after its metadata; a broken
// upload removes the temporary file and stores nothing. test/integration/s3Emulator.test.ts holds it to it.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

interface S3rverObject {
  bucket: string;
  key: string;
  metadata: Record<string, string>;
  content: Buffer | NodeJS.ReadableStream;
}
interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
}

let patched = false;

/** Makes s3rver's PutObject atomic (idempotent; call before the emulator serves). */
export function makeS3rverWritesAtomic(): void {
  if (patched) return;
  // s3rver is CommonJS and exports its store class from this file only.
  const Store = createRequire(import.meta.url)('s3rver/lib/stores/filesystem.js') as {
    prototype: FilesystemStore;
  };
  Store.prototype.putObject = async function putObject(this: FilesystemStore, object) {
    const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const temporary = `${objectPath}.${randomUUID()}.partial`;
    const md5 = createHash('md5');
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    try {
      // Resolves once the file is written and closed; rejects if the request breaks off.
      await pipeline(source, counted, createWriteStream(temporary));
      const digest = md5.digest('hex');
      await this.putMetadata(object.bucket, object.key, object.metadata, digest);
      await rename(temporary, objectPath);
      return { size, md5: digest };
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  };
  patched = true;
}
