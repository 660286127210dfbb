// Campaigns table (pk, sk), the versions of every campaign:
//   pk <campaignId>   sk v<version, 10 digits>   one immutable item per version: the truth. The latest is
//                                                the last of the partition (one Query, newest first); a
//                                                conditional put (attribute_not_exists) lets exactly one
//                                                of two concurrent saves have a version number.
//   pk "#latest"      sk <campaignId>            a copy of each campaign's latest version, for listing all
//                                                campaigns page by page with one Query (no Scan over every
//                                                version, no GSI); written after the version, only forward.
//   pk "#catalog"     sk "#catalog"              `revision`, a counter added to after every version (and
//                                                its #latest copy) is written: what the engine's containers
//                                                read to know their cached list is out of date.
// Campaign ids are slugs ([a-z0-9-]), so "#latest" and "#catalog" are never ids. Without transactions
// (dynalite has none) the writes are not atomic: a writer that dies after the version leaves the listing
// one version behind until the next save of that campaign, and the engine's cached lists behind for their
// minute (CAMPAIGN_CACHE_MS); reads by id never are (they read the versions).
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { Campaign, CampaignId } from '../../campaigns/model.js';
import type { CampaignVersions } from '../../campaigns/store.js';
import { isConditionFailed } from './errors.js';

const LATEST = '#latest';
const CATALOG = { pk: '#catalog', sk: '#catalog' };
const versionKey = (version: number) => `v${String(version).padStart(10, '0')}`;

export function campaignsTable(client: DynamoDBDocumentClient, table: string): CampaignVersions {
  return {
    async putVersion(campaign) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { ...campaign, pk: campaign.id, sk: versionKey(campaign.version) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { ...campaign, pk: LATEST, sk: campaign.id },
            ConditionExpression: 'attribute_not_exists(pk) OR #version < :version',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':version': campaign.version },
          }),
        );
      } catch (error) {
        // A later version got there first: the listing already shows it.
        if (!isConditionFailed(error)) throw error;
      }
      // Last, so a container that reads the new revision then lists the campaigns finds this version.
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: CATALOG,
          UpdateExpression: 'ADD revision :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
      return true;
    },

    async latest(id) {
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
          ExpressionAttributeValues: { ':pk': id, ':v': 'v' },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      );
      const item = out.Items?.[0];
      return item ? Campaign.parse(item) : undefined;
    },

    async version(id, version) {
      const out = await client.send(
        new GetCommand({ TableName: table, Key: { pk: id, sk: versionKey(version) }, ConsistentRead: true }),
      );
      return out.Item ? Campaign.parse(out.Item) : undefined;
    },

    async list({ limit, cursor, archived }) {
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          // Limit counts items read before the filter: a page may hold fewer than asked (never a wrong one).
          FilterExpression: archived ? undefined : 'archived <> :true',
          ExpressionAttributeValues: { ':pk': LATEST, ...(archived ? {} : { ':true': true }) },
          Limit: limit,
          ConsistentRead: true,
          ExclusiveStartKey: cursor === undefined ? undefined : { pk: LATEST, sk: cursor },
        }),
      );
      const items = (out.Items ?? []).map((item) => Campaign.parse(item));
      const last = out.LastEvaluatedKey?.sk;
      return typeof last === 'string' ? { items, nextCursor: last } : { items };
    },

    isCursor: (cursor) => CampaignId.safeParse(cursor).success,

    async revision() {
      const out = await client.send(new GetCommand({ TableName: table, Key: CATALOG, ConsistentRead: true }));
      const revision = out.Item?.revision;
      return typeof revision === 'number' ? revision : 0;
    },
  };
}
