// Push through Amazon SNS mobile push: one Publish to the device's platform endpoint, with a payload for
// each platform (FCM's `GCM`, APNs and its sandbox) and `default` for the rest. A message's `to` is the
// endpoint's ARN, or a device token (the `pushToken` trait an app sends), which the stage's platform
// application turns into an endpoint (CreatePlatformEndpoint returns the same ARN for the same token, so it
// is safe to call again; the answer is remembered per container).
// A disabled endpoint (the app was uninstalled, the token expired) or a token the platform refuses is a
// permanent rejection: a suppression candidate, as a bounced address is. A disabled platform application is
// the operator's problem, not the customer's; throttling and 5xx are thrown, so the queue retries later.
import { CreatePlatformEndpointCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { ChannelSender, PushMessage, SendResult } from '../../campaigns/channels.js';

export interface PushSenderOptions {
  /** The platform application (FCM or APNs) device tokens are registered with; none: `to` must be an ARN. */
  readonly platformApplicationArn?: string;
}

const ENDPOINT_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:endpoint\//;
/** Endpoints remembered per container (a token's ARN never changes). */
const ENDPOINTS_MAX = 10_000;

function rejectionOf(error: unknown): SendResult | undefined {
  if (!(error instanceof Error)) return undefined;
  const detail = error.message;
  switch (error.name) {
    case 'EndpointDisabledException':
    case 'NotFoundException':
      return { status: 'rejected', reason: 'endpoint_disabled', permanent: true, detail };
    case 'InvalidParameterException':
      // A token or endpoint the platform refuses; other parameters are this code's, not the customer's.
      return /token|endpoint|targetarn/i.test(detail)
        ? { status: 'rejected', reason: 'invalid_address', permanent: true, detail }
        : { status: 'rejected', reason: 'invalid_request', permanent: false, detail };
    case 'PlatformApplicationDisabledException':
      return { status: 'rejected', reason: 'platform_disabled', permanent: false, detail };
    default:
      return undefined;
  }
}

/** The per-platform payloads of one notification; the send id travels in the data for the app's receipts. */
export function pushPayload(message: Pick<PushMessage, 'title' | 'body' | 'sendId' | 'campaignId'>): string {
  const data = { sendId: message.sendId, campaign: message.campaignId };
  const apns = JSON.stringify({ aps: { alert: { title: message.title, body: message.body } }, ...data });
  return JSON.stringify({
    default: `${message.title}: ${message.body}`,
    GCM: JSON.stringify({ notification: { title: message.title, body: message.body }, data }),
    APNS: apns,
    APNS_SANDBOX: apns,
  });
}

export function snsPushSender(client: SNSClient, options: PushSenderOptions): ChannelSender<PushMessage> {
  const endpoints = new Map<string, string>();
  const endpointOf = async (to: string): Promise<string | undefined> => {
    if (ENDPOINT_ARN.test(to)) return to;
    if (options.platformApplicationArn === undefined) return undefined;
    const known = endpoints.get(to);
    if (known !== undefined) return known;
    const out = await client.send(
      new CreatePlatformEndpointCommand({
        PlatformApplicationArn: options.platformApplicationArn,
        Token: to,
      }),
    );
    if (!out.EndpointArn) throw new Error('SNS registered a device token without an EndpointArn');
    if (endpoints.size >= ENDPOINTS_MAX) endpoints.clear();
    endpoints.set(to, out.EndpointArn);
    return out.EndpointArn;
  };
  return {
    async send(message) {
      try {
        const target = await endpointOf(message.to);
        if (target === undefined)
          return {
            status: 'rejected',
            reason: 'no_platform_application',
            permanent: false,
            detail: 'a device token needs PRECIS_PUSH_PLATFORM_APPLICATION',
          };
        const out = await client.send(
          new PublishCommand({ TargetArn: target, MessageStructure: 'json', Message: pushPayload(message) }),
        );
        if (!out.MessageId) throw new Error('SNS accepted the push without a MessageId');
        return { status: 'sent', providerId: out.MessageId };
      } catch (error) {
        const rejected = rejectionOf(error);
        if (rejected) return rejected;
        throw error;
      }
    },
  };
}
