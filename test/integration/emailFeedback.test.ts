// The email-feedback consumer as deployed (functions/queue/emailFeedback.ts), on the sample SES events of
// events/sqs/email-feedback.json against the DynamoDB emulator: a permanent bounce and a complaint
// suppress their addresses (the complaint also revokes the customer's e-mail consent), a redelivery
// changes nothing, and a body that is no SES event fails alone (to the DLQ after its retries).
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { messagingTable } from '../../lib/adapters/dynamodb/messagingTable.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import { addressHash } from '../../lib/campaigns/feedback.js';
import { projectRoot } from '../../lib/projectRoot.js';
import { lambdaContext } from '../support/archiveQueues.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const db = createDynamoDb(config);
const store = messagingTable(db, config.tables.messaging);
const SECRET = randomBytes(32).toString('base64url');
let handler: typeof import('../../functions/queue/emailFeedback.js')['handler'];

beforeAll(async () => {
  for (const [key, value] of Object.entries(inject('stackEnv'))) vi.stubEnv(key, value);
  vi.stubEnv('PRECIS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('PRECIS_HMAC_SECRET', SECRET);
  ({ handler } = await import('../../functions/queue/emailFeedback.js'));
});
afterAll(() => {
  vi.unstubAllEnvs();
  db.destroy();
});

/** The sample events, with addresses and a customer of this run (the table is shared). */
async function sample(): Promise<{
  event: SQSEvent;
  bounced: string;
  complained: string;
  customerId: string;
}> {
  const run = randomUUID().slice(0, 8);
  const bounced = `gone-${run}@example.com`;
  const complained = `angry-${run}@example.com`;
  const customerId = `cus_feedback${run}`;
  const text = (await readFile(join(projectRoot(), 'events', 'sqs', 'email-feedback.json'), 'utf8'))
    .replaceAll('gone@example.com', bounced)
    .replaceAll('angry@example.com', complained)
    .replaceAll('cus_sample', customerId);
  return { event: JSON.parse(text) as SQSEvent, bounced, complained, customerId };
}

const suppressedOf = async (customerId: string, address: string) =>
  (
    await store.snapshot(customerId, {
      localDays: [],
      addresses: [{ channel: 'email', addressHash: addressHash(SECRET, 'email', address) as string }],
    })
  ).suppressed.email;

describe('the email-feedback consumer', () => {
  it("suppresses a bounced and a complaining address, revokes the complainer's consent, and is idempotent", async () => {
    const { event, bounced, complained, customerId } = await sample();
    await store.putConsent(customerId, {
      purpose: 'marketing',
      channel: 'email',
      status: 'granted',
      source: 'web-form',
      at: '2026-01-01T00:00:00.000Z',
    });
    expect(await handler(event, lambdaContext('precis-test-email-feedback'))).toEqual({
      batchItemFailures: [],
    });
    expect(await suppressedOf(customerId, bounced)).toMatchObject({ reason: 'hard_bounce' });
    expect(await suppressedOf(customerId, complained)).toMatchObject({ reason: 'complaint', customerId });
    const snapshot = await store.snapshot(customerId, { localDays: [], addresses: [] });
    expect(snapshot.consent.marketing?.email).toMatchObject({ status: 'revoked', source: 'complaint' });

    // Redelivered: the first suppressions stay as they were.
    expect(await handler(event, lambdaContext('precis-test-email-feedback'))).toEqual({
      batchItemFailures: [],
    });
    expect(await suppressedOf(customerId, bounced)).toMatchObject({
      reason: 'hard_bounce',
      at: '2026-12-06T09:00:01.900Z',
    });
  });

  it('fails only the record that is no SES event', async () => {
    const { event, bounced, customerId } = await sample();
    const [good] = event.Records;
    const bad = { ...(good as (typeof event.Records)[number]), messageId: 'not-ses', body: '{"bounce":{}}' };
    const result = await handler(
      { Records: [bad, good as (typeof event.Records)[number]] },
      lambdaContext('precis-test-email-feedback'),
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'not-ses' }] });
    expect(await suppressedOf(customerId, bounced)).toMatchObject({ reason: 'hard_bounce' });
  });
});
