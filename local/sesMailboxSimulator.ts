// SES's mailbox simulator on the local stack. On AWS, an e-mail to bounce@simulator.amazonses.com comes
// back as a hard bounce and one to complaint@simulator.amazonses.com as a complaint: the stage's
// configuration set publishes the event to EventBridge, whose rule (serverless.yml, EmailFeedbackRule)
// puts it on the email-feedback queue. The SES emulator delivers nothing and publishes no events, so this
// polls its store for new e-mails to those addresses and puts the event SES would publish on the queue the
// rule targets: the email-feedback consumer then runs exactly as on AWS, so a local demo or test can watch
// a bounce suppress an address.
//
// The emulator keeps an e-mail's headers but not its tags. The `customer` tag SES carries back (a complaint
// revokes that customer's consent) is recovered from the message's List-Unsubscribe link instead: its
// token names the customer and is verified with the stack's HMAC secret, so nothing unsigned is trusted.
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { verifyUnsubscribeToken } from '../lib/campaigns/unsubscribeToken.js';
import { getAttTarget, resourcesOfType, type ServiceDefinition } from './service.js';

const SIMULATOR_DOMAIN = 'simulator.amazonses.com';
const POLL_MS = 1_000;

/** What SES's simulator answers for a recipient (`bounce+label@...` is `bounce`), as the event it publishes. */
export type SimulatedOutcome =
  | { readonly detailType: 'Email Bounced'; readonly bounceSubType: 'General' | 'OnAccountSuppressionList' }
  | { readonly detailType: 'Email Complaint Received' };

export function simulatedOutcome(address: string): SimulatedOutcome | undefined {
  const match = /^([a-z]+)(?:\+[^@]*)?@(.+)$/i.exec(address.trim());
  if (!match || match[2]?.toLowerCase() !== SIMULATOR_DOMAIN) return undefined;
  switch (match[1]?.toLowerCase()) {
    case 'bounce':
      return { detailType: 'Email Bounced', bounceSubType: 'General' };
    case 'suppressionlist':
      return { detailType: 'Email Bounced', bounceSubType: 'OnAccountSuppressionList' };
    case 'complaint':
      return { detailType: 'Email Complaint Received' };
    default:
      // success@ is delivered, ooto@ answers with an auto-reply: neither is a bounce or a complaint.
      return undefined;
  }
}

/** An e-mail as the emulator's `GET /store` lists it (the fields read here). */
const StoredEmail = z.looseObject({
  messageId: z.string(),
  from: z.string(),
  destination: z.looseObject({ to: z.array(z.string()), cc: z.array(z.string()), bcc: z.array(z.string()) }),
  headers: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
  /** Epoch seconds. */
  at: z.number(),
});
export type StoredEmail = z.infer<typeof StoredEmail>;
const Store = z.looseObject({ emails: z.array(StoredEmail) });

/** The customer a message went to, from its verified List-Unsubscribe token; undefined when there is none. */
export function customerOfMessage(email: StoredEmail, secret: string, now: number): string | undefined {
  const header = email.headers?.find((h) => h.name.toLowerCase() === 'list-unsubscribe')?.value;
  const token = header?.match(/[?&]token=([A-Za-z0-9_.-]+)/)?.[1];
  if (token === undefined) return undefined;
  const verified = verifyUnsubscribeToken(token, secret, now);
  return verified.ok ? verified.value.customerId : undefined;
}

export interface SimulationContext {
  readonly region: string;
  readonly accountId: string;
  readonly configurationSet: string;
  readonly hmacSecret: string;
  readonly now: number;
}

/**
 * The EventBridge events SES would publish for an e-mail: one per simulator recipient, shaped as SES
 * event publishing writes them (events/sqs/email-feedback.json holds captured-shape samples).
 */
export function simulatedEvents(email: StoredEmail, context: SimulationContext): Record<string, unknown>[] {
  const recipients = [...email.destination.to, ...email.destination.cc, ...email.destination.bcc];
  const at = new Date(context.now).toISOString();
  const customerId = customerOfMessage(email, context.hmacSecret, context.now);
  const mail = {
    timestamp: new Date(email.at * 1000).toISOString(),
    source: email.from,
    sendingAccountId: context.accountId,
    messageId: email.messageId,
    destination: recipients,
    headersTruncated: false,
    tags: {
      'ses:configuration-set': [context.configurationSet],
      ...(customerId === undefined ? {} : { customer: [customerId] }),
    },
  };
  const events: Record<string, unknown>[] = [];
  for (const address of recipients) {
    const outcome = simulatedOutcome(address);
    if (outcome === undefined) continue;
    const feedbackId = `local-${email.messageId}-${events.length}`;
    const detail =
      outcome.detailType === 'Email Bounced'
        ? {
            eventType: 'Bounce',
            bounce: {
              feedbackId,
              bounceType: 'Permanent',
              bounceSubType: outcome.bounceSubType,
              bouncedRecipients: [
                {
                  emailAddress: address,
                  action: 'failed',
                  status: '5.1.1',
                  diagnosticCode: 'smtp; 550 5.1.1 user unknown',
                },
              ],
              timestamp: at,
              reportingMTA: `dns; ${SIMULATOR_DOMAIN}`,
            },
            mail,
          }
        : {
            eventType: 'Complaint',
            complaint: {
              feedbackId,
              complainedRecipients: [{ emailAddress: address }],
              timestamp: at,
              complaintFeedbackType: 'abuse',
              userAgent: 'Amazon SES Mailbox Simulator',
              arrivalDate: at,
            },
            mail,
          };
    events.push({
      version: '0',
      id: feedbackId,
      'detail-type': outcome.detailType,
      source: 'aws.ses',
      account: context.accountId,
      time: at,
      region: context.region,
      resources: [
        `arn:aws:ses:${context.region}:${context.accountId}:configuration-set/${context.configurationSet}`,
      ],
      detail,
    });
  }
  return events;
}

/** Where serverless.yml sends the stage's SES events: the queue the `aws.ses` rule targets. */
export function sesFeedbackQueueName(def: ServiceDefinition): string | undefined {
  for (const [, rule] of resourcesOfType(def, 'AWS::Events::Rule')) {
    const pattern = rule.Properties.EventPattern as { source?: unknown } | undefined;
    if (!Array.isArray(pattern?.source) || !pattern.source.includes('aws.ses')) continue;
    const targets = rule.Properties.Targets as { Arn?: unknown }[] | undefined;
    const queueId = getAttTarget(targets?.[0]?.Arn);
    const name = queueId ? def.resources.Resources[queueId]?.Properties.QueueName : undefined;
    if (typeof name === 'string') return name;
  }
  return undefined;
}

export interface MailboxSimulatorOptions extends Omit<SimulationContext, 'now'> {
  readonly sesEndpoint: string;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly onError: (error: unknown) => void;
  readonly pollMs?: number;
}

/**
 * Polls the emulator's store once a second and sends the events of every new simulator e-mail to the
 * feedback queue, each once (by message id) for the life of the stack. Returns the function that stops it.
 */
export function startMailboxSimulator(options: MailboxSimulatorOptions): () => Promise<void> {
  const seen = new Set<string>();
  // The store's `since` is in whole seconds and inclusive: re-reading the last second is what `seen` is for.
  let since = 0;
  let stopped = false;
  let polling: Promise<void> | undefined;
  const poll = async () => {
    const res = await fetch(`${options.sesEndpoint}/store?since=${since}`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`the SES emulator's store answered ${res.status}`);
    const { emails } = Store.parse(await res.json());
    for (const email of emails) {
      if (seen.has(email.messageId)) continue;
      for (const event of simulatedEvents(email, { ...options, now: Date.now() })) {
        await options.sqs.send(
          new SendMessageCommand({ QueueUrl: options.queueUrl, MessageBody: JSON.stringify(event) }),
        );
      }
      // Marked once its events are on the queue: a failed send is tried again at the next poll.
      seen.add(email.messageId);
      since = Math.max(since, email.at);
    }
  };
  const timer = setInterval(() => {
    // One poll at a time: a slow one (a busy machine) is not joined by the next second's.
    if (stopped || polling) return;
    polling = poll()
      .catch(options.onError)
      .finally(() => {
        polling = undefined;
      });
  }, options.pollMs ?? POLL_MS);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await polling;
  };
}
