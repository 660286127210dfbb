// S3 -> SQS event notifications on the emulators, as serverless.yml declares them on its buckets
// (NotificationConfiguration.QueueConfigurations). s3rver emits an S3 event for each write; this sends
// it to the configured queue the way S3 does: the whole event as the message body, keys URL-encoded.
import type { EventEmitter } from 'node:events';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { getAttTarget, resourcesOfType, type ServiceDefinition } from './service.js';

export interface NotificationRoute {
  readonly bucket: string;
  readonly queueName: string;
  /** e.g. `s3:ObjectCreated:*` */
  readonly event: string;
  readonly prefix?: string;
  readonly suffix?: string;
}

const QueueConfiguration = z.object({
  Event: z.string(),
  Queue: z.unknown(),
  Filter: z
    .object({ S3Key: z.object({ Rules: z.array(z.object({ Name: z.string(), Value: z.string() })) }) })
    .optional(),
});

export function notificationRoutes(def: ServiceDefinition): NotificationRoute[] {
  const routes: NotificationRoute[] = [];
  for (const [id, bucket] of resourcesOfType(def, 'AWS::S3::Bucket')) {
    const configs = (
      bucket.Properties.NotificationConfiguration as { QueueConfigurations?: unknown[] } | undefined
    )?.QueueConfigurations;
    for (const raw of configs ?? []) {
      const config = QueueConfiguration.parse(raw);
      const queueId = getAttTarget(config.Queue);
      const queueName = queueId ? def.resources.Resources[queueId]?.Properties.QueueName : undefined;
      if (typeof queueName !== 'string')
        throw new Error(`bucket ${id}: a notification must target !GetAtt <Queue>.Arn`);
      const rule = (name: string) =>
        config.Filter?.S3Key.Rules.find((r) => r.Name.toLowerCase() === name)?.Value;
      routes.push({
        bucket: String(bucket.Properties.BucketName),
        queueName,
        event: config.Event,
        prefix: rule('prefix'),
        suffix: rule('suffix'),
      });
    }
  }
  return routes;
}

const S3Event = z.object({
  Records: z.array(
    z
      .object({
        eventName: z.string(),
        s3: z
          .object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string() }).loose() })
          .loose(),
      })
      .loose(),
  ),
});

/** `s3:ObjectCreated:*` matches `ObjectCreated:Put`; an exact name matches itself. */
const eventMatches = (pattern: string, eventName: string) => {
  const p = pattern.replace(/^s3:/, '');
  return p.endsWith(':*') ? eventName.startsWith(p.slice(0, -1)) : p === eventName;
};

const routeMatches = (route: NotificationRoute, bucket: string, eventName: string, key: string) =>
  route.bucket === bucket &&
  eventMatches(route.event, eventName) &&
  (!route.prefix || key.startsWith(route.prefix)) &&
  (!route.suffix || key.endsWith(route.suffix));

/** As S3 writes keys into notifications: URL-encoded, spaces as '+'. */
const encodeKey = (key: string) =>
  key
    .split('/')
    .map((part) => encodeURIComponent(part).replace(/%20/g, '+'))
    .join('/');

export function forwardS3Notifications(
  s3Events: EventEmitter,
  routes: readonly NotificationRoute[],
  sqs: SQSClient,
  queueUrls: Readonly<Record<string, string>>,
  onError: (error: unknown) => void,
): () => void {
  const listener = (raw: unknown) => {
    const parsed = S3Event.safeParse(raw);
    if (!parsed.success) return;
    for (const record of parsed.data.Records) {
      const key = record.s3.object.key;
      for (const route of routes) {
        if (!routeMatches(route, record.s3.bucket.name, record.eventName, key)) continue;
        const url = queueUrls[route.queueName];
        if (!url) continue;
        const body = {
          Records: [
            { ...record, s3: { ...record.s3, object: { ...record.s3.object, key: encodeKey(key) } } },
          ],
        };
        sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(body) })).catch(onError);
      }
    }
  };
  s3Events.on('event', listener);
  return () => s3Events.off('event', listener);
}
