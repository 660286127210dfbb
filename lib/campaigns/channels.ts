// The channel port: one rendered message in, one result out. Adapters (lib/adapters/{ses,sms,webhook,
// push,outbox}) send it; the dispatcher never sees a provider's error types. A result is a value for what
// the provider answered (sent, or rejected for good); a throw means "try again later" (throttling, a
// network failure, a 5xx), so the queue redelivers and the send claim (sendId) keeps the retry single.
import { z } from 'zod';
import { CampaignId, type Channel } from './model.js';

/** Send claims' ids (`snd_` + hash): the idempotency key of every channel. */
const SendId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'letters, digits, _ and -, at most 128');

const common = {
  /** The send claim's id: providers and receivers deduplicate on it. */
  sendId: SendId,
  campaignId: CampaignId,
  customerId: z.string().min(1),
};

export const EmailMessage = z.object({
  channel: z.literal('email'),
  ...common,
  to: z.email(),
  /** Default: the stage's sender (PRECIS_EMAIL_FROM). */
  from: z.string().min(3).optional(),
  subject: z.string().min(1).max(998),
  html: z.string().min(1),
  text: z.string().min(1),
  /** Extra headers, e.g. listUnsubscribeHeaders(...). */
  headers: z.record(z.string(), z.string()).default({}),
});
export type EmailMessage = z.infer<typeof EmailMessage>;

export const SmsMessage = z.object({
  channel: z.literal('sms'),
  ...common,
  to: z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number, e.g. +447700900123'),
  text: z.string().min(1).max(1600),
  /** Phone number, sender id or pool; default: the stage's (or the provider's choice). */
  originationIdentity: z.string().min(1).optional(),
});
export type SmsMessage = z.infer<typeof SmsMessage>;

export const PushMessage = z.object({
  channel: z.literal('push'),
  ...common,
  /** A device token, or the provider's endpoint (an SNS platform endpoint ARN). */
  to: z.string().min(1).max(2048),
  title: z.string().min(1).max(200),
  body: z.string().min(1).max(2000),
});
export type PushMessage = z.infer<typeof PushMessage>;

export const WebhookMessage = z.object({
  channel: z.literal('webhook'),
  ...common,
  /** One of the configured webhooks (its secret signs the body). */
  url: z.url({ protocol: /^https?$/ }),
  /** The rendered JSON body. */
  body: z.json(),
});
export type WebhookMessage = z.infer<typeof WebhookMessage>;

export const ChannelMessage = z.discriminatedUnion('channel', [
  EmailMessage,
  SmsMessage,
  PushMessage,
  WebhookMessage,
]);
export type ChannelMessage = z.infer<typeof ChannelMessage>;
export type MessageOf<C extends Channel> = Extract<ChannelMessage, { channel: C }>;

export type SendResult =
  | { readonly status: 'sent'; readonly providerId: string }
  | {
      readonly status: 'rejected';
      /** A short code, e.g. invalid_address, opted_out, message_rejected, http_400. */
      readonly reason: string;
      /** The recipient can never be reached this way: a suppression candidate. */
      readonly permanent: boolean;
      readonly detail?: string;
    };

export interface ChannelSender<M extends ChannelMessage = ChannelMessage> {
  /** Sends once per sendId as far as the provider allows; throws only for transient failures. */
  send(message: M): Promise<SendResult>;
}

export type ChannelSenders = { readonly [C in Channel]: ChannelSender<MessageOf<C>> };

/** One sender for every channel, handing each message to its channel's adapter. */
export function channelRouter(senders: ChannelSenders): ChannelSender {
  return {
    send(message) {
      switch (message.channel) {
        case 'email':
          return senders.email.send(message);
        case 'sms':
          return senders.sms.send(message);
        case 'push':
          return senders.push.send(message);
        case 'webhook':
          return senders.webhook.send(message);
      }
    },
  };
}

/**
 * RFC 2369 / RFC 8058 headers: mail clients show an unsubscribe button, and Gmail and Yahoo (bulk sender
 * rules, 2024) require the one-click POST. The https URL must take a POST without a cookie or a key.
 */
export function listUnsubscribeHeaders(url: string, mailto?: string): Record<string, string> {
  const targets = [`<${url}>`, ...(mailto ? [`<mailto:${mailto}>`] : [])];
  return { 'List-Unsubscribe': targets.join(', '), 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

/** The address of a message as an admin may see it in a listing: enough to recognise, not to contact. */
export function maskAddress(message: ChannelMessage): string {
  switch (message.channel) {
    case 'email': {
      const at = message.to.lastIndexOf('@');
      return `${message.to.slice(0, 1)}***${message.to.slice(at)}`;
    }
    case 'sms':
      return `${message.to.slice(0, 3)}***${message.to.slice(-2)}`;
    case 'push':
      return message.to.length > 12 ? `${message.to.slice(0, 4)}…${message.to.slice(-4)}` : '***';
    case 'webhook':
      // Paths and queries may carry tokens; the host says which system got it.
      return new URL(message.url).host;
  }
}
