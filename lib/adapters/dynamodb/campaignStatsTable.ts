// Campaign-stats table (pk, sk; TTL attribute expiresAt): report counters and the events behind them.
//   pk "stats#<campaignId>"          sk "<group>#<dimension>"   counters of one group (treated, control,
//                                                                holdout, skipped) across one dimension
//                                                                (all, segment#<id>, channel#<c>, variant#<v>)
//   pk "customer#<customerId>"       sk "exposure#<campaignId>#<exposureId>"    the exposure (send or
//                                                                control assignment), kept for attribution
//                                    sk "conversion#<campaignId>#<exposureId>"  its one conversion
//                                    sk "delivery#<campaignId>#<exposureId>"    its one delivery report
//   pk "skip#<campaignId>#<decisionId>" sk "skip"               one skipped candidate
// Every item but the counters is an event marker and expires (TTL) once no redelivery can come any more.
//
// Exactly-once counting without transactions (the local emulator, dynalite, has no TransactWriteItems,
// and a transaction would cost twice the writes anyway). A marker alone (conditional put, then ADD) would
// lose the count of a consumer that dies between the two, and ADD alone is not idempotent (a redelivery,
// or the SDK retrying a timed-out request, adds twice). So:
//   1. the event's marker is put with its tally, state `applying`, a random token and a lease
//      (attribute_not_exists). An existing marker in state `done` is a duplicate; in `applying` under a
//      live lease, another consumer is at work ('busy': the record comes back later); past its lease,
//      its consumer died, and this one takes it over (token compare-and-set) and finishes the stored tally;
//   2. each counter row gets `ADD <metrics>, inflight {eventId}` on condition `NOT contains(inflight,
//      eventId)`: a row already counted by the dead consumer refuses the second ADD, atomically;
//   3. the marker is set `done` (on condition the token is still ours);
//   4. the event id is removed from each row's `inflight` set, which so holds only events being applied.
// The lease must outlast the consuming function's timeout (as the archive's dedup lease does), so that
// at most one consumer applies an event at a time and step 4 never races a step 2. Cost per event: the
// marker put and its `done` update, and two writes per counter row (one to four rows).
import { createHash, randomUUID } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { Exposure, Group } from '../../campaigns/attribution.js';
import {
  type ApplyOutcome,
  type CampaignStatsStore,
  type CounterRow,
  type Dimension,
  METRICS,
  type Tally,
  ZERO,
} from '../../campaigns/reportStore.js';
import { isConditionFailed } from './errors.js';
import { queryAll } from './query.js';

const DAY_MS = 86_400_000;
/** Markers outlive the longest SQS retention (14 days) past their event: no redelivery finds them gone. */
const REDELIVERY_HORIZON_MS = 14 * DAY_MS;
const SKIP_PREFIX = 'skipped.';

type MarkerKey = { readonly pk: string; readonly sk: string };

const statsKey = (campaignId: string) => `stats#${campaignId}`;
const customerKey = (customerId: string) => `customer#${customerId}`;
const exposureSk = (kind: 'exposure' | 'conversion' | 'delivery', campaignId: string, exposureId: string) =>
  `${kind}#${campaignId}#${exposureId}`;

const StoredTally = z.object({
  campaignId: z.string(),
  group: z.union([Group, z.literal('skipped')]),
  dimensions: z.array(z.string().regex(/^(all|(segment|channel|variant)#.+)$/)),
  adds: z.partialRecord(z.enum(METRICS), z.number()),
  skipReason: z.string().optional(),
  at: z.string(),
});

const Marker = z.object({
  state: z.enum(['applying', 'done']),
  token: z.string(),
  leaseUntil: z.number(),
  tally: StoredTally,
});

const Count = z.number().optional();
const CounterItem = z
  .object({
    group: z.union([Group, z.literal('skipped')]),
    dimension: z.string(),
    firstAt: z.string().optional(),
    candidates: Count,
    members: Count,
    sent: Count,
    delivered: Count,
    converted: Count,
    revenue: Count,
    revenueSq: Count,
  })
  .catchall(z.unknown());

/** A counter item as the report reads it: metrics, and `skipped.<reason>` attributes as a map. */
function rowOf(item: z.infer<typeof CounterItem>): CounterRow {
  const skipped: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(SKIP_PREFIX)) skipped[name.slice(SKIP_PREFIX.length)] = z.number().parse(value);
  }
  const counters = { ...ZERO, skipped };
  for (const metric of METRICS) Object.assign(counters, { [metric]: item[metric] ?? 0 });
  return { group: item.group, dimension: item.dimension as Dimension, counters };
}

export function campaignStatsTable(
  client: DynamoDBDocumentClient,
  table: string,
  leaseMs: number,
): CampaignStatsStore {
  const queryTable = (input: Omit<QueryCommandInput, 'TableName'>) =>
    queryAll(client, { ...input, TableName: table });

  /** Step 2: one row's ADD, refused if this event already counted there. */
  async function addToRow(tally: Tally, dimension: Dimension, eventId: string): Promise<void> {
    const names: Record<string, string> = { '#inflight': 'inflight' };
    const values: Record<string, unknown> = {
      ':event': new Set([eventId]),
      ':id': eventId,
      ':campaign': tally.campaignId,
      ':group': tally.group,
      ':dimension': dimension,
      ':at': tally.at,
    };
    const adds = ['#inflight :event'];
    for (const [metric, value] of Object.entries(tally.adds)) {
      names[`#${metric}`] = metric;
      values[`:${metric}`] = value;
      adds.push(`#${metric} :${metric}`);
    }
    if (tally.skipReason !== undefined) {
      names['#skip'] = SKIP_PREFIX + tally.skipReason;
      values[':one'] = 1;
      adds.push('#skip :one');
    }
    // Refused: this event already counted on this row (a consumer that died after it).
    const add = new UpdateCommand({
      TableName: table,
      Key: { pk: statsKey(tally.campaignId), sk: `${tally.group}#${dimension}` },
      UpdateExpression:
        `ADD ${adds.join(', ')} ` +
        'SET campaignId = :campaign, #group = :group, #dimension = :dimension, firstAt = if_not_exists(firstAt, :at)',
      ConditionExpression: 'NOT contains(#inflight, :id)',
      ExpressionAttributeNames: { ...names, '#group': 'group', '#dimension': 'dimension' },
      ExpressionAttributeValues: values,
    });
    await conditional(() => client.send(add));
  }

  /** Step 4: the event is no longer in flight on its rows. */
  const clearInflight = (tally: Tally, eventId: string) =>
    Promise.all(
      tally.dimensions.map((dimension) =>
        client.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: statsKey(tally.campaignId), sk: `${tally.group}#${dimension}` },
            UpdateExpression: 'DELETE inflight :event',
            ExpressionAttributeValues: { ':event': new Set([eventId]) },
          }),
        ),
      ),
    );

  /** Condition-failed means "refused as designed": false; anything else is thrown. */
  const conditional = async (write: () => Promise<unknown>): Promise<boolean> => {
    try {
      await write();
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  };

  type Claim = { readonly tally: Tally; readonly token: string } | 'duplicate' | 'busy';

  /** Step 1: the marker is ours (new, or taken over from a dead consumer), done already, or busy. */
  async function claim(
    key: MarkerKey,
    record: Record<string, unknown>,
    tally: Tally,
    expiresAtMs: number,
    now: number,
    eventId: string,
  ): Promise<Claim> {
    const token = randomUUID();
    const item = { ...record, ...key, state: 'applying', token, leaseUntil: now + leaseMs, tally };
    const put = new PutCommand({
      TableName: table,
      Item: { ...item, expiresAt: Math.floor(expiresAtMs / 1000) },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    if (await conditional(() => client.send(put))) return { tally, token };
    const existing = await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    const marker = Marker.parse(existing.Item);
    const stored = marker.tally as Tally;
    if (marker.state === 'done') {
      // A consumer may have died between `done` and clearing the rows: clearing again is harmless.
      await clearInflight(stored, eventId);
      return 'duplicate';
    }
    if (marker.leaseUntil > now) return 'busy';
    const takeOver = new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: 'SET #token = :new, leaseUntil = :lease',
      ConditionExpression: '#token = :old AND #state = :applying',
      ExpressionAttributeNames: { '#token': 'token', '#state': 'state' },
      ExpressionAttributeValues: {
        ':new': token,
        ':old': marker.token,
        ':lease': now + leaseMs,
        ':applying': 'applying',
      },
    });
    return (await conditional(() => client.send(takeOver))) ? { tally: stored, token } : 'busy';
  }

  /** Applies `tally` once under the marker (pk, sk); `record` is what the marker keeps besides. */
  async function applyOnce(
    key: MarkerKey,
    record: Record<string, unknown>,
    tally: Tally,
    expiresAtMs: number,
    now: number,
  ): Promise<ApplyOutcome> {
    // The rows' in-flight sets name the event by a short hash of its marker's key.
    const eventId = createHash('sha256').update(`${key.pk}\n${key.sk}`).digest('base64url').slice(0, 22);
    const claimed = await claim(key, record, tally, expiresAtMs, now, eventId);
    if (typeof claimed === 'string') return claimed;
    const applying = claimed.tally;
    await Promise.all(applying.dimensions.map((dimension) => addToRow(applying, dimension, eventId)));
    const done = new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: 'SET #state = :done',
      ConditionExpression: '#token = :token',
      ExpressionAttributeNames: { '#state': 'state', '#token': 'token' },
      ExpressionAttributeValues: { ':done': 'done', ':token': claimed.token },
    });
    // Refused: our lease ran out and another consumer took over; it finishes (rows refuse a second ADD).
    if (!(await conditional(() => client.send(done)))) return 'busy';
    await clearInflight(applying, eventId);
    return 'applied';
  }

  const exposureKey = (e: Exposure, kind: 'exposure' | 'conversion' | 'delivery') => ({
    pk: customerKey(e.customerId),
    sk: exposureSk(kind, e.campaignId, e.exposureId),
  });
  /** An exposure's markers live as long as a goal or delivery report can still come for it. */
  const exposureExpiry = (e: Exposure) =>
    Date.parse(e.at) + e.goal.windowDays * DAY_MS + REDELIVERY_HORIZON_MS;

  return {
    recordExposure(exposure, tally, now) {
      return applyOnce(
        exposureKey(exposure, 'exposure'),
        { kind: 'exposure', exposure },
        tally,
        exposureExpiry(exposure),
        now,
      );
    },

    recordConversion(exposure, goal, tally, now) {
      return applyOnce(
        exposureKey(exposure, 'conversion'),
        { kind: 'conversion', goal },
        tally,
        exposureExpiry(exposure),
        now,
      );
    },

    recordDelivery(exposure, tally, now) {
      return applyOnce(
        exposureKey(exposure, 'delivery'),
        { kind: 'delivery' },
        tally,
        exposureExpiry(exposure),
        now,
      );
    },

    recordSkip(skip, tally, now) {
      return applyOnce(
        { pk: `skip#${skip.campaignId}#${skip.decisionId}`, sk: 'skip' },
        { kind: 'skip', reason: skip.reason },
        tally,
        Date.parse(skip.at) + REDELIVERY_HORIZON_MS,
        now,
      );
    },

    async exposuresOf(customerId) {
      const items = await queryTable({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :exposure)',
        ExpressionAttributeValues: { ':pk': customerKey(customerId), ':exposure': 'exposure#' },
        ProjectionExpression: 'exposure',
      });
      return items.map((item) => Exposure.parse(item.exposure));
    },

    async exposure(customerId, campaignId, exposureId) {
      const out = await client.send(
        new GetCommand({
          TableName: table,
          Key: { pk: customerKey(customerId), sk: exposureSk('exposure', campaignId, exposureId) },
          ConsistentRead: true,
        }),
      );
      return out.Item ? Exposure.parse(out.Item.exposure) : undefined;
    },

    async counters(campaignId) {
      const items = await queryTable({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': statsKey(campaignId) },
        ConsistentRead: true,
      });
      const parsed = items.map((raw) => CounterItem.parse(raw));
      const firstAt = parsed
        .map((item) => item.firstAt)
        .filter((at) => at !== undefined)
        .sort()[0];
      const rows = parsed.map(rowOf);
      return firstAt === undefined ? { rows } : { rows, firstAt };
    },
  };
}
