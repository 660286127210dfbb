// A channel that records instead of sending: every message's rendered content goes to the outbox
// (lib/campaigns/outbox.ts), once per sendId. Used for a channel whose mode is `outbox`.
import type { ChannelMessage, ChannelSender } from '../../campaigns/channels.js';
import { type OutboxStore, outboxEntryOf } from '../../campaigns/outbox.js';

export function outboxSender<M extends ChannelMessage = ChannelMessage>(
  store: Pick<OutboxStore, 'record'>,
  now: () => number,
): ChannelSender<M> {
  return {
    async send(message) {
      const entry = await store.record(outboxEntryOf(message, now()));
      return { status: 'sent', providerId: `outbox:${entry.sendId}` };
    },
  };
}
