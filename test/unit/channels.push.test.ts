// Push through SNS mobile push (lib/adapters/push/pushSender.ts). SNS has no emulator: its client is
// mocked, standing for the provider's answers (as the SES refusals are in test/integration/channels.test.ts).
import {
  CreatePlatformEndpointCommand,
  EndpointDisabledException,
  PublishCommand,
  SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { pushPayload, snsPushSender } from '../../lib/adapters/push/pushSender.js';
import type { PushMessage } from '../../lib/campaigns/channels.js';

const sns = mockClient(SNSClient);
afterEach(() => sns.reset());
const client = new SNSClient({ region: 'eu-west-1' });
const APP = 'arn:aws:sns:eu-west-1:123456789012:app/GCM/precis-shop';
const ENDPOINT =
  'arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/precis-shop/7c1e2b6a-1111-3333-8888-5d5c1f0e9a01';
const message = (to: string): PushMessage => ({
  channel: 'push',
  sendId: 'snd_push0001',
  campaignId: 'abandoned-cart',
  customerId: 'cus_1',
  to,
  title: 'Your cart misses you',
  body: 'Ada, 10 % off until Sunday',
});

describe('snsPushSender', () => {
  it('registers a device token once, then publishes one payload per platform to its endpoint', async () => {
    sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: ENDPOINT });
    sns.on(PublishCommand).resolves({ MessageId: 'sns-msg-1' });
    const sender = snsPushSender(client, { platformApplicationArn: APP });
    expect(await sender.send(message('fcm-token-abc'))).toEqual({ status: 'sent', providerId: 'sns-msg-1' });
    expect(await sender.send(message('fcm-token-abc'))).toEqual({ status: 'sent', providerId: 'sns-msg-1' });
    expect(sns.commandCalls(CreatePlatformEndpointCommand).map((c) => c.args[0].input)).toEqual([
      { PlatformApplicationArn: APP, Token: 'fcm-token-abc' },
    ]);
    const published = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(published).toMatchObject({ TargetArn: ENDPOINT, MessageStructure: 'json' });
    const payload = JSON.parse(String(published?.Message));
    expect(JSON.parse(payload.GCM)).toEqual({
      notification: { title: 'Your cart misses you', body: 'Ada, 10 % off until Sunday' },
      data: { sendId: 'snd_push0001', campaign: 'abandoned-cart' },
    });
    expect(JSON.parse(payload.APNS).aps.alert.title).toBe('Your cart misses you');
    expect(payload.default).toBe('Your cart misses you: Ada, 10 % off until Sunday');
  });

  it('publishes to an endpoint ARN as it is, without a platform application', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'sns-msg-2' });
    expect(await snsPushSender(client, {}).send(message(ENDPOINT))).toEqual({
      status: 'sent',
      providerId: 'sns-msg-2',
    });
    expect(sns.commandCalls(CreatePlatformEndpointCommand)).toHaveLength(0);
  });

  it("refuses a token it cannot register (no platform application): the operator's setting, not the customer's", async () => {
    expect(await snsPushSender(client, {}).send(message('fcm-token-abc'))).toMatchObject({
      status: 'rejected',
      reason: 'no_platform_application',
      permanent: false,
    });
    expect(sns.calls()).toHaveLength(0);
  });

  it('maps a disabled endpoint to a permanent rejection, and throws throttling for the queue to retry', async () => {
    sns
      .on(PublishCommand)
      .rejectsOnce(new EndpointDisabledException({ message: 'Endpoint is disabled', $metadata: {} }))
      .rejectsOnce(new ThrottledException({ message: 'Rate exceeded', $metadata: {} }));
    const sender = snsPushSender(client, {});
    expect(await sender.send(message(ENDPOINT))).toMatchObject({
      status: 'rejected',
      reason: 'endpoint_disabled',
      permanent: true,
    });
    await expect(sender.send(message(ENDPOINT))).rejects.toThrow('Rate exceeded');
  });
});

describe('pushPayload', () => {
  it('is valid JSON whose platform entries are JSON strings, whatever the text holds', () => {
    const payload = JSON.parse(
      pushPayload({ title: 'Quote " and \\ backslash', body: 'Line\nbreak ✓', sendId: 's', campaignId: 'c' }),
    );
    expect(JSON.parse(payload.GCM).notification.body).toBe('Line\nbreak ✓');
    expect(JSON.parse(payload.APNS_SANDBOX).aps.alert.title).toBe('Quote " and \\ backslash');
  });
});
