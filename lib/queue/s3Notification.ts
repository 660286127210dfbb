// S3 event notifications as SQS message bodies: which objects were created. S3 URL-encodes keys (spaces
// as '+'), and sends one s3:TestEvent when a notification is configured.
import { z } from 'zod';
import { UnreadableRecord } from './eachRecord.js';

const Notification = z.object({
  Records: z.array(
    z
      .object({
        eventName: z.string(),
        s3: z
          .object({
            bucket: z.object({ name: z.string() }).loose(),
            object: z.object({ key: z.string() }).loose(),
          })
          .loose(),
      })
      .loose(),
  ),
});

export interface CreatedObject {
  readonly bucket: string;
  readonly key: string;
}

export type ParsedNotification =
  | { readonly ok: true; readonly objects: CreatedObject[] }
  | { readonly ok: false; readonly reason: string };

export function parseS3Notification(body: string): ParsedNotification {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'message body is not JSON' };
  }
  if ((json as { Event?: unknown } | null)?.Event === 's3:TestEvent') return { ok: true, objects: [] };
  const parsed = Notification.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'not an S3 event notification' };
  return {
    ok: true,
    objects: parsed.data.Records.filter((r) => r.eventName.startsWith('ObjectCreated:')).map((r) => ({
      bucket: r.s3.bucket.name,
      key: decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')),
    })),
  };
}

/** The objects a notification announces, for a record handler: one that is not a notification throws. */
export function createdObjects(body: string): CreatedObject[] {
  const parsed = parseS3Notification(body);
  if (!parsed.ok) throw new UnreadableRecord(parsed.reason);
  return parsed.objects;
}
