// The local stack's SES mailbox simulator: which addresses bounce or complain, the events it publishes
// (read back by the same parser and rules as SES's real events), and the customer recovered from a
// message's signed List-Unsubscribe token, never from an unsigned one.
import { describe, expect, it } from 'vitest';
import { addressHash, FeedbackMessage, suppressionsOfSesEvent } from '../../lib/campaigns/feedback.js';
import { signUnsubscribeToken } from '../../lib/campaigns/unsubscribeToken.js';
import {
  customerOfMessage,
  type StoredEmail,
  simulatedEvents,
  simulatedOutcome,
} from '../../local/sesMailboxSimulator.js';

const SECRET = 'simulator-test-secret-0123456789';
const NOW = Date.parse('2026-12-06T12:00:00.000Z');
const context = {
  region: 'eu-west-1',
  accountId: '000000000000',
  configurationSet: 'precis-local',
  hmacSecret: SECRET,
  now: NOW,
};

function email(to: string[], token?: string): StoredEmail {
  return {
    messageId: 'msg-1',
    from: 'campaigns@precis.local',
    destination: { to, cc: [], bcc: [] },
    headers:
      token === undefined
        ? []
        : [
            { name: 'List-Unsubscribe', value: `<http://127.0.0.1:3000/v1/unsubscribe?token=${token}>` },
            { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
          ],
    at: NOW / 1000 - 2,
  };
}

const token = (customerId: string) =>
  signUnsubscribeToken({ customerId, channel: 'email', campaignId: 'abandoned-cart', issuedAt: NOW }, SECRET);

describe('simulatedOutcome', () => {
  it("answers as SES's simulator does, labels included, and leaves every other address alone", () => {
    expect(simulatedOutcome('bounce@simulator.amazonses.com')).toMatchObject({ detailType: 'Email Bounced' });
    expect(simulatedOutcome('Bounce+run-42@Simulator.AmazonSES.com')).toMatchObject({
      detailType: 'Email Bounced',
      bounceSubType: 'General',
    });
    expect(simulatedOutcome('suppressionlist@simulator.amazonses.com')).toMatchObject({
      bounceSubType: 'OnAccountSuppressionList',
    });
    expect(simulatedOutcome('complaint+x@simulator.amazonses.com')).toEqual({
      detailType: 'Email Complaint Received',
    });
    for (const other of [
      'success@simulator.amazonses.com',
      'ooto@simulator.amazonses.com',
      'bounce@example.com',
      'bounce@simulator.amazonses.com.evil.example',
      'not an address',
    ])
      expect(simulatedOutcome(other)).toBeUndefined();
  });
});

describe('simulatedEvents', () => {
  it('publishes a permanent bounce that the feedback consumer turns into a hard-bounce suppression', () => {
    const [event, ...more] = simulatedEvents(
      email(['bounce+a@simulator.amazonses.com', 'someone@example.com'], token('cus_abc')),
      context,
    );
    expect(more).toEqual([]);
    expect(event).toMatchObject({ source: 'aws.ses', 'detail-type': 'Email Bounced' });
    const found = suppressionsOfSesEvent(FeedbackMessage.parse(event), SECRET, NOW);
    expect(found.kind).toBe('Bounce');
    expect(found.suppressions).toEqual([
      {
        channel: 'email',
        addressHash: addressHash(SECRET, 'email', 'bounce+a@simulator.amazonses.com'),
        reason: 'hard_bounce',
        at: new Date(NOW).toISOString(),
        // One recipient per event, so the customer tag is theirs.
        customerId: 'cus_abc',
      },
    ]);
  });

  it('publishes a complaint carrying the customer of the verified token', () => {
    const [event] = simulatedEvents(email(['complaint@simulator.amazonses.com'], token('cus_xyz')), context);
    const found = suppressionsOfSesEvent(FeedbackMessage.parse(event), SECRET, NOW);
    expect(found.suppressions).toMatchObject([{ reason: 'complaint', customerId: 'cus_xyz' }]);
  });

  it('publishes nothing for an e-mail to ordinary addresses', () => {
    expect(simulatedEvents(email(['ada@example.com', 'success@simulator.amazonses.com']), context)).toEqual(
      [],
    );
  });
});

describe('customerOfMessage', () => {
  it('trusts only a token signed with the stack secret', () => {
    expect(customerOfMessage(email(['x@example.com'], token('cus_1')), SECRET, NOW)).toBe('cus_1');
    const forged = signUnsubscribeToken(
      { customerId: 'cus_1', channel: 'email', campaignId: 'abandoned-cart', issuedAt: NOW },
      'another-secret-0123456789abcdef',
    );
    expect(customerOfMessage(email(['x@example.com'], forged), SECRET, NOW)).toBeUndefined();
    expect(customerOfMessage(email(['x@example.com']), SECRET, NOW)).toBeUndefined();
  });
});
