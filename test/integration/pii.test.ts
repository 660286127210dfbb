// PII protection against the emulators: the data key registry in a real table, tokens written by one
// process and read by another, and the ingest edge with the real queue and quarantine — what lands on
// SQS and in the quarantine table holds no clear e-mail, and a quarantined event replays protected.
// The data keys table is this file's own (random name): the tests do not depend on how the emulators
// were provisioned.
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { Message } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataKeysTable } from '../../lib/adapters/dynamodb/dataKeysTable.js';
import { quarantineTable } from '../../lib/adapters/dynamodb/quarantineTable.js';
import { eventQueue } from '../../lib/adapters/sqs/eventQueue.js';
import { createDynamoDb, createDynamoDbClient, createSqs } from '../../lib/aws/clients.js';
import { parseEnvelope } from '../../lib/ingest/envelope.js';
import { type IngestDeps, type IngestRequest, ingest } from '../../lib/ingest/ingest.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { createPiiCipher, isPiiToken } from '../../lib/pii/cipher.js';
import { identifierHash } from '../../lib/pii/hmac.js';
import { localKeyProvider } from '../../lib/pii/keys.js';
import { eventProtector, payloadSeal } from '../../lib/pii/protect.js';
import { replayEntry } from '../../lib/quarantine/replay.js';
import { createActiveTable } from '../../local/provision.js';
import { newId, recordingLogger } from '../support/archiveFixtures.js';
import { createTestQueue, receiveMessages } from '../support/archiveQueues.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const raw = createDynamoDbClient(config);
const dynamo = createDynamoDb(config);
const sqs = createSqs(config);
const table = newId('precis-it-data-keys');
const master = randomBytes(32);
const secret = randomBytes(32).toString('base64url');

beforeAll(async () => {
  await createActiveTable(raw, {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'keyId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'keyId', KeyType: 'HASH' }],
  });
});
afterAll(async () => {
  await raw.send(new DeleteTableCommand({ TableName: table })).catch(() => {});
  raw.destroy();
  dynamo.destroy();
  sqs.destroy();
});

/** What one Lambda container would build: its own client, store and cipher, sharing table and key. */
function aProcess(options: { maxKeyUses?: number } = {}) {
  const client = createDynamoDb(config);
  const cipher = createPiiCipher({
    provider: localKeyProvider(master),
    store: dataKeysTable(client, table),
    ...options,
  });
  return { cipher, close: () => client.destroy() };
}

const keyIdOf = (token: string) => token.split(':')[2] ?? '';

describe('data key registry', () => {
  it('stores a wrapped key once under its keyId and reads it back', async () => {
    const store = dataKeysTable(dynamo, table);
    const keyId = randomBytes(8).toString('hex');
    const blob = randomBytes(60);
    const createdAt = new Date().toISOString();
    await store.put(keyId, blob, createdAt);
    expect((await store.get(keyId))?.equals(blob)).toBe(true);
    const item = await dynamo.send(new GetCommand({ TableName: table, Key: { keyId } }));
    expect(item.Item).toEqual({ keyId, encryptedKey: blob.toString('base64'), createdAt });

    await expect(store.put(keyId, randomBytes(60), createdAt)).rejects.toThrow(
      `data key ${keyId} already exists`,
    );
    expect((await store.get(keyId))?.equals(blob)).toBe(true);
    expect(await store.get(randomBytes(8).toString('hex'))).toBeUndefined();
  });

  it('lets another process decrypt what one process encrypted, across rotations', async () => {
    const writer = aProcess({ maxKeyUses: 2 });
    const reader = aProcess();
    try {
      const values = [
        'jane.doe@example.com',
        { street: '1 rue de la Paix', city: 'Paris' },
        'Zoë',
        '+33612345678',
      ];
      const tokens = await Promise.all(values.map((v) => writer.cipher.encrypt(v)));
      expect(new Set(tokens.map(keyIdOf)).size).toBe(2);
      expect(await Promise.all(tokens.map((t) => reader.cipher.decrypt(t)))).toEqual(values);
      // Under another master key the same registry unwraps nothing.
      const stranger = createPiiCipher({
        provider: localKeyProvider(randomBytes(32)),
        store: dataKeysTable(dynamo, table),
      });
      await expect(stranger.decrypt(tokens[0] ?? '')).rejects.toThrow(/does not unwrap/);
    } finally {
      writer.close();
      reader.close();
    }
  });
});

describe('the ingest edge with PII', () => {
  const quarantine = quarantineTable(dynamo, config.tables.quarantine, config.quarantineRetentionDays);
  const relaxed = testConfig({ PRECIS_MAX_AMOUNT: '100000000' }).quality;

  function edge(queueName: string) {
    const { cipher } = aProcess();
    const seal = payloadSeal(cipher);
    const protect = eventProtector({ cipher, secret: async () => secret, junk: config.quality.junkIds });
    const deps: IngestDeps = {
      sink: eventQueue(sqs, queueName),
      quarantine,
      quality: config.quality,
      log: recordingLogger().log,
      now: Date.now,
      protect,
      sealPayload: seal.seal,
    };
    return { deps, seal, protect, cipher };
  }

  const batch = (sourceId: string, events: Record<string, unknown>[]): IngestRequest => {
    const body = { batch: events };
    return { route: 'batch', body, bodyBytes: Buffer.byteLength(JSON.stringify(body)), sourceId };
  };

  function eventsOf(messages: readonly Message[]): NormalizedEvent[] {
    return messages.flatMap((m) => {
      const parsed = parseEnvelope(m.Body ?? '');
      if (!parsed.ok) throw new Error(`queued message is not an envelope: ${parsed.reason}`);
      return parsed.envelope.events;
    });
  }

  it('enqueues and quarantines no clear e-mail, and replays a quarantined event protected', async () => {
    const queue = await createTestQueue(sqs);
    const { deps, seal, protect, cipher } = edge(queue.name);
    const sourceId = newId('src');
    const email = `${newId('jane')}@example.com`;
    const identify = {
      type: 'identify',
      messageId: newId('msg'),
      userId: newId('user'),
      traits: { email: email.toUpperCase(), name: 'Jane Doe', plan: 'gold' },
    };
    const absurd = {
      type: 'track',
      messageId: newId('msg'),
      userId: identify.userId,
      event: 'Order Completed',
      properties: { revenue: 5_000_000, currency: 'EUR' },
      context: { traits: { email } },
    };

    const ingested = await ingest(batch(sourceId, [identify, absurd]), deps);
    if (!ingested.ok) throw new Error(`expected one event accepted: ${ingested.message}`);
    const response = ingested.value;
    expect(response.accepted).toBe(1);
    const quarantineId = response.rejected[0]?.quarantineId ?? '';

    const [message, ...more] = await receiveMessages(sqs, queue.url, 1);
    expect(more).toEqual([]);
    expect(message?.Body).not.toContain(email);
    expect(message?.Body?.toLowerCase()).not.toContain(email.toLowerCase());
    const [enqueued] = eventsOf(message ? [message] : []);
    expect(enqueued?.identifiers).toEqual([
      { type: 'email', hash: identifierHash(secret, 'email', email), mask: 'j***@example.com' },
    ]);
    expect(isPiiToken(enqueued?.traits?.email) && isPiiToken(enqueued?.traits?.name)).toBe(true);
    expect(enqueued?.traits?.plan).toBe('gold');
    // Another process reads the token back (a profile reader, a replay in the quarantine function).
    const reader = aProcess();
    expect(await reader.cipher.decrypt(String(enqueued?.traits?.email))).toBe(email.toUpperCase());
    reader.close();

    const stored = await dynamo.send(
      new GetCommand({
        TableName: config.tables.quarantine,
        Key: { id: quarantineId },
        ConsistentRead: true,
      }),
    );
    expect(JSON.stringify(stored.Item)).not.toContain(email);
    const entry = await quarantine.get(quarantineId);
    if (!entry) throw new Error(`quarantine entry ${quarantineId} was not stored`);
    expect(isPiiToken(entry.payload)).toBe(true);
    expect(JSON.parse(await seal.open(entry.payload))).toEqual(absurd);

    // After raising the amount limit, the replay enqueues the event protected like a live one.
    const outcome = await replayEntry(entry, {
      quarantine,
      sink: eventQueue(sqs, queue.name),
      quality: relaxed,
      now: Date.now,
      openPayload: seal.open,
      protect,
    });
    expect(outcome).toEqual({ id: quarantineId, outcome: 'replayed', messageId: absurd.messageId });
    const [replayedMessage] = await receiveMessages(sqs, queue.url, 1);
    expect(replayedMessage?.Body).not.toContain(email);
    const [replayed] = eventsOf(replayedMessage ? [replayedMessage] : []);
    expect(replayed).toMatchObject({
      messageId: absurd.messageId,
      sourceId,
      properties: { revenue: 5_000_000 },
    });
    expect(replayed?.identifiers).toEqual(enqueued?.identifiers);
    const replayedTraits = (replayed?.context?.traits ?? {}) as Record<string, unknown>;
    expect(await cipher.decrypt(String(replayedTraits.email))).toBe(email);
    expect(await quarantine.get(quarantineId)).toMatchObject({ status: 'replayed' });
  });

  it('enqueues no clear alias, nested trait, property, URL query, e-mail userId or full IP (issue 7)', async () => {
    const queue = await createTestQueue(sqs);
    const { deps } = edge(queue.name);
    const run = newId('r')
      .replace(/[^a-z0-9]/gi, '')
      .slice(-8)
      .toLowerCase();
    const clear = {
      contactEmail: `contact.${run}@example.com`,
      mobile: `+33 6 ${run.replace(/\D/g, '').padEnd(8, '4').slice(0, 2)} 34 56 78`,
      fullName: `Janet${run} Doe`,
      nestedEmail: `nested.${run}@example.com`,
      propertyEmail: `prop.${run}@example.com`,
      urlEmail: `url.${run}@example.com`,
      userId: `User.${run}@Example.com`,
      ip: '198.51.100.234',
    };
    const event = {
      type: 'identify',
      messageId: newId('msg'),
      userId: clear.userId,
      traits: { contact_email: clear.contactEmail, mobile: clear.mobile, full_name: clear.fullName },
      context: {
        ip: clear.ip,
        traits: { profile: { work_email: clear.nestedEmail } },
        page: { url: `https://shop.example.com/?email=${encodeURIComponent(clear.urlEmail)}` },
      },
      properties: { note: `reply to ${clear.propertyEmail}` },
    };
    const ingested = await ingest(batch(newId('src'), [event]), deps);
    if (!ingested.ok) throw new Error(`expected the event accepted: ${ingested.message}`);
    const [message] = await receiveMessages(sqs, queue.url, 1);
    const body = (message?.Body ?? '').toLowerCase();
    for (const value of Object.values(clear)) expect(body, value).not.toContain(value.toLowerCase());
    expect(body).not.toContain(encodeURIComponent(clear.urlEmail).toLowerCase());
    const [enqueued] = eventsOf(message ? [message] : []);
    expect(enqueued?.context?.ip).toBe('198.51.100.0');
    expect(enqueued?.identifiers?.map((i) => i.hash)).toEqual(
      expect.arrayContaining([
        identifierHash(secret, 'email', clear.contactEmail),
        identifierHash(secret, 'email', clear.userId.toLowerCase()),
      ]),
    );
  });
});
