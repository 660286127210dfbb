// Recent events table: a customer's timeline for GET /v1/customers/{id}/events. Key: node (the event's
// attribution identity), sk = `<timestamp>#<messageId>` (newest last, unique, idempotent to rewrite).
// Kept 90 days from receipt (TTL expiresAt); the archive keeps everything.
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import pMap from 'p-map';
import { z } from 'zod';
import { badRequest } from '../../errors.js';
import type { NodeKey } from '../../identity/nodes.js';
import type { NormalizedEvent } from '../../ingest/normalized.js';
import { batchWrite } from './batchWrite.js';

const RETENTION_DAYS = 90;
/** A timeline shows what happened, not every payload: larger properties are cut to a preview. */
const MAX_PROPERTIES_CHARS = 4096;

export const TimelineEvent = z
  .object({
    messageId: z.string(),
    type: z.string(),
    event: z.string().optional(),
    name: z.string().optional(),
    timestamp: z.string(),
    sourceId: z.string(),
    node: z.string(),
    /** JSON text of the properties (personal traits never appear here: they are encrypted at the edge). */
    properties: z.string().optional(),
    propertiesTruncated: z.boolean().optional(),
  })
  .meta({ id: 'TimelineEvent' });
export type TimelineEvent = z.infer<typeof TimelineEvent>;

export interface TimelinePage {
  readonly items: TimelineEvent[];
  readonly nextCursor?: string;
}

export interface EventTimeline {
  add(node: NodeKey, events: readonly NormalizedEvent[]): Promise<void>;
  /** Newest first across the given nodes; `cursor` continues a previous page. */
  recent(nodes: readonly NodeKey[], limit: number, cursor?: string): Promise<TimelinePage>;
}

const sortKey = (e: { timestamp: string; messageId: string }) => `${e.timestamp}#${e.messageId}`;

export function eventsTable(client: DynamoDBDocumentClient, table: string): EventTimeline {
  return {
    async add(node, events) {
      await batchWrite(
        client,
        table,
        events.map((e) => {
          const properties = e.properties ? JSON.stringify(e.properties) : undefined;
          const truncated = properties !== undefined && properties.length > MAX_PROPERTIES_CHARS;
          return {
            PutRequest: {
              Item: {
                node,
                sk: sortKey(e),
                messageId: e.messageId,
                type: e.type,
                event: e.event,
                name: e.name,
                timestamp: e.timestamp,
                sourceId: e.sourceId,
                properties: truncated ? properties.slice(0, MAX_PROPERTIES_CHARS) : properties,
                propertiesTruncated: truncated || undefined,
                expiresAt: Math.floor(Date.parse(e.receivedAt) / 1000) + RETENTION_DAYS * 86_400,
              },
            },
          };
        }),
      );
    },

    async recent(nodes, limit, cursor) {
      const before = cursor ? decodeCursor(cursor) : undefined;
      const pages = await pMap(
        nodes,
        async (node) => {
          const out = await client.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: before ? '#node = :node AND sk < :before' : '#node = :node',
              ExpressionAttributeNames: { '#node': 'node' },
              ExpressionAttributeValues: { ':node': node, ...(before ? { ':before': before } : {}) },
              ScanIndexForward: false,
              Limit: limit,
            }),
          );
          return (out.Items ?? []).map((item) => TimelineEvent.parse(item));
        },
        { concurrency: 8 },
      );
      // Each node's page is newest first; the merge keeps the `limit` newest of all.
      const items = pages
        .flat()
        .sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : -1))
        .slice(0, limit);
      const last = items.at(-1);
      return { items, nextCursor: items.length === limit && last ? encodeCursor(sortKey(last)) : undefined };
    },
  };
}

const encodeCursor = (sk: string) => Buffer.from(sk).toString('base64url');
function decodeCursor(cursor: string): string {
  const sk = Buffer.from(cursor, 'base64url').toString();
  if (!/^\d{4}-\d{2}-\d{2}T.*#.+$/.test(sk)) throw badRequest('cursor is not one this API returned');
  return sk;
}
