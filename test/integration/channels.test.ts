// Channel adapters against real receivers: SES v2 SendEmail to the SES emulator (read back from its
// /store with the RFC 8058 headers), signed webhooks to a node:http server on 127.0.0.1 (signature,
// Idempotency-Key, which answers are retried), and the outbox table with its listing's pages.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  MessageRejected,
  SESv2ServiceException,
  SendEmailCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { apiKeysTable } from '../../lib/adapters/dynamodb/apiKeysTable.js';
import { outboxSender } from '../../lib/adapters/outbox/outboxSender.js';
import { outboxTable } from '../../lib/adapters/outbox/outboxTable.js';
import { sesEmailSender } from '../../lib/adapters/ses/emailSender.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../lib/adapters/webhook/signature.js';
import { WebhookUnavailableError, webhookSender } from '../../lib/adapters/webhook/webhookSender.js';
import { createApiKey } from '../../lib/auth/apiKeys.js';
import { createDynamoDb, createSesV2 } from '../../lib/aws/clients.js';
import {
  type ChannelMessage,
  type EmailMessage,
  listUnsubscribeHeaders,
  type WebhookMessage,
} from '../../lib/campaigns/channels.js';
import { listOutbox, type OutboxEntry } from '../../lib/campaigns/outbox.js';
import { channelSendersFor } from '../../lib/runtime.js';
import { DAY_MS, randomDay } from '../support/archiveFixtures.js';
import { lambdaContext } from '../support/archiveQueues.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const dynamo = createDynamoDb(config);
const ses = createSesV2(config);
const outbox = outboxTable(dynamo, config.tables.outbox);
afterAll(() => {
  dynamo.destroy();
  ses.destroy();
});

const sendId = () => `snd_${randomUUID().replaceAll('-', '')}`;

function email(overrides: Partial<EmailMessage> = {}): EmailMessage {
  const id = sendId();
  return {
    channel: 'email',
    sendId: id,
    campaignId: 'abandoned-cart',
    customerId: `cus_${randomUUID()}`,
    to: `buyer+${id}@example.com`,
    subject: `Your cart is waiting (${id})`,
    html: '<p>Use <b>CART-7KQ2-M9XD</b> for 10 % off.</p>',
    text: 'Use CART-7KQ2-M9XD for 10 % off.',
    headers: listUnsubscribeHeaders(
      `https://api.example.com/v1/unsubscribe?token=${id}`,
      'unsubscribe@example.com',
    ),
    ...overrides,
  };
}

interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { html?: string; text?: string };
  headers?: { name: string; value: string }[];
}

async function storedEmails(): Promise<StoredEmail[]> {
  const endpoint = config.endpoints.ses;
  if (!endpoint) throw new Error('the integration tier runs the SES emulator: PRECIS_ENDPOINT_SES is unset');
  const res = await fetch(`${endpoint}/store`);
  return ((await res.json()) as { emails: StoredEmail[] }).emails;
}

describe('SES v2 e-mail', () => {
  it('sends through the emulator with the List-Unsubscribe headers, the sender and both bodies', async () => {
    const sender = sesEmailSender(ses, { from: 'campaigns@precis.local', configurationSet: 'precis-local' });
    const message = email();
    const result = await sender.send(message);
    expect(result.status).toBe('sent');

    const stored = (await storedEmails()).find((e) => e.subject === message.subject);
    expect(stored).toBeDefined();
    expect(stored?.messageId).toBe(result.status === 'sent' ? result.providerId : undefined);
    expect(stored?.from).toBe('campaigns@precis.local');
    expect(stored?.destination.to).toEqual([message.to]);
    expect(stored?.body).toEqual({ html: message.html, text: message.text });
    const headers = Object.fromEntries((stored?.headers ?? []).map((h) => [h.name, h.value]));
    expect(headers['List-Unsubscribe']).toBe(
      `<https://api.example.com/v1/unsubscribe?token=${message.sendId}>, <mailto:unsubscribe@example.com>`,
    );
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  });

  it('is the local stage configuration: the composed e-mail sender reaches the emulator', async () => {
    expect(config.channels.email.mode).toBe('ses');
    const senders = channelSendersFor(config, {
      outbox,
      sesv2: () => ses,
      sms: () => {
        throw new Error('SMS is the outbox locally: no SMS client is made');
      },
      sns: () => {
        throw new Error('push is the outbox locally: no SNS client is made');
      },
      now: Date.now,
    });
    const message = email();
    expect((await senders.email.send(message)).status).toBe('sent');
    const stored = (await storedEmails()).find((e) => e.subject === message.subject);
    expect(stored?.from).toBe(config.channels.email.from);
    // SMS is the outbox's locally: recorded, not sent.
    const sms = await senders.sms.send({
      channel: 'sms',
      sendId: sendId(),
      campaignId: 'birthday',
      customerId: 'cus_1',
      to: '+447700900123',
      text: 'Happy birthday!',
    });
    expect(sms).toMatchObject({ status: 'sent', providerId: expect.stringMatching(/^outbox:/) });
  });

  it("maps SES's refusals: content and account problems are rejections, throttling is thrown", async () => {
    const client = createSesV2(config);
    const mock = mockClient(client);
    const sender = sesEmailSender(client, { from: 'campaigns@precis.local' });
    try {
      // One answer per call, in order (a second `on` for the same command would restart at the first call).
      mock
        .on(SendEmailCommand)
        .rejectsOnce(new MessageRejected({ message: 'Virus detected', $metadata: {} }))
        .rejectsOnce(
          new SESv2ServiceException({
            name: 'BadRequestException',
            $fault: 'client',
            $metadata: {},
            message: 'Illegal address',
          }),
        )
        .rejectsOnce(new TooManyRequestsException({ message: 'Slow down', $metadata: {} }));
      expect(await sender.send(email())).toEqual({
        status: 'rejected',
        reason: 'message_rejected',
        permanent: false,
        detail: 'Virus detected',
      });
      expect(await sender.send(email())).toMatchObject({
        status: 'rejected',
        reason: 'invalid_address',
        permanent: true,
      });
      await expect(sender.send(email())).rejects.toThrow('Slow down');
    } finally {
      mock.restore();
      client.destroy();
    }
  });
});

/** A webhook receiver on 127.0.0.1 answering each path with its script of statuses (then 200). */
function receiver(scripts: Record<string, number[]>) {
  const requests: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      requests.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (path === '/hang') return; // never answers: the attempt times out
      const status = scripts[path]?.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
    });
  });
  return {
    requests,
    async start() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('signed webhooks', () => {
  const SECRET = 'whsec_integration_secret_0123456789';
  const NOW = Date.parse('2026-07-01T12:00:00.000Z');
  const server = receiver({
    '/flaky': [500],
    '/throttled': [429, 503],
    '/bad': [400],
    '/down': [502, 502, 502],
  });
  let base = '';
  const delays: number[] = [];
  let sender: ReturnType<typeof webhookSender>;
  const senderFor = (attemptTimeoutMs: number) =>
    webhookSender({
      endpoints: ['/ok', '/flaky', '/throttled', '/bad', '/down', '/hang'].map((p) => ({
        url: `${base}${p}`,
        secret: SECRET,
      })),
      now: () => NOW,
      attemptTimeoutMs,
      // Backoff is recorded, not slept: the test never waits for it.
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
  beforeAll(async () => {
    base = await server.start();
    // A loaded machine may answer on loopback slowly: only the path that never answers gets a short timeout.
    sender = senderFor(30_000);
  });
  afterAll(() => server.stop());

  const hook = (
    path: string,
    body: WebhookMessage['body'] = { coupon: 'CART-7KQ2-M9XD' },
  ): WebhookMessage => ({
    channel: 'webhook',
    sendId: sendId(),
    campaignId: 'abandoned-cart',
    customerId: 'cus_1',
    url: `${base}${path}`,
    body,
  });
  const requestsOf = (m: WebhookMessage) =>
    server.requests.filter((r) => r.headers['idempotency-key'] === m.sendId);

  it('posts the JSON body signed with the secret, with the send id as Idempotency-Key', async () => {
    const message = hook('/ok', { customer: { id: 'cus_1' }, coupon: 'CART-7KQ2-M9XD', items: [1, 2] });
    expect(await sender.send(message)).toEqual({ status: 'sent', providerId: `webhook:${message.sendId}` });
    const [request] = requestsOf(message);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual(message.body);
    const signature = String(request?.headers[SIGNATURE_HEADER.toLowerCase()]);
    expect(signature).toMatch(new RegExp(`^t=${NOW / 1000},v1=[0-9a-f]{64}$`));
    expect(verifyWebhookSignature(signature, request?.body ?? '', SECRET, NOW / 1000)).toBe(true);
    expect(
      verifyWebhookSignature(signature, request?.body ?? '', 'another-secret-of-length', NOW / 1000),
    ).toBe(false);
  });

  it('retries a 500 once it passes, and 429 / 503, with the same Idempotency-Key', async () => {
    const flaky = hook('/flaky');
    expect((await sender.send(flaky)).status).toBe('sent');
    expect(requestsOf(flaky)).toHaveLength(2);
    const throttled = hook('/throttled');
    expect((await sender.send(throttled)).status).toBe('sent');
    expect(requestsOf(throttled)).toHaveLength(3);
    expect(delays.every((d) => d >= 0 && d < 250 * 2)).toBe(true);
  });

  it('does not retry a 400: a permanent rejection', async () => {
    const bad = hook('/bad');
    expect(await sender.send(bad)).toMatchObject({ status: 'rejected', reason: 'http_400', permanent: true });
    expect(requestsOf(bad)).toHaveLength(1);
  });

  it('throws after the last attempt fails (5xx, or no answer within the attempt timeout)', async () => {
    const down = hook('/down');
    await expect(sender.send(down)).rejects.toBeInstanceOf(WebhookUnavailableError);
    expect(requestsOf(down)).toHaveLength(3);
    const hang = hook('/hang');
    await expect(senderFor(300).send(hang)).rejects.toThrow(/failed 3 attempts \(last: TimeoutError/);
  });

  it('refuses a URL that is not a configured webhook, without calling it', async () => {
    const stranger = { ...hook('/ok'), url: 'http://127.0.0.1:9/unknown' };
    expect(await sender.send(stranger)).toMatchObject({ status: 'rejected', reason: 'unknown_webhook' });
  });
});

describe('outbox', () => {
  /** A day of its own (tests share the table), at noon UTC. */
  const day = Date.parse(`${randomDay()}T12:00:00.000Z`);
  const messages = (customerId: string): ChannelMessage[] => [
    {
      channel: 'sms',
      sendId: sendId(),
      campaignId: 'birthday',
      customerId,
      to: '+447700900123',
      text: 'Happy birthday',
    },
    {
      channel: 'push',
      sendId: sendId(),
      campaignId: 'birthday',
      customerId,
      to: 'device-token-abcdef123456',
      title: 'Hi',
      body: 'A gift',
    },
    { ...email(), customerId },
    {
      channel: 'webhook',
      sendId: sendId(),
      campaignId: 'abandoned-cart',
      customerId,
      url: 'https://pos.example.com/hooks/x?token=s3cret',
      body: { a: 1 },
    },
    {
      channel: 'sms',
      sendId: sendId(),
      campaignId: 'win-back',
      customerId,
      to: '+8613800138000',
      text: 'We miss you',
    },
  ];

  it('records each message once per sendId, with masked addresses, and lists them newest first in pages', async () => {
    const customerId = `cus_${randomUUID()}`;
    const sent = messages(customerId);
    // One a minute, the first three days back: the listing crosses day partitions.
    for (const [i, m] of sent.entries()) {
      const at = day - (i < 3 ? 0 : 2 * DAY_MS) - i * 60_000;
      const result = await outboxSender(outbox, () => at).send(m);
      expect(result).toEqual({ status: 'sent', providerId: `outbox:${m.sendId}` });
    }
    // A redelivery, later: the first record stands.
    const first = sent[0] as ChannelMessage;
    await outboxSender(outbox, () => day + 3_600_000).send(first);

    const pages: OutboxEntry[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listOutbox({ limit: 2, cursor }, { outbox, now: () => day + 3 * 3_600_000 });
      if (!page.ok) throw new Error(page.message);
      pages.push(page.value.items);
      cursor = page.value.nextCursor;
    } while (cursor && pages.length < 10);
    const items = pages.flat();
    expect(pages.slice(0, 2).map((p) => p.length)).toEqual([2, 2]);
    expect(items.map((e) => e.sendId)).toEqual(sent.map((m) => m.sendId));
    expect(items.map((e) => e.to)).toEqual([
      '+44***23',
      'devi…3456',
      'b***@example.com',
      'pos.example.com',
      '+86***00',
    ]);
    expect(JSON.stringify(items)).not.toContain('s3cret');
    expect(items[2]?.content).toMatchObject({ subject: (sent[2] as EmailMessage).subject });
    expect(items[0]?.at).toBe(new Date(day).toISOString());
  });

  it('filters by channel', async () => {
    const customerId = `cus_${randomUUID()}`;
    const at = day - 30 * DAY_MS;
    for (const m of messages(customerId)) await outboxSender(outbox, () => at).send(m);
    const page = await listOutbox({ channel: 'sms', limit: 50 }, { outbox, now: () => at });
    expect(
      page.ok && page.value.items.filter((e) => e.customerId === customerId).map((e) => e.channel),
    ).toEqual(['sms', 'sms']);
  });
});

describe('GET /v1/outbox (the handler as deployed)', () => {
  let route: typeof import('../../functions/http/outbox.js');
  const keys: Record<'admin' | 'read', string> = { admin: '', read: '' };
  beforeAll(async () => {
    for (const [key, value] of Object.entries(inject('stackEnv'))) vi.stubEnv(key, value);
    vi.stubEnv('PRECIS_LOG_LEVEL', 'SILENT');
    route = await import('../../functions/http/outbox.js');
    const store = apiKeysTable(dynamo, config.tables.apiKeys);
    keys.admin = (await createApiKey({ role: 'admin', sourceId: 'ops', name: 'ops' }, store)).key;
    keys.read = (await createApiKey({ role: 'read', sourceId: 'bi', name: 'bi' }, store)).key;
  });
  afterAll(() => vi.unstubAllEnvs());

  async function get(key: string, query: Record<string, string>) {
    const event = {
      version: '2.0',
      routeKey: 'GET /v1/outbox',
      rawPath: '/v1/outbox',
      rawQueryString: new URLSearchParams(query).toString(),
      headers: { authorization: `Bearer ${key}` },
      queryStringParameters: query,
      requestContext: { http: { method: 'GET' }, timeEpoch: Date.now() },
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const res = await route.list(event, lambdaContext('precis-test-outbox', 10_000));
    return { status: res.statusCode, body: JSON.parse(res.body ?? '{}') as Record<string, unknown> };
  }

  it('lists what was recorded today to admin keys only, with masked addresses; a forged cursor is a 400', async () => {
    const customerId = `cus_${randomUUID()}`;
    // Recorded now: the route lists the last week from the function's clock.
    const m: ChannelMessage = {
      channel: 'sms',
      sendId: sendId(),
      campaignId: 'birthday',
      customerId,
      to: '+447700900123',
      text: 'Happy birthday',
    };
    await outboxSender(outbox, Date.now).send(m);
    const page = await get(keys.admin, { channel: 'sms', limit: '200' });
    expect(page.status).toBe(200);
    const items = page.body.items as OutboxEntry[];
    expect(items.find((e) => e.sendId === m.sendId)).toMatchObject({ customerId, to: '+44***23' });
    expect(JSON.stringify(page.body)).not.toContain('+447700900123');
    expect((await get(keys.read, {})).status).toBe(403);
    expect(await get(keys.admin, { cursor: 'not-a-cursor' })).toMatchObject({
      status: 400,
      body: { error: 'bad_request' },
    });
  });
});
