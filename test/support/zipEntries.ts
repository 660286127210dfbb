// The entries of a zip file (name, uncompressed size), from its central directory: enough to check what a
// Lambda package holds without unpacking it. No ZIP64 (a Lambda zip is well under 4 GB and 65,535 files).
import { readFile } from 'node:fs/promises';

export interface ZipEntry {
  readonly name: string;
  readonly size: number;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;

export async function zipEntries(path: string): Promise<ZipEntry[]> {
  const zip = await readFile(path);
  // The end record is the last 22 bytes, unless a comment (up to 65,535 bytes) follows it.
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) end--;
  if (end < 0) throw new Error(`${path}: not a zip file (no end of central directory)`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL_FILE_HEADER)
      throw new Error(`${path}: bad central directory entry ${i}`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    entries.push({
      name: zip.toString('utf8', at + 46, at + 46 + nameLength),
      size: zip.readUInt32LE(at + 24),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
