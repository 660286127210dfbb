// Sends spec events through the real, unmodified Segment Node SDK, as a customer's app would.
import { Analytics, type TrackParams } from '@segment/analytics-node';
import { SpecEvent, type SpecEventInput } from '../lib/ingest/spec.js';

export interface SegmentTarget {
  readonly httpUrl: string;
  readonly writeKey: string;
}

export function segmentClient(target: SegmentTarget, flushAt = 100): Analytics {
  return new Analytics({ writeKey: target.writeKey, host: target.httpUrl, flushAt, flushInterval: 500 });
}

/** Dispatches an event to the SDK call of its type; `done` gets the SDK's delivery error, if any. */
export function sendWithSdk(
  analytics: Analytics,
  input: SpecEventInput,
  done: (error?: unknown) => void,
): void {
  const e = SpecEvent.parse(input);
  const cb = (error?: unknown) => done(error);
  const ids =
    e.userId !== undefined
      ? { userId: e.userId, anonymousId: e.anonymousId }
      : { anonymousId: e.anonymousId ?? '' };
  // Our schema is looser than the SDK's types (a partial context.library, any integrations value).
  const common = {
    context: e.context as TrackParams['context'],
    integrations: e.integrations as TrackParams['integrations'],
    timestamp: e.timestamp,
    messageId: e.messageId,
  };
  switch (e.type) {
    case 'track':
      analytics.track({ ...ids, ...common, event: e.event, properties: e.properties }, cb);
      return;
    case 'identify':
      analytics.identify({ ...ids, ...common, traits: e.traits }, cb);
      return;
    case 'page':
      analytics.page({ ...ids, ...common, name: e.name, category: e.category, properties: e.properties }, cb);
      return;
    case 'screen':
      analytics.screen(
        { ...ids, ...common, name: e.name, category: e.category, properties: e.properties },
        cb,
      );
      return;
    case 'group':
      analytics.group({ ...ids, ...common, groupId: e.groupId, traits: e.traits }, cb);
      return;
    case 'alias':
      analytics.alias({ ...common, userId: e.userId, previousId: e.previousId }, cb);
      return;
  }
}
