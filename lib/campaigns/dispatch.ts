// One candidate to its end: the customer read, the audience, the messaging snapshot, the pure send
// decision (logged whatever it says), then for a send the cap reservation, the send claim, the coupon,
// the render and the channel; for control and holdout the exposure without a send; for a skip its count;
// for a defer a wait in the waits table. Every step is idempotent per send id (a hash of campaign, customer
// and trigger key): a candidate decided twice — a redelivered activity, a timer fired twice — sends once.
// docs/campaigns.md, "The path of a message".
import { createHash } from 'node:crypto';
import { findCustomer, type LookupDeps } from '../customers/lookup.js';
import { ANON, nodeType, USER } from '../identity/nodes.js';
import type { Logger } from '../log.js';
import type { PiiCipher } from '../pii/cipher.js';
import { isPiiToken } from '../pii/cipher.js';
import { mergePartials } from '../profiles/merge.js';
import type { PartialStore } from '../profiles/store.js';
import { type CustomerView, customerView } from '../profiles/view.js';
import type { Assignment } from '../segmentation/model.js';
import type { RunStore } from '../segmentation/ports.js';
import { SEGMENTS } from '../segmentation/segments.js';
import type { TagCatalogue } from '../tags/catalogue.js';
import { tagSubject, withTags } from '../tags/evaluate.js';
import type { Group } from './attribution.js';
import { type AudienceSnapshot, evaluateAudience } from './audience.js';
import { type ChannelMessage, type ChannelSender, listUnsubscribeHeaders } from './channels.js';
import { type CouponDeps, issueCoupon } from './coupons.js';
import {
  capDays,
  type Decision,
  type DecisionInput,
  type DecisionSettings,
  decide,
  localDay,
  type MessagingView,
  reservationCaps,
} from './decision.js';
import { suppressionOfRejection } from './feedback.js';
import type { Address, MessagingStore } from './messaging.js';
import type { Campaign, Channel, Variant } from './model.js';
import { recordExposure, recordSkip, type StatsDeps } from './reportStore.js';
import { type MessageContext, renderMessage } from './templates.js';
import type { Candidate } from './triggers.js';
import { signUnsubscribeToken } from './unsubscribeToken.js';
import { deferredSend, type WaitStore } from './waits.js';

/** What the dispatcher reads of a customer: the live profile, the published segment, the address hashes. */
export interface Recipient {
  readonly customerId: string;
  readonly view: CustomerView;
  readonly assignment?: Pick<Assignment, 'segment' | 'rfm' | 'predictions' | 'recommendations'>;
  /** Keyed hashes of the customer's e-mails and phones (suppression is checked by hash, never by address). */
  readonly addresses: readonly Address[];
}

export interface RecipientReader {
  /** The customer as it is now (a merged customer's survivor), or undefined for an unknown id. */
  read(customerId: string, now: number): Promise<Recipient | undefined>;
}

/** The identifier types of the identity index that are channel addresses. */
const ADDRESS_CHANNEL: Readonly<Record<string, Channel>> = { email: 'email', phone: 'sms' };

/** Reads a recipient from the identity index, the partial profiles and the published segmentation. */
export function recipientReader(deps: {
  readonly lookup: LookupDeps;
  readonly partials: Pick<PartialStore, 'getMany'>;
  readonly segments: Pick<RunStore, 'getAssignment'>;
}): RecipientReader {
  return {
    async read(customerId, now) {
      // A customer merged away since its activity was published: its survivor gets the message.
      const customer = await findCustomer(customerId, deps.lookup);
      if (customer === undefined) return undefined;
      // Partials exist for userIds and anonymousIds only.
      const counted = customer.members.filter((m) => nodeType(m) === USER || nodeType(m) === ANON);
      const [partials, assignment] = await Promise.all([
        deps.partials.getMany(counted),
        deps.segments.getAssignment(customer.customerId),
      ]);
      const view = customerView(mergePartials([...partials.values()]), now);
      const addresses = view.identifiers.flatMap((i): Address[] => {
        const channel = ADDRESS_CHANNEL[i.type];
        return channel === undefined ? [] : [{ channel, addressHash: i.hash }];
      });
      return {
        customerId: customer.customerId,
        view,
        ...(assignment ? { assignment } : {}),
        addresses,
      };
    },
  };
}

/**
 * What the campaign's audience reads of the recipient: tags are evaluated from their definitions on this
 * very snapshot (only when a condition names one), so a tag condition never lags the stored tags.
 */
export async function audienceOf(
  campaign: Pick<Campaign, 'audience'>,
  recipient: Pick<Recipient, 'view' | 'assignment'>,
  tags: TagCatalogue | undefined,
  now: number,
): Promise<AudienceSnapshot> {
  const subject = tagSubject(recipient.view, recipient.assignment, now);
  if (tags === undefined || !campaign.audience.some((c) => c.kind === 'tag')) return subject.snapshot;
  return withTags(subject, await tags(now));
}

export interface DispatchDeps {
  /** The enabled campaign of an id (the engine's cache), or undefined when it is off or gone. */
  readonly campaign: (id: string) => Promise<Campaign | undefined>;
  readonly recipients: RecipientReader;
  /** The enabled tag definitions, for audiences with tag conditions (absent: such conditions never hold). */
  readonly tags?: TagCatalogue;
  readonly messaging: MessagingStore;
  readonly waits: WaitStore;
  readonly coupons: CouponDeps;
  readonly channels: ChannelSender;
  readonly stats: StatsDeps;
  readonly settings: DecisionSettings;
  /** Decrypts the customer's sealed traits: only for the message being rendered, never logged. */
  readonly cipher: PiiCipher;
  /** The stage's HMAC secret: unsubscribe tokens are signed with a key derived from it. */
  readonly secret: () => Promise<string>;
  /** The public API's base URL (unsubscribe links: `<base>/v1/unsubscribe?token=`). */
  readonly publicBaseUrl: string;
  /** The webhook channel's URL, when the stage has one. */
  readonly webhookUrl?: string;
  readonly log: Logger;
}

export type Dispatched =
  | 'inactive'
  | 'unknown_customer'
  | 'audience'
  | 'sent'
  | 'already_sent'
  | 'rejected'
  | 'control'
  | 'holdout'
  | 'skip'
  | 'defer';

/**
 * The send id of one occurrence: `snd_` + a hash of campaign, customer and trigger key (no version: an
 * edit of the campaign must not send the same occurrence again).
 */
export function sendIdOf(c: Pick<Candidate, 'campaignId' | 'customerId' | 'triggerKey'>): string {
  const hash = createHash('sha256')
    .update(`${c.campaignId}\n${c.customerId}\n${c.triggerKey}`)
    .digest('base64url');
  return `snd_${hash.slice(0, 32)}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Decides one candidate and carries the decision out. Throws only for what a retry may fix. */
export async function dispatchCandidate(
  candidate: Candidate,
  now: number,
  deps: DispatchDeps,
): Promise<Dispatched> {
  const campaign = await deps.campaign(candidate.campaignId);
  if (campaign === undefined) return 'inactive';
  const recipient = await deps.recipients.read(candidate.customerId, now);
  if (recipient === undefined) {
    deps.log.warn('campaign candidate of an unknown customer', { campaignId: campaign.id });
    return 'unknown_customer';
  }
  // Decisions, claims and counters are keyed by the customer the index knows now (a merge's survivor).
  const c: Candidate = { ...candidate, customerId: recipient.customerId };
  const sendId = sendIdOf(c);
  const base = {
    customerId: c.customerId,
    campaignId: campaign.id,
    campaignVersion: campaign.version,
    triggerKey: c.triggerKey,
    at: iso(now),
  };
  const segment = recipient.assignment?.segment;
  const audience = evaluateAudience(campaign.audience, await audienceOf(campaign, recipient, deps.tags, now));
  if (!audience.ok) {
    await deps.messaging.logDecision({
      ...base,
      outcome: 'skip',
      reason: 'audience',
      details: { condition: audience.index, explain: [audience.reason] },
    });
    return 'audience';
  }
  const decided = await decideNow(campaign, c, recipient, now, deps);
  const { decision } = decided;
  switch (decision.outcome) {
    case 'send':
      return send(campaign, c, recipient, decided, sendId, now, deps);
    case 'control':
    case 'holdout':
      await deps.messaging.recordEntry(c.customerId, campaign.id, { triggerKey: c.triggerKey, at: iso(now) });
      await exposure(campaign, c, decision.outcome, sendId, decision.sendAt ?? now, segment, decision, deps);
      return decision.outcome;
    case 'skip':
      await skipped(campaign, sendId, decision, now, segment, deps);
      return 'skip';
    case 'defer':
      await deferTo(c, decision.sendAt ?? now, now, deps);
      return 'defer';
  }
}

/** What the pure decision reads of a candidate, its recipient and their messaging state (also the back-test's). */
export function decisionInput(
  campaign: Campaign,
  c: Candidate,
  recipient: Recipient,
  messaging: MessagingView,
  now: number,
  settings: DecisionSettings,
): DecisionInput {
  const { view } = recipient;
  const firstDecidedAt = typeof c.context.firstDecidedAt === 'number' ? c.context.firstDecidedAt : undefined;
  return {
    campaign,
    candidate: {
      customerId: c.customerId,
      triggerKey: c.triggerKey,
      eventAt: Date.parse(c.triggeredAt),
      now,
      ...(firstDecidedAt === undefined ? {} : { firstDecidedAt }),
    },
    customer: {
      ...(view.timezone ? { timezone: view.timezone } : {}),
      reachable: {
        email: isPiiToken(view.traits.email?.v),
        sms: isPiiToken(view.traits.phone?.v),
        push: typeof view.traits.pushToken?.v === 'string',
      },
      activeHours: view.aggregates.hours,
    },
    messaging,
    settings,
  };
}

/** A decision with the messaging snapshot it was made on (a send reserves its caps against it). */
interface Decided {
  readonly decision: Decision;
  readonly messaging: MessagingView;
}

/** The messaging snapshot and the pure decision, logged whatever it says. */
async function decideNow(
  campaign: Campaign,
  c: Candidate,
  recipient: Recipient,
  now: number,
  deps: DispatchDeps,
): Promise<Decided> {
  const messaging = await deps.messaging.snapshot(c.customerId, {
    localDays: capDays(now, recipient.view.timezone, deps.settings.defaultZone),
    addresses: recipient.addresses,
  });
  const decision = decide(decisionInput(campaign, c, recipient, messaging, now, deps.settings));
  await deps.messaging.logDecision({
    customerId: c.customerId,
    campaignId: campaign.id,
    campaignVersion: campaign.version,
    triggerKey: c.triggerKey,
    at: iso(now),
    outcome: decision.outcome,
    reason: decision.reason,
    ...(decision.channel ? { channel: decision.channel } : {}),
    ...(decision.variant ? { variant: decision.variant } : {}),
    ...(decision.outcome === 'send' ? { sendId: sendIdOf(c) } : {}),
    ...(decision.outcome === 'defer' && decision.sendAt !== undefined
      ? { deferUntil: iso(decision.sendAt) }
      : {}),
    details: { explain: decision.explain },
  });
  return { decision, messaging };
}

/** A send later than a minute from now (a best hour) waits in the waits table like a deferral. */
const LATER_MS = 60_000;

async function send(
  campaign: Campaign,
  c: Candidate,
  recipient: Recipient,
  { decision, messaging }: Decided,
  sendId: string,
  now: number,
  deps: DispatchDeps,
): Promise<Dispatched> {
  if (decision.sendAt !== undefined && decision.sendAt > now + LATER_MS) {
    await deferTo(c, decision.sendAt, now, deps);
    return 'defer';
  }
  const channel = decision.channel;
  const variant = campaign.variants.find((v) => v.id === decision.variant);
  if (channel === undefined || variant === undefined)
    throw new Error('a send decision without channel or variant');
  const day = localDay(now, recipient.view.timezone, deps.settings.defaultZone);
  const reserved = await deps.messaging.reserve(
    c.customerId,
    day,
    channel,
    reservationCaps(deps.settings.caps, channel, messaging.caps, day),
  );
  if (reserved === 'capped') {
    // Another send took the day's last slot since the snapshot: decide again on the counts as they are
    // now (the campaign's whenCapped: skip, defer or the next channel).
    const redecided = await decideNow(campaign, c, recipient, now, deps);
    const again = redecided.decision;
    if (again.outcome === 'send') return send(campaign, c, recipient, redecided, sendId, now, deps);
    if (again.outcome === 'defer') await deferTo(c, again.sendAt ?? now, now, deps);
    else await skipped(campaign, sendId, again, now, recipient.assignment?.segment, deps);
    return again.outcome === 'defer' ? 'defer' : 'skip';
  }
  const claim = await deps.messaging.claimSend({
    sendId,
    customerId: c.customerId,
    campaignId: campaign.id,
    campaignVersion: campaign.version,
    triggerKey: c.triggerKey,
    channel,
    variant: variant.id,
    claimedAt: iso(now),
  });
  // A claim left `claimed` by a delivery that died before the channel answered is carried on (the
  // channels deduplicate on sendId); one already sent or failed is done.
  if (claim.status === 'already_claimed' && claim.record.status !== 'claimed') {
    await deps.messaging.release(c.customerId, day, channel);
    // A delivery that sent and then failed before its exposure was counted (a busy counter): counted now
    // (once: the exposure is keyed by the send id).
    const { record } = claim;
    if (record.status === 'sent') {
      const at = Date.parse(record.sentAt ?? record.claimedAt);
      await exposure(campaign, c, 'treated', sendId, at, recipient.assignment?.segment, record, deps);
    }
    return 'already_sent';
  }
  const coupon =
    campaign.coupon === undefined
      ? undefined
      : (
          await issueCoupon(
            { customerId: c.customerId, campaignId: campaign.id, triggerKey: c.triggerKey },
            campaign.coupon,
            now,
            deps.coupons,
          )
        ).coupon;
  const message = await messageOf(campaign, variant, channel, c, recipient, sendId, coupon, now, deps);
  if (!message.ok) {
    await deps.messaging.markFailed(c.customerId, sendId, iso(now), message.error);
    await deps.messaging.release(c.customerId, day, channel);
    deps.log.warn('campaign message not sent', { campaignId: campaign.id, sendId, error: message.error });
    return 'rejected';
  }
  const result = await deps.channels.send(message.value);
  if (result.status === 'rejected') {
    await closeRejected(message.value, result, day, now, deps);
    return 'rejected';
  }
  await deps.messaging.markSent(c.customerId, sendId, iso(now), result.providerId);
  await deps.messaging.recordEntry(c.customerId, campaign.id, { triggerKey: c.triggerKey, at: iso(now) });
  await exposure(campaign, c, 'treated', sendId, now, recipient.assignment?.segment, decision, deps);
  return 'sent';
}

/**
 * A message the channel refused: an address refused for good is suppressed before the claim is closed
 * (a retry of this delivery finds the claim failed, and no later campaign tries the address again), then
 * the claim is marked failed and the day's cap slot given back.
 */
async function closeRejected(
  message: ChannelMessage,
  rejection: { readonly reason: string; readonly permanent: boolean },
  day: string,
  now: number,
  deps: DispatchDeps,
): Promise<void> {
  const suppression = suppressionOfRejection(message, rejection, await deps.secret(), iso(now));
  if (suppression !== undefined) await deps.messaging.suppress(suppression);
  await deps.messaging.markFailed(message.customerId, message.sendId, iso(now), rejection.reason);
  await deps.messaging.release(message.customerId, day, message.channel);
}

type Built = { ok: true; value: ChannelMessage } | { ok: false; error: string };
type IssuedCouponView = Awaited<ReturnType<typeof issueCoupon>>['coupon'];

/** Renders the variant's content for the channel and addresses it (the only place PII is decrypted). */
async function messageOf(
  campaign: Campaign,
  variant: Variant,
  channel: Channel,
  c: Candidate,
  recipient: Recipient,
  sendId: string,
  coupon: IssuedCouponView | undefined,
  now: number,
  deps: DispatchDeps,
): Promise<Built> {
  const traits: Record<string, unknown> = {};
  await Promise.all(
    Object.entries(recipient.view.traits).map(async ([name, t]) => {
      traits[name] = isPiiToken(t.v) ? await deps.cipher.decrypt(t.v) : t.v;
    }),
  );
  const token = signUnsubscribeToken(
    { customerId: c.customerId, channel, campaignId: campaign.id, issuedAt: now },
    await deps.secret(),
  );
  const unsubscribeUrl = `${deps.publicBaseUrl.replace(/\/+$/, '')}/v1/unsubscribe?token=${token}`;
  const context = messageContext(c, recipient, traits, coupon, deps.settings.defaultZone);
  const rendered = renderMessage(campaign, variant, channel, {
    ...context,
    ...(channel === 'email' || channel === 'sms' ? { unsubscribeUrl } : {}),
  });
  if (!rendered.ok) return { ok: false, error: rendered.message };
  const ids = { sendId, campaignId: campaign.id, customerId: c.customerId };
  return addressed(channel, rendered.value as Record<string, string>, traits, ids, unsubscribeUrl, deps);
}

/** What templates see of the recipient (every catalogue path present; null when unknown). */
export function messageContext(
  c: Candidate,
  { view, assignment }: Recipient,
  traits: Record<string, unknown>,
  coupon: IssuedCouponView | undefined,
  defaultZone: string,
): MessageContext {
  const segmentId = assignment?.segment ?? null;
  return {
    customer: {
      id: c.customerId,
      traits,
      timezone: view.timezone ?? defaultZone,
      orders: view.orders,
      netRevenue: view.netRevenue,
      lastOrderAt: view.lastOrderAt ?? null,
      cart: {
        // The profile keeps product ids and prices of cart lines, not names or links.
        items: view.cart.items.map((i) => ({
          id: i.productId,
          name: i.productId,
          price: i.price ?? null,
          currency: view.currency ?? null,
          quantity: i.quantity,
          url: null,
          imageUrl: null,
        })),
        value: view.cart.value,
        quantity: view.cart.quantity,
      },
    },
    segment: { id: segmentId, title: segmentId === null ? null : SEGMENTS[segmentId].title },
    rfm: { label: assignment?.rfm?.segment ?? null },
    ...(coupon && {
      coupon: {
        code: coupon.code,
        kind: coupon.kind,
        value: coupon.value ?? null,
        currency: coupon.currency ?? null,
        expiresAt: coupon.expiresAt,
      },
    }),
    // The published run's recommendations (docs/models.md): ids only, as for the cart (no catalogue).
    products: (assignment?.recommendations ?? []).map((r) => ({
      id: r.item,
      name: r.item,
      price: null,
      currency: null,
      quantity: 1,
      url: null,
      imageUrl: null,
    })),
  };
}

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** The rendered content addressed on its channel, or why it cannot be (no address, no webhook). */
function addressed(
  channel: Channel,
  r: Record<string, string>,
  traits: Record<string, unknown>,
  ids: { sendId: string; campaignId: string; customerId: string },
  unsubscribeUrl: string,
  deps: Pick<DispatchDeps, 'webhookUrl'>,
): Built {
  const missing = (what: string): Built => ({ ok: false, error: `no ${what}` });
  switch (channel) {
    case 'email': {
      const to = text(traits.email);
      if (to === undefined) return missing('e-mail address');
      const headers = listUnsubscribeHeaders(unsubscribeUrl);
      const content = { subject: r.subject ?? '', html: r.html ?? '', text: r.text ?? '' };
      return { ok: true, value: { channel, ...ids, to, ...content, headers } };
    }
    case 'sms': {
      const to = text(traits.phone);
      if (to === undefined) return missing('phone number');
      return { ok: true, value: { channel, ...ids, to, text: r.text ?? '' } };
    }
    case 'push': {
      const to = text(traits.pushToken);
      if (to === undefined) return missing('push token');
      return { ok: true, value: { channel, ...ids, to, title: r.title ?? '', body: r.body ?? '' } };
    }
    case 'webhook':
      if (deps.webhookUrl === undefined) return missing('webhook configured');
      return { ok: true, value: { channel, ...ids, url: deps.webhookUrl, body: JSON.parse(r.body ?? '{}') } };
  }
}

/** An exposure, counted once; a concurrent count of the same one ('busy') fails the record for a retry. */
async function exposure(
  campaign: Campaign,
  c: Candidate,
  group: Group,
  exposureId: string,
  at: number,
  segment: string | undefined,
  decision: { readonly channel?: Channel; readonly variant?: string },
  deps: DispatchDeps,
): Promise<void> {
  const outcome = await recordExposure(
    {
      campaignId: campaign.id,
      version: campaign.version,
      customerId: c.customerId,
      group,
      exposureId,
      at: iso(at),
      goal: campaign.goal,
      ...(segment ? { segment } : {}),
      ...(decision.channel ? { channel: decision.channel } : {}),
      ...(decision.variant ? { variant: decision.variant } : {}),
    },
    deps.stats,
  );
  if (outcome === 'busy') throw new Error(`exposure ${exposureId} is being counted by another delivery`);
}

async function skipped(
  campaign: Campaign,
  decisionId: string,
  decision: Decision,
  now: number,
  segment: string | undefined,
  deps: DispatchDeps,
): Promise<void> {
  const outcome = await recordSkip(
    {
      campaignId: campaign.id,
      decisionId,
      reason: decision.reason,
      at: iso(now),
      ...(segment ? { segment } : {}),
      ...(decision.channel ? { channel: decision.channel } : {}),
      ...(decision.variant ? { variant: decision.variant } : {}),
    },
    deps.stats,
  );
  if (outcome === 'busy') throw new Error(`skip ${decisionId} is being counted by another delivery`);
}

/** A decided send put off: a wait nothing cancels, decided again when it fires (staleness from now). */
async function deferTo(c: Candidate, at: number, now: number, deps: DispatchDeps): Promise<void> {
  const firstDecidedAt = typeof c.context.firstDecidedAt === 'number' ? c.context.firstDecidedAt : now;
  await deps.waits.open(
    deferredSend({ ...c, context: { ...c.context, firstDecidedAt } }, Math.max(at, now)),
    now,
  );
}
