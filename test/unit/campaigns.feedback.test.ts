// Delivery feedback: SES events (as EventBridge, SNS and SNS raw delivery put them on a queue) become
// suppressions of keyed address hashes; permanent rejections at send time suppress the address used.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  addressHash,
  FeedbackMessage,
  type SesEvent,
  suppressionOfRejection,
  suppressionsOfSesEvent,
} from '../../lib/campaigns/feedback.js';
import { identifierHash } from '../../lib/pii/hmac.js';
import { projectRoot } from '../../lib/projectRoot.js';

const SECRET = 'feedback-test-secret-0123456789';
const NOW = Date.parse('2026-12-06T12:00:00.000Z');
const samples = (
  JSON.parse(readFileSync(join(projectRoot(), 'events', 'sqs', 'email-feedback.json'), 'utf8')) as {
    Records: { body: string }[];
  }
).Records.map((r) => FeedbackMessage.parse(JSON.parse(r.body)));
const [bounce, complaint] = samples as [SesEvent, SesEvent];

describe('addressHash', () => {
  it('is the identity index hash of the normalized address', () => {
    expect(addressHash(SECRET, 'email', ' Gone@Example.COM ')).toBe(
      identifierHash(SECRET, 'email', 'gone@example.com'),
    );
    expect(addressHash(SECRET, 'sms', '+44 7700 900123')).toBe(
      identifierHash(SECRET, 'phone', '+447700900123'),
    );
    expect(addressHash(SECRET, 'email', 'not an address')).toBeUndefined();
  });
});

describe('suppressionsOfSesEvent', () => {
  it('suppresses a permanent bounce, naming the customer the message went to', () => {
    expect(suppressionsOfSesEvent(bounce, SECRET, NOW)).toEqual({
      kind: 'Bounce',
      unreadable: 0,
      suppressions: [
        {
          channel: 'email',
          addressHash: identifierHash(SECRET, 'email', 'gone@example.com'),
          reason: 'hard_bounce',
          at: '2026-12-06T09:00:01.900Z',
          customerId: 'cus_sample',
        },
      ],
    });
  });

  it('suppresses a complaint (the caller then revokes the consent of the customer named)', () => {
    expect(suppressionsOfSesEvent(complaint, SECRET, NOW).suppressions).toEqual([
      {
        channel: 'email',
        addressHash: identifierHash(SECRET, 'email', 'angry@example.com'),
        reason: 'complaint',
        at: '2026-12-06T10:14:58.000Z',
        customerId: 'cus_sample',
      },
    ]);
  });

  it('suppresses nothing for a transient bounce or another kind of event', () => {
    const transient = { ...bounce, bounce: { ...bounce.bounce, bounceType: 'Transient' } } as SesEvent;
    expect(suppressionsOfSesEvent(transient, SECRET, NOW).suppressions).toEqual([]);
    expect(suppressionsOfSesEvent({ eventType: 'Delivery' }, SECRET, NOW)).toEqual({
      kind: 'Delivery',
      suppressions: [],
      unreadable: 0,
    });
  });

  it('reads `Name <address>`, counts what is no address, and leaves out the customer of a shared message', () => {
    const many = {
      eventType: 'Bounce',
      bounce: {
        bounceType: 'Permanent',
        bouncedRecipients: [{ emailAddress: 'Ada Lovelace <ADA@example.com>' }, { emailAddress: '???' }],
      },
      mail: { tags: { customer: ['cus_x'] } },
    } as SesEvent;
    const found = suppressionsOfSesEvent(many, SECRET, NOW);
    expect(found.unreadable).toBe(1);
    expect(found.suppressions).toEqual([
      {
        channel: 'email',
        addressHash: identifierHash(SECRET, 'email', 'ada@example.com'),
        reason: 'hard_bounce',
        at: new Date(NOW).toISOString(),
      },
    ]);
  });
});

describe('FeedbackMessage', () => {
  it('unwraps EventBridge, SNS and SNS raw delivery alike', () => {
    const detail = {
      eventType: 'Complaint',
      complaint: { complainedRecipients: [{ emailAddress: 'a@b.co' }] },
    };
    const viaSns = { Type: 'Notification', MessageId: 'x', Message: JSON.stringify(detail) };
    const viaEvents = { source: 'aws.ses', 'detail-type': 'Email Complaint Received', detail };
    for (const body of [detail, viaSns, viaEvents])
      expect(FeedbackMessage.parse(body)).toMatchObject({ eventType: 'Complaint' });
  });

  it('refuses what is no SES event, naming the field', () => {
    const bad = FeedbackMessage.safeParse({ eventType: 'Bounce', bounce: { bounceType: 'Permanent' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['bounce', 'bouncedRecipients']);
    expect(FeedbackMessage.safeParse({ Type: 'Notification', Message: '{not json' }).success).toBe(false);
    expect(FeedbackMessage.safeParse('a string').success).toBe(false);
  });
});

describe('suppressionOfRejection', () => {
  const at = '2026-12-06T12:00:00.000Z';
  const email = { channel: 'email' as const, to: 'Nope@Example.com', customerId: 'cus_1' };
  const sms = { channel: 'sms' as const, to: '+447700900123', customerId: 'cus_1' };

  it('suppresses an address or number the provider refused for good', () => {
    expect(suppressionOfRejection(email, { reason: 'invalid_address', permanent: true }, SECRET, at)).toEqual(
      {
        channel: 'email',
        addressHash: identifierHash(SECRET, 'email', 'nope@example.com'),
        reason: 'invalid_address',
        at,
        customerId: 'cus_1',
      },
    );
    expect(suppressionOfRejection(sms, { reason: 'opted_out', permanent: true }, SECRET, at)?.reason).toBe(
      'opted_out',
    );
    expect(
      suppressionOfRejection(sms, { reason: 'invalid_number', permanent: true }, SECRET, at)?.reason,
    ).toBe('invalid_address');
  });

  it('suppresses nothing for a rejection about the content, the account or a webhook', () => {
    expect(
      suppressionOfRejection(email, { reason: 'message_rejected', permanent: false }, SECRET, at),
    ).toBeUndefined();
    expect(
      suppressionOfRejection(email, { reason: 'account_suspended', permanent: false }, SECRET, at),
    ).toBeUndefined();
    const hook = { channel: 'webhook' as const, customerId: 'cus_1' };
    expect(suppressionOfRejection(hook, { reason: 'http_410', permanent: true }, SECRET, at)).toBeUndefined();
  });
});
