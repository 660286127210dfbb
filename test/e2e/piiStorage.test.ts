// Personal data never at rest in clear: after unique PII went through the API (accepted and quarantined)
// and every stage processed it, no DynamoDB table, no S3 object and no log line holds it in clear —
// while an admin can still read it back.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { createDynamoDb, createDynamoDbClient, createS3 } from '../../lib/aws/clients.js';
import { testConfig } from '../support/provided.js';

async function everyTableItem(): Promise<string> {
  const config = testConfig();
  const low = createDynamoDbClient(config);
  const doc = createDynamoDb(config);
  const { TableNames = [] } = await low.send(new ListTablesCommand({}));
  let all = '';
  for (const table of TableNames) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
      all += JSON.stringify(out.Items ?? []);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }
  return all;
}

async function everyObject(): Promise<string> {
  const config = testConfig();
  const s3 = createS3(config);
  let all = '';
  let token: string | undefined;
  do {
    const out = await s3.send(
      new ListObjectsV2Command({ Bucket: config.buckets.archive, ContinuationToken: token }),
    );
    for (const o of out.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: config.buckets.archive, Key: o.Key }));
      const bytes = Buffer.from((await body.Body?.transformToByteArray()) ?? []);
      all += o.Key?.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
    }
    token = out.NextContinuationToken;
  } while (token);
  return all;
}

describe('personal data at rest', () => {
  it('is nowhere in clear after ingestion, quarantine, archive, identity and profiles', async () => {
    const run = randomUUID().slice(0, 8);
    const pii = {
      email: `secret.${run}@example.org`,
      phone: `+33 6 ${run.replace(/\D/g, '').padEnd(8, '7').slice(0, 8)}`,
      firstName: `Zoé${run}`,
      lastName: `Quintessa${run}`,
      birthday: '1984-07-14',
      address: { street: `12 rue ${run}`, city: `Ville${run}`, country: 'FR' },
    };
    const post = (body: unknown) =>
      fetch(`${inject('httpUrl')}/v1/batch`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${inject('writeKey')}:`).toString('base64')}` },
        body: JSON.stringify(body),
      });
    const user = `pii-${run}`;
    const ok = await post({
      batch: [
        { type: 'identify', userId: user, traits: pii, messageId: `${run}-ok` },
        // Quarantined (negative revenue) while carrying the same PII in context.traits.
        {
          type: 'track',
          userId: user,
          event: 'Order Completed',
          properties: { revenue: -1 },
          context: { traits: pii },
          messageId: `${run}-bad`,
        },
      ],
    });
    expect(ok.status).toBe(200);

    // Wait until the profile shows the identify: every stage has run by then.
    const deadline = Date.now() + 60_000;
    let profile: { profile?: { traits?: Record<string, unknown> } } = {};
    while (Date.now() < deadline) {
      const res = await fetch(`${inject('httpUrl')}/v1/customers/${user}?reveal=pii`, {
        headers: { authorization: `Bearer ${inject('adminKey')}` },
      });
      if (res.status === 200) {
        profile = (await res.json()) as typeof profile;
        if (profile.profile?.traits?.email) break;
      }
      await sleep(500);
    }
    // Readable by those allowed to: the data is protected, not lost.
    expect(profile.profile?.traits).toMatchObject({ email: pii.email, firstName: pii.firstName });

    const clear = [pii.email, pii.phone, pii.firstName, pii.lastName, pii.address.street, pii.address.city];
    const tables = await everyTableItem();
    const objects = await everyObject();
    const log = await readFile(inject('offlineLog'), 'utf8');
    for (const value of clear) {
      expect(tables.includes(value), `${value} in a table`).toBe(false);
      expect(objects.includes(value), `${value} in S3`).toBe(false);
      expect(log.includes(value), `${value} in the log`).toBe(false);
    }
    // The searches did read the stores: the run's ids are there.
    expect(tables).toContain(user);
    expect(objects).toContain(`${run}-ok`);
  });
});
