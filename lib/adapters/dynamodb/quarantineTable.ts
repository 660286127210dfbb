// Quarantine table. Key: id. GSI byDay (day, sortKey = quarantinedAt#id) lists a day's entries newest
// first; entries expire (TTL expiresAt) after the retention period.
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import pMap from 'p-map';
import type { FieldIssue } from '../../ingest/spec.js';
import {
  decodeQuarantineCursor,
  encodeQuarantineCursor as encodeCursor,
  type QuarantineCursor,
} from '../../quarantine/cursor.js';
import {
  QuarantineEntry,
  type QuarantinePage,
  type QuarantineQuery,
  type QuarantineStore,
} from '../../quarantine/model.js';
import { isConditionFailed } from './errors.js';
import { queryItems } from './query.js';

export const QUARANTINE_DAY_INDEX = 'byDay';
const PAGE = 100;

const dayOf = (iso: string) => iso.slice(0, 10);
const sortKeyOf = (e: QuarantineEntry) => `${e.quarantinedAt}#${e.id}`;
const codesOf = (reasons: readonly FieldIssue[]) => [...new Set(reasons.map((r) => r.code))];

/** The listing's cursor; the API validated it, so one that does not decode here is a caller's bug. */
function decodeCursor(s: string): QuarantineCursor {
  const cursor = decodeQuarantineCursor(s);
  if (!cursor) throw new Error('quarantine list called with a cursor the listing did not make');
  return cursor;
}

/** Days from `to` back to `from`, inclusive. */
function daysDescending(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${to}T00:00:00Z`); t >= Date.parse(`${from}T00:00:00Z`); t -= 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

interface Filter {
  readonly expression?: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

function filterOf(query: QuarantineQuery): Filter {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (query.status) {
    clauses.push('#status = :status');
    names['#status'] = 'status';
    values[':status'] = query.status;
  }
  if (query.reason) {
    clauses.push('contains(codes, :reason)');
    values[':reason'] = query.reason;
  }
  if (query.sourceId) {
    clauses.push('sourceId = :source');
    values[':source'] = query.sourceId;
  }
  return { expression: clauses.length ? clauses.join(' AND ') : undefined, names, values };
}

export function quarantineTable(
  client: DynamoDBDocumentClient,
  table: string,
  retentionDays: number,
): QuarantineStore {
  /** A day's entries newest first, page by page, from just after `startKey` if given. */
  async function* entriesOfDay(day: string, filter: Filter, startKey?: Record<string, unknown>) {
    const items = queryItems(client, {
      TableName: table,
      IndexName: QUARANTINE_DAY_INDEX,
      KeyConditionExpression: '#day = :day',
      FilterExpression: filter.expression,
      ExpressionAttributeNames: { '#day': 'day', ...filter.names },
      ExpressionAttributeValues: { ':day': day, ...filter.values },
      ScanIndexForward: false,
      ExclusiveStartKey: startKey,
      Limit: PAGE,
    });
    for await (const raw of items) yield QuarantineEntry.parse(raw);
  }

  return {
    async put(entries) {
      await pMap(
        entries,
        async (entry) => {
          const expiresAt = Math.floor(Date.parse(entry.quarantinedAt) / 1000) + retentionDays * 86_400;
          try {
            await client.send(
              new PutCommand({
                TableName: table,
                Item: {
                  ...entry,
                  day: dayOf(entry.quarantinedAt),
                  sortKey: sortKeyOf(entry),
                  codes: codesOf(entry.reasons),
                  expiresAt,
                },
                // The same bad event sent again keeps its first entry (and its replay status).
                ConditionExpression: 'attribute_not_exists(id)',
              }),
            );
          } catch (error) {
            if (!isConditionFailed(error)) throw error;
          }
        },
        { concurrency: 16 },
      );
    },

    async get(id) {
      const out = await client.send(new GetCommand({ TableName: table, Key: { id }, ConsistentRead: true }));
      return out.Item ? QuarantineEntry.parse(out.Item) : undefined;
    },

    async list(query: QuarantineQuery): Promise<QuarantinePage> {
      const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
      // The API refuses such a cursor; checked again here because a day past `toDay` (a forged
      // 9999-12-31) would make daysDescending walk, and query, millions of days.
      if (cursor && (cursor.day < query.fromDay || cursor.day > query.toDay)) {
        throw new Error(
          `quarantine list cursor day ${cursor.day} is outside ${query.fromDay}..${query.toDay}`,
        );
      }
      const items: QuarantineEntry[] = [];
      for (const day of daysDescending(query.fromDay, cursor?.day ?? query.toDay)) {
        const resumeAt =
          cursor?.day === day && cursor.id ? { id: cursor.id, day, sortKey: cursor.sortKey } : undefined;
        for await (const entry of entriesOfDay(day, filterOf(query), resumeAt)) {
          items.push(entry);
          if (items.length === query.limit) {
            return { items, nextCursor: encodeCursor({ day, id: entry.id, sortKey: sortKeyOf(entry) }) };
          }
        }
      }
      return { items };
    },

    async markReplayed(id, at) {
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: { id },
          UpdateExpression:
            'SET #status = :replayed, replayedAt = :at, replayAttempts = replayAttempts + :one',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':replayed': 'replayed', ':at': at, ':one': 1 },
        }),
      );
    },

    async recordFailedReplay(id, reasons, at) {
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: { id },
          UpdateExpression:
            'SET reasons = :reasons, codes = :codes, lastReplayAt = :at, replayAttempts = replayAttempts + :one',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: {
            ':reasons': reasons,
            ':codes': codesOf(reasons),
            ':at': at,
            ':one': 1,
          },
        }),
      );
    },
  };
}
