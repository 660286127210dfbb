// Personal data never at rest in clear: after unique PII went through the API (accepted and quarantined)
// and every stage processed it, no DynamoDB table, no S3 object and no log line holds it in clear —
// while an admin can still read it back, and a read key sees it masked. The PII comes under the classic
// trait names and under the aliases real clients use (contact_email, mobile, full_name…), nested, in
// properties and free text, in page URLs' query strings, as an e-mail userId, and as the client's IP.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { createDynamoDb, createDynamoDbClient, createS3 } from '../../lib/aws/clients.js';
import { testConfig } from '../support/provided.js';
import { callApi, waitForCustomer } from '../support/stackApi.js';

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

interface CustomerAnswer {
  customerId?: string;
  profile?: { traits?: Record<string, unknown>; pageViews?: number };
}

describe('personal data at rest', () => {
  it('is nowhere in clear after ingestion, quarantine, archive, identity and profiles', async () => {
    const run = randomUUID().slice(0, 8);
    const digits = (n: number) => `${run.replace(/\D/g, '')}${'7395'.repeat(4)}`.slice(0, n);
    const pii = {
      email: `secret.${run}@example.org`,
      phone: `+33 6 ${digits(8)}`,
      firstName: `Zoé${run}`,
      lastName: `Quintessa${run}`,
      birthday: '1984-07-14',
      address: { street: `12 rue ${run}`, city: `Ville${run}`, country: 'FR' },
    };
    // Issue 7: the names real clients use, nested traits, and PII outside traits.
    const aliases = {
      contact_email: `contact.${run}@example.org`,
      emailAddress: `addr.${run}@example.org`,
      mobile: `+44 7${digits(3)} ${digits(6)}`,
      phone_number: `(415) ${digits(3)}-${digits(4)}`,
      full_name: `Aurelia${run} Fairweather`,
      contact: { work_email: `work.${run}@example.org` },
      // Every value searched for must be long enough not to occur by chance in the stores' ciphertexts and
      // hashes (megabytes of base64 by the end of the suite): a 5-character postcode did once (run 130).
      shipping_address: { street: `7 Mews ${run}`, postal_code: `SW${run}` },
    };
    const elsewhere = {
      userId: `Mail.${run}@Example.org`,
      propertyEmail: `prop.${run}@example.org`,
      propertyPhone: `+86 138 ${digits(4)} ${digits(4)}`,
      urlEmail: `url.${run}@example.org`,
      referrerEmail: `ref.${run}@example.org`,
      ip: `198.51.100.${(Number.parseInt(run.slice(0, 2), 16) % 250) + 2}`,
    };
    const post = (body: unknown) =>
      fetch(`${inject('httpUrl')}/v1/batch`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${inject('writeKey')}:`).toString('base64')}` },
        body: JSON.stringify(body),
      });
    const user = `pii-${run}`;
    const anon = `anon-${run}`;
    const pageOf = (messageId: string, anonymousId: string, userId: string) => ({
      type: 'page',
      name: 'Checkout',
      userId,
      anonymousId,
      messageId,
      properties: {
        note: `call me on ${elsewhere.propertyPhone} or write to ${elsewhere.propertyEmail}`,
        url: `https://shop.example.com/checkout?email=${encodeURIComponent(elsewhere.urlEmail)}&step=2`,
      },
      context: {
        ip: elsewhere.ip,
        page: {
          url: `https://shop.example.com/checkout?email=${encodeURIComponent(elsewhere.urlEmail)}&step=2`,
          search: `?email=${encodeURIComponent(elsewhere.urlEmail)}&step=2`,
          referrer: `https://mail.example.org/?from=${elsewhere.referrerEmail}`,
        },
      },
    });
    const ok = await post({
      batch: [
        { type: 'identify', userId: user, traits: { ...pii, ...aliases }, messageId: `${run}-ok` },
        // Quarantined (negative revenue) while carrying the same PII in context.traits.
        {
          type: 'track',
          userId: user,
          event: 'Order Completed',
          properties: { revenue: -1 },
          context: { traits: { ...pii, ...aliases } },
          messageId: `${run}-bad`,
        },
        // An e-mail userId, from two devices and spelled two ways: one user.
        pageOf(`${run}-page`, anon, elsewhere.userId),
        pageOf(`${run}-page2`, `${anon}-2`, elsewhere.userId.toUpperCase()),
      ],
    });
    expect(ok.status).toBe(200);

    // Wait until the profiles show the events: every stage has run by then.
    await waitForCustomer<CustomerAnswer>(user, (c) => c.profile?.traits?.contact_email !== undefined);
    const first = await waitForCustomer<CustomerAnswer>(anon, (c) => (c.profile?.pageViews ?? 0) >= 2);
    const second = await waitForCustomer<CustomerAnswer>(`${anon}-2`, (c) => c.customerId !== undefined);
    expect(second.customerId).toBe(first.customerId);

    // Readable by those allowed to: the data is protected, not lost.
    const revealed = await callApi<CustomerAnswer>(`/v1/customers/${user}?reveal=pii`, {
      key: inject('adminKey'),
    });
    expect(revealed.body.profile?.traits).toMatchObject({
      email: pii.email,
      firstName: pii.firstName,
      contact_email: aliases.contact_email,
      mobile: aliases.mobile,
      full_name: aliases.full_name,
      contact: aliases.contact,
    });
    // Masked for a read key, every protected trait.
    const masked = await callApi<CustomerAnswer>(`/v1/customers/${user}`);
    expect(masked.body.profile?.traits).toMatchObject({
      contact_email: 'c***@example.org',
      emailAddress: 'a***@example.org',
      full_name: 'A*** F***',
      contact: { work_email: 'w***@example.org' },
      shipping_address: { street: '***', postal_code: '***' },
    });

    const clear = [
      pii.email,
      pii.phone,
      pii.firstName,
      pii.lastName,
      pii.address.street,
      pii.address.city,
      aliases.contact_email,
      aliases.emailAddress,
      aliases.mobile,
      aliases.phone_number,
      aliases.full_name,
      aliases.contact.work_email,
      aliases.shipping_address.street,
      aliases.shipping_address.postal_code,
      elsewhere.userId,
      elsewhere.userId.toLowerCase(),
      elsewhere.propertyEmail,
      elsewhere.propertyPhone,
      elsewhere.urlEmail,
      encodeURIComponent(elsewhere.urlEmail),
      elsewhere.referrerEmail,
      elsewhere.ip,
    ];
    const shown = JSON.stringify(masked.body);
    const tables = await everyTableItem();
    const objects = await everyObject();
    const log = await readFile(inject('offlineLog'), 'utf8');
    for (const value of clear) {
      expect(shown.includes(value), `${value} shown to a read key`).toBe(false);
      expect(tables.includes(value), `${value} in a table`).toBe(false);
      expect(objects.includes(value), `${value} in S3`).toBe(false);
      expect(log.includes(value), `${value} in the log`).toBe(false);
    }
    // The searches did read the stores: the run's ids are there, and the IP's network.
    expect(tables).toContain(user);
    expect(objects).toContain(`${run}-ok`);
    expect(objects).toContain(`${run}-page`);
    expect(objects).toContain(elsewhere.ip.replace(/\.\d+$/, '.0'));

    // Last (its URL holds the e-mail, and serverless-offline may log paths): the e-mail userId still
    // finds its customer, as the identity it is.
    const byEmail = await callApi<CustomerAnswer>(`/v1/customers/${encodeURIComponent(elsewhere.userId)}`);
    expect(byEmail.status).toBe(200);
    expect(byEmail.body.customerId).toBe(first.customerId);
  });
});
