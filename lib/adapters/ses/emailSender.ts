// E-mail through SES v2 SendEmail: simple content (subject, HTML and text), the message's headers
// (List-Unsubscribe and List-Unsubscribe-Post among them), the stage's configuration set (its event
// destination reports deliveries, bounces and complaints) and tags naming the campaign and the send.
// SES's answers become results: an address it refuses is a permanent rejection (suppression candidate);
// a refused message or a sending account in trouble is a rejection that says so, and is not the customer's
// fault; throttling and server errors are thrown, so the queue retries later.
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { ChannelSender, EmailMessage, SendResult } from '../../campaigns/channels.js';

export interface SesSenderOptions {
  /** The sender when a message names none (a verified identity). */
  readonly from: string;
  readonly configurationSet?: string;
}

/** SES tag values allow letters, digits, _ and - only. */
const tagValue = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);
const TAG_SAFE = /^[A-Za-z0-9_-]{1,256}$/;

/** Errors that are answers about this message or account, not passing failures. */
const REJECTIONS: Readonly<Record<string, { reason: string; permanent: boolean }>> = {
  // SES refused the content (e.g. a virus, an invalid header): the same message fails again.
  MessageRejected: { reason: 'message_rejected', permanent: false },
  AccountSuspendedException: { reason: 'account_suspended', permanent: false },
  SendingPausedException: { reason: 'sending_paused', permanent: false },
  MailFromDomainNotVerifiedException: { reason: 'mail_from_not_verified', permanent: false },
};

function rejectionOf(error: unknown): SendResult | undefined {
  if (!(error instanceof Error)) return undefined;
  const known = REJECTIONS[error.name];
  if (known) return { status: 'rejected', ...known, detail: error.message };
  // BadRequestException covers every invalid parameter; only an address SES cannot parse is the customer's.
  if (error.name === 'BadRequestException' && /address/i.test(error.message)) {
    return { status: 'rejected', reason: 'invalid_address', permanent: true, detail: error.message };
  }
  return undefined;
}

export function sesEmailSender(client: SESv2Client, options: SesSenderOptions): ChannelSender<EmailMessage> {
  return {
    async send(message) {
      const command = new SendEmailCommand({
        FromEmailAddress: message.from ?? options.from,
        Destination: { ToAddresses: [message.to] },
        Content: {
          Simple: {
            Subject: { Data: message.subject, Charset: 'UTF-8' },
            Body: {
              Html: { Data: message.html, Charset: 'UTF-8' },
              Text: { Data: message.text, Charset: 'UTF-8' },
            },
            Headers: Object.entries(message.headers).map(([Name, Value]) => ({ Name, Value })),
          },
        },
        ConfigurationSetName: options.configurationSet,
        EmailTags: [
          { Name: 'campaign', Value: tagValue(message.campaignId) },
          { Name: 'sendId', Value: tagValue(message.sendId) },
          // Bounce and complaint events carry it back (lib/campaigns/feedback.ts): a complaint revokes
          // this customer's consent. A pseudonymous id; left out when SES could not carry it unchanged.
          ...(TAG_SAFE.test(message.customerId) ? [{ Name: 'customer', Value: message.customerId }] : []),
        ],
      });
      try {
        const out = await client.send(command);
        if (!out.MessageId) throw new Error('SES accepted the e-mail without a MessageId');
        return { status: 'sent', providerId: out.MessageId };
      } catch (error) {
        const rejected = rejectionOf(error);
        if (rejected) return rejected;
        throw error;
      }
    },
  };
}
