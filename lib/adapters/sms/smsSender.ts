// SMS through AWS End User Messaging SMS (pinpoint-sms-voice-v2 SendTextMessage): promotional messages
// (carriers and quiet-hour rules treat them apart from transactional ones), the stage's configuration set
// (delivery events) and origination identity, and the send id in Context so events carry it back.
// An opted-out or invalid number is a permanent rejection (suppression candidate); account limits and
// blocked countries are rejections that are not the customer's fault; throttling and 5xx are thrown.
import { type PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import type { ChannelSender, SendResult, SmsMessage } from '../../campaigns/channels.js';

export interface SmsSenderOptions {
  /** Phone number, sender id or pool (id or ARN); a message's own wins. */
  readonly originationIdentity?: string;
  readonly configurationSet?: string;
}

/** Validation reasons that are about the destination number itself. */
const BAD_NUMBER = new Set(['CANNOT_PARSE', 'INVALID_PARAMETER', 'FIELD_VALIDATION_FAILED']);

function rejectionOf(error: unknown): SendResult | undefined {
  if (!(error instanceof Error)) return undefined;
  const reason = (error as { Reason?: unknown }).Reason;
  const detail = error.message;
  if (error.name === 'ConflictException' && reason === 'DESTINATION_PHONE_NUMBER_OPTED_OUT') {
    return { status: 'rejected', reason: 'opted_out', permanent: true, detail };
  }
  if (error.name === 'ValidationException') {
    const fields = (error as { Fields?: { Name?: string }[] }).Fields ?? [];
    const aboutNumber = fields.some((f) => f.Name === 'DestinationPhoneNumber');
    if (aboutNumber && typeof reason === 'string' && BAD_NUMBER.has(reason)) {
      return { status: 'rejected', reason: 'invalid_number', permanent: true, detail };
    }
    return {
      status: 'rejected',
      reason: `invalid_${String(reason ?? 'request').toLowerCase()}`,
      permanent: false,
      detail,
    };
  }
  // Monthly spend limit and the like: no retry within the queue's retention would pass.
  if (error.name === 'ServiceQuotaExceededException') {
    return { status: 'rejected', reason: 'quota_exceeded', permanent: false, detail };
  }
  return undefined;
}

export function smsSender(
  client: PinpointSMSVoiceV2Client,
  options: SmsSenderOptions,
): ChannelSender<SmsMessage> {
  return {
    async send(message) {
      try {
        const out = await client.send(
          new SendTextMessageCommand({
            DestinationPhoneNumber: message.to,
            MessageBody: message.text,
            MessageType: 'PROMOTIONAL',
            OriginationIdentity: message.originationIdentity ?? options.originationIdentity,
            ConfigurationSetName: options.configurationSet,
            Context: { sendId: message.sendId, campaign: message.campaignId },
          }),
        );
        if (!out.MessageId) throw new Error('End User Messaging accepted the SMS without a MessageId');
        return { status: 'sent', providerId: out.MessageId };
      } catch (error) {
        const rejected = rejectionOf(error);
        if (rejected) return rejected;
        throw error;
      }
    },
  };
}
