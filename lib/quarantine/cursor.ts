// The quarantine listing's cursor, one format with one owner: written by the table adapter, checked by
// the API's request schema (so a forged cursor is a 400 naming `cursor`), read back by the adapter.
import { z } from 'zod';

/**
 * Where a listing stopped: the day, and the last entry returned of it (its id and sort key). Opaque to
 * clients (base64url JSON); decoded here so a forged one is a 400 at the edge, not a store failure.
 */
const QuarantineCursor = z.strictObject({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  id: z.string().max(100).optional(),
  sortKey: z.string().max(200).optional(),
});
export type QuarantineCursor = z.infer<typeof QuarantineCursor>;

export const encodeQuarantineCursor = (c: QuarantineCursor): string =>
  Buffer.from(JSON.stringify(c)).toString('base64url');

/** The cursor a string encodes, or undefined for one this API did not make. */
export function decodeQuarantineCursor(s: string): QuarantineCursor | undefined {
  try {
    const parsed = QuarantineCursor.safeParse(JSON.parse(Buffer.from(s, 'base64url').toString()));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
