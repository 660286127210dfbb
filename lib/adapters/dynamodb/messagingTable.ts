// Messaging table (pk, sk): one partition per customer with what the send decision reads and writes,
// and one item per suppressed address.
//   pk <customerId>  sk state#cap#<localDay>             sends counted that day: `overall`, `ch_<channel>`
//                    sk state#consent#<purpose>#<channel> the latest consent record (status, source, at)
//                    sk state#entry#<campaignId>          the last entry: trigger key and time
//                    sk state#unsub                       the global unsubscribe switch (a consent record)
//                    sk send#<sendId>                     the send claim: claimed → sent | failed
//                    sk decision#<at>#<campaignId>#<triggerKey>  every decision (TTL 400 days)
//   pk supp#<channel>#<addressHash>  sk supp              a suppressed address (first reason and time)
// GSI byCampaign (campaignKey = `decision#<campaignId>` | `send#<campaignId>`, at): a campaign's decisions
// or sends, newest first, each kind exactly (the kind in the key, not a filter reading both).
// What the decision reads shares the `state#` prefix and the cap days sort by date: a snapshot is ONE
// Query of `state#cap#<oldest day asked>` .. `state#~`, which leaves out by key the growing logs (sends,
// decisions) and cap days older than asked — it reads a few dozen small items, whatever the history.
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConsentRecord, type Recorded, SuppressionRecord } from '../../campaigns/consent.js';
import {
  type DayCount,
  DecisionRecord,
  decodeListingCursor,
  Entry,
  encodeListingCursor,
  type ListingCursor,
  LOG_PREFIX,
  type LogKind,
  type MessagingSnapshot,
  type MessagingStore,
  type Page,
  type PageQuery,
  SendRecord,
} from '../../campaigns/messaging.js';
import { CHANNELS, type Channel, PURPOSES } from '../../campaigns/model.js';
import { isConditionFailed } from './errors.js';
import { queryAll } from './query.js';

export const CAMPAIGN_INDEX = 'byCampaign';
const STATE = 'state#';
const CAP = `${STATE}cap#`;
const CONSENT = `${STATE}consent#`;
const ENTRY = `${STATE}entry#`;
const UNSUB = `${STATE}unsub`;
/** Sorts after every `state#` key: the snapshot's upper bound. */
const STATE_END = `${STATE}~`;
const SEND = LOG_PREFIX.send;
const DECISION = LOG_PREFIX.decision;
const SUPPRESSION = 'supp';

const DAY_S = 86_400;
/** The decision log is kept 400 days (a year of reports and complaints, with a margin); so are sends. */
export const LOG_RETENTION_DAYS = 400;
/** Cap days live past the 7 local days a snapshot may ask for, then expire. */
const CAP_RETENTION_DAYS = 9;

const capKey = (localDay: string) => `${CAP}${localDay}`;
const consentKey = (purpose: string, channel: string) => `${CONSENT}${purpose}#${channel}`;
const entryKey = (campaignId: string) => `${ENTRY}${campaignId}`;
const sendKey = (sendId: string) => `${SEND}${sendId}`;
const decisionKey = (d: DecisionRecord) => `${DECISION}${d.at}#${d.campaignId}#${d.triggerKey}`;
const suppressionPk = (channel: string, addressHash: string) => `supp#${channel}#${addressHash}`;
const channelCount = (channel: Channel) => `ch_${channel}`;
const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

function dayCountOf(item: Record<string, unknown>): DayCount {
  const channels: Partial<Record<Channel, number>> = {};
  for (const channel of CHANNELS) {
    const n = item[channelCount(channel)];
    if (typeof n === 'number') channels[channel] = n;
  }
  return { overall: typeof item.overall === 'number' ? item.overall : 0, channels };
}

/** The snapshot of a customer's state items (validated as read) and of the addresses' suppressions. */
function snapshotOf(
  customerId: string,
  asked: ReadonlySet<string>,
  items: readonly Record<string, unknown>[],
  suppressions: readonly (Record<string, unknown> | undefined)[],
): MessagingSnapshot {
  const consent: MessagingSnapshot['consent'] = {};
  const caps: Record<string, DayCount> = {};
  const entries: Record<string, Entry> = {};
  const suppressed: MessagingSnapshot['suppressed'] = {};
  let unsubscribe: ConsentRecord | undefined;
  for (const item of items) {
    const sk = String(item.sk);
    if (sk.startsWith(CAP)) {
      const day = sk.slice(CAP.length);
      if (asked.has(day)) caps[day] = dayCountOf(item);
    } else if (sk.startsWith(CONSENT)) {
      const [purpose, channel] = sk.slice(CONSENT.length).split('#');
      const p = PURPOSES.find((x) => x === purpose);
      const c = CHANNELS.find((x) => x === channel);
      if (p && c) consent[p] = { ...consent[p], [c]: ConsentRecord.parse(item) };
    } else if (sk.startsWith(ENTRY)) {
      entries[sk.slice(ENTRY.length)] = Entry.parse(item);
    } else if (sk === UNSUB) {
      unsubscribe = ConsentRecord.parse(item);
    }
  }
  for (const item of suppressions) {
    if (!item) continue;
    const record = SuppressionRecord.parse(item);
    suppressed[record.channel] ??= record;
  }
  return { customerId, consent, unsubscribe, caps, entries, suppressed };
}

export function messagingTable(client: DynamoDBDocumentClient, table: string): MessagingStore {
  const get = async (pk: string, sk: string) =>
    (await client.send(new GetCommand({ TableName: table, Key: { pk, sk }, ConsistentRead: true }))).Item;

  /** A conditional write; false when its condition refused it (the designed answer, not a failure). */
  async function conditional(command: PutCommand | UpdateCommand): Promise<boolean> {
    try {
      await (command instanceof PutCommand ? client.send(command) : client.send(command));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  /** Latest wins (consent.ts `supersedes`): a later `at`, or a revocation at the same instant. */
  async function putLatest(
    pk: string,
    sk: string,
    record: ConsentRecord,
    extra: Record<string, unknown>,
  ): Promise<Recorded<ConsentRecord>> {
    const sameInstant = record.status === 'revoked' ? ' OR (#at = :at AND #status = :granted)' : '';
    const applied = await conditional(
      new PutCommand({
        TableName: table,
        Item: { ...extra, ...record, pk, sk },
        ConditionExpression: `attribute_not_exists(pk) OR #at < :at${sameInstant}`,
        ExpressionAttributeNames: { '#at': 'at', ...(sameInstant ? { '#status': 'status' } : {}) },
        ExpressionAttributeValues: { ':at': record.at, ...(sameInstant ? { ':granted': 'granted' } : {}) },
      }),
    );
    if (applied) return { applied, current: record };
    const stored = await get(pk, sk);
    return { applied, current: ConsentRecord.parse(stored) };
  }

  /**
   * A page of one log, newest first, resumable from a cursor the same listing made. The cursor is the last
   * item's keys (base table and index), so it resumes the base-table Query and the GSI Query alike.
   */
  async function listPage<T>(
    kind: LogKind,
    input: { index?: string; key: string; values: Record<string, unknown> },
    page: PageQuery,
    parse: (item: Record<string, unknown>) => T,
    startKey: (cursor: ListingCursor) => Record<string, unknown>,
  ): Promise<Page<T>> {
    const cursor = page.cursor === undefined ? undefined : decodeListingCursor(page.cursor, kind);
    if (page.cursor !== undefined && !cursor) throw new Error(`${kind} listing called with a foreign cursor`);
    const out = await client.send(
      new QueryCommand({
        TableName: table,
        IndexName: input.index,
        KeyConditionExpression: input.key,
        ExpressionAttributeValues: input.values,
        ScanIndexForward: false,
        Limit: page.limit,
        ExclusiveStartKey: cursor ? startKey(cursor) : undefined,
      }),
    );
    const raw = out.Items ?? [];
    const items = raw.map(parse);
    const last = raw.at(-1);
    if (!out.LastEvaluatedKey || !last) return { items };
    return {
      items,
      nextCursor: encodeListingCursor({ pk: String(last.pk), sk: String(last.sk), at: String(last.at) }),
    };
  }

  /** What the decision reads of a customer: cap days from `oldestDay` on, consent, entries, unsubscribe. */
  async function stateItems(customerId: string, oldestDay: string | undefined) {
    // A few dozen small items: one page; paging only guards the 1 MB page limit.
    return queryAll(client, {
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': customerId,
        ':from': oldestDay === undefined ? `${CAP}~` : capKey(oldestDay),
        ':to': STATE_END,
      },
      ConsistentRead: true,
    });
  }

  const byCampaign = <T>(
    kind: LogKind,
    campaignId: string,
    page: PageQuery,
    parse: (item: Record<string, unknown>) => T,
  ) => {
    const campaignKey = `${LOG_PREFIX[kind]}${campaignId}`;
    return listPage(
      kind,
      { index: CAMPAIGN_INDEX, key: 'campaignKey = :ck', values: { ':ck': campaignKey } },
      page,
      parse,
      (c) => ({ pk: c.pk, sk: c.sk, campaignKey, at: c.at }),
    );
  };

  return {
    async snapshot(customerId, { localDays, addresses = [] }) {
      const [items, suppressions] = await Promise.all([
        stateItems(customerId, [...localDays].sort()[0]),
        Promise.all(addresses.map(async (a) => get(suppressionPk(a.channel, a.addressHash), SUPPRESSION))),
      ]);
      return snapshotOf(customerId, new Set(localDays), items, suppressions);
    },

    putConsent(customerId, { purpose, channel, ...record }) {
      return putLatest(customerId, consentKey(purpose, channel), record, { purpose, channel });
    },

    putUnsubscribe(customerId, record) {
      return putLatest(customerId, UNSUB, record, {});
    },

    async suppress(record) {
      const pk = suppressionPk(record.channel, record.addressHash);
      const applied = await conditional(
        new PutCommand({
          TableName: table,
          Item: { ...record, pk, sk: SUPPRESSION },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { applied, current: applied ? record : SuppressionRecord.parse(await get(pk, SUPPRESSION)) };
    },

    async reserve(customerId, localDay, channel, caps) {
      // A cap below 1 allows nothing (the conditions below would let a first send through).
      if (caps.channel < 1 || caps.overall < 1) return 'capped';
      const reserved = await conditional(
        new UpdateCommand({
          TableName: table,
          Key: { pk: customerId, sk: capKey(localDay) },
          // One item per customer and day: DynamoDB applies its conditional updates one at a time, so
          // concurrent triggers can never count past a cap.
          UpdateExpression: 'ADD #ch :one, overall :one SET expiresAt = :exp',
          ConditionExpression:
            '(attribute_not_exists(#ch) OR #ch < :channelCap) AND (attribute_not_exists(overall) OR overall < :overallCap)',
          ExpressionAttributeNames: { '#ch': channelCount(channel) },
          ExpressionAttributeValues: {
            ':one': 1,
            ':channelCap': caps.channel,
            ':overallCap': caps.overall,
            ':exp': epochSeconds(`${localDay}T00:00:00Z`) + CAP_RETENTION_DAYS * DAY_S,
          },
        }),
      );
      return reserved ? 'reserved' : 'capped';
    },

    async release(customerId, localDay, channel) {
      // Never below zero: a release without its reservation (a retry) changes nothing.
      await conditional(
        new UpdateCommand({
          TableName: table,
          Key: { pk: customerId, sk: capKey(localDay) },
          UpdateExpression: 'ADD #ch :minus, overall :minus',
          ConditionExpression: '#ch > :zero AND overall > :zero',
          ExpressionAttributeNames: { '#ch': channelCount(channel) },
          ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
        }),
      );
    },

    async claimSend(claim) {
      const put: PutCommandInput = {
        TableName: table,
        Item: {
          ...claim,
          status: 'claimed',
          pk: claim.customerId,
          sk: sendKey(claim.sendId),
          campaignKey: `${SEND}${claim.campaignId}`,
          at: claim.claimedAt,
          expiresAt: epochSeconds(claim.claimedAt) + LOG_RETENTION_DAYS * DAY_S,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      };
      if (await conditional(new PutCommand(put))) return { status: 'claimed' };
      const record = SendRecord.parse(await get(claim.customerId, sendKey(claim.sendId)));
      return { status: 'already_claimed', record };
    },

    async getSend(customerId, sendId) {
      const item = await get(customerId, sendKey(sendId));
      return item ? SendRecord.parse(item) : undefined;
    },

    markSent(customerId, sendId, at, providerMessageId) {
      return conditional(
        new UpdateCommand({
          TableName: table,
          Key: { pk: customerId, sk: sendKey(sendId) },
          UpdateExpression: `SET #status = :sent, sentAt = :at${providerMessageId ? ', providerMessageId = :pid' : ''}`,
          ConditionExpression: '#status = :claimed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':sent': 'sent',
            ':claimed': 'claimed',
            ':at': at,
            ...(providerMessageId ? { ':pid': providerMessageId } : {}),
          },
        }),
      );
    },

    markFailed(customerId, sendId, at, error) {
      return conditional(
        new UpdateCommand({
          TableName: table,
          Key: { pk: customerId, sk: sendKey(sendId) },
          UpdateExpression: 'SET #status = :failed, failedAt = :at, #error = :error',
          ConditionExpression: '#status = :claimed',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: {
            ':failed': 'failed',
            ':claimed': 'claimed',
            ':at': at,
            ':error': error.slice(0, 1000),
          },
        }),
      );
    },

    async recordEntry(customerId, campaignId, entry) {
      // An older entry arriving late (a redelivery) keeps the newer one.
      await conditional(
        new PutCommand({
          TableName: table,
          Item: { ...entry, pk: customerId, sk: entryKey(campaignId) },
          ConditionExpression: 'attribute_not_exists(pk) OR #at < :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': entry.at },
        }),
      );
    },

    async logDecision(decision) {
      // The same decision logged again (a retried invocation) keeps its first item.
      await conditional(
        new PutCommand({
          TableName: table,
          Item: {
            ...decision,
            pk: decision.customerId,
            sk: decisionKey(decision),
            campaignKey: `${DECISION}${decision.campaignId}`,
            expiresAt: epochSeconds(decision.at) + LOG_RETENTION_DAYS * DAY_S,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },

    customerDecisions(customerId, page) {
      return listPage(
        'decision',
        {
          key: 'pk = :pk AND begins_with(sk, :kind)',
          values: { ':pk': customerId, ':kind': DECISION },
        },
        page,
        (item) => DecisionRecord.parse(item),
        // The partition is the customer asked for, whatever a cursor says.
        (c) => ({ pk: customerId, sk: c.sk }),
      );
    },

    campaignDecisions(campaignId, page) {
      return byCampaign('decision', campaignId, page, (item) => DecisionRecord.parse(item));
    },

    campaignSends(campaignId, page) {
      return byCampaign('send', campaignId, page, (item) => SendRecord.parse(item));
    },
  };
}
