// The raw archive's stable row format (schema_version 2): one JSON object per line, gzip-compressed,
// under raw/dt=YYYY-MM-DD/. Every row has every column, nested objects are JSON text, so Athena's JSON
// SerDe and DuckDB's read_json see one fixed schema (docs/archive.md has the DDL).
import { gunzipSync, gzipSync } from 'node:zlib';
import { NormalizedEvent } from '../ingest/normalized.js';

/** 2 added `identifiers` (hashed identity identifiers found at the edge). */
export const ARCHIVE_SCHEMA_VERSION = 2;
export const ARCHIVE_PREFIX = 'raw/';

export interface ArchiveRecord {
  schema_version: number;
  message_id: string;
  type: string;
  event: string | null;
  original_event: string | null;
  name: string | null;
  category: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  group_id: string | null;
  previous_id: string | null;
  /** ISO-8601 UTC: event time corrected for clock skew. */
  timestamp: string;
  original_timestamp: string | null;
  sent_at: string | null;
  received_at: string;
  archived_at: string;
  source_id: string;
  properties: string | null;
  traits: string | null;
  context: string | null;
  integrations: string | null;
  identifiers: string | null;
}

/** The columns in order; the DDL in docs/archive.md and the tests use this list. */
export const ARCHIVE_COLUMNS = [
  'schema_version',
  'message_id',
  'type',
  'event',
  'original_event',
  'name',
  'category',
  'user_id',
  'anonymous_id',
  'group_id',
  'previous_id',
  'timestamp',
  'original_timestamp',
  'sent_at',
  'received_at',
  'archived_at',
  'source_id',
  'properties',
  'traits',
  'context',
  'integrations',
  'identifiers',
] as const satisfies readonly (keyof ArchiveRecord)[];

const json = (v: Record<string, unknown> | undefined) => (v === undefined ? null : JSON.stringify(v));

export function toArchiveRecord(e: NormalizedEvent, archivedAt: string): ArchiveRecord {
  return {
    schema_version: ARCHIVE_SCHEMA_VERSION,
    message_id: e.messageId,
    type: e.type,
    event: e.event ?? null,
    original_event: e.originalEvent ?? null,
    name: e.name ?? null,
    category: e.category ?? null,
    user_id: e.userId ?? null,
    anonymous_id: e.anonymousId ?? null,
    group_id: e.groupId ?? null,
    previous_id: e.previousId ?? null,
    timestamp: e.timestamp,
    original_timestamp: e.originalTimestamp ?? null,
    sent_at: e.sentAt ?? null,
    received_at: e.receivedAt,
    archived_at: archivedAt,
    source_id: e.sourceId,
    properties: json(e.properties),
    traits: json(e.traits),
    context: json(e.context),
    integrations: json(e.integrations),
    identifiers: e.identifiers === undefined ? null : JSON.stringify(e.identifiers),
  };
}

const parsed = (text: string | null | undefined) =>
  text ? (JSON.parse(text) as Record<string, unknown>) : undefined;

/**
 * The event an archive row holds, validated (rows of schema 1 simply have no identifiers). This is how
 * later stages — profiles, rebuilds — read the archive.
 */
export function fromArchiveRecord(r: ArchiveRecord): NormalizedEvent {
  return NormalizedEvent.parse({
    messageId: r.message_id,
    type: r.type,
    event: r.event ?? undefined,
    originalEvent: r.original_event ?? undefined,
    name: r.name ?? undefined,
    category: r.category ?? undefined,
    userId: r.user_id ?? undefined,
    anonymousId: r.anonymous_id ?? undefined,
    groupId: r.group_id ?? undefined,
    previousId: r.previous_id ?? undefined,
    properties: parsed(r.properties),
    traits: parsed(r.traits),
    context: parsed(r.context),
    integrations: parsed(r.integrations),
    timestamp: r.timestamp,
    originalTimestamp: r.original_timestamp ?? undefined,
    sentAt: r.sent_at ?? undefined,
    receivedAt: r.received_at,
    sourceId: r.source_id,
    identifiers: r.identifiers ? JSON.parse(r.identifiers) : undefined,
  });
}

/** Partition of an event: the UTC day it was received (late events do not reopen old event days). */
export const partitionOf = (e: NormalizedEvent): string => e.receivedAt.slice(0, 10);

/** raw/dt=2026-11-22/20261122T143001Z-<writer>.ndjson.gz — sortable by time, unique per writer. */
/** The folder of the objects archived on a day (`receivedAt`'s UTC date). */
export const archiveDayPrefix = (day: string): string => `${ARCHIVE_PREFIX}dt=${day}/`;

export function archiveObjectKey(day: string, at: number, writer: string): string {
  const stamp = new Date(at)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `${archiveDayPrefix(day)}${stamp}-${writer}.ndjson.gz`;
}

const OBJECT_KEY = /^raw\/dt=\d{4}-\d{2}-\d{2}\/(\d{8}T\d{6}Z)-.+\.ndjson\.gz$/s;

/**
 * The time archiveObjectKey wrote into a key (to the second), or undefined for a key it did not build:
 * the caller decides what a foreign object means, instead of it being dated now (it is kept in ledgers).
 */
export function archiveObjectTime(key: string): number | undefined {
  if (!key.startsWith(ARCHIVE_PREFIX)) return undefined;
  const stamp = OBJECT_KEY.exec(key)?.[1];
  if (stamp === undefined) return undefined;
  const at = Date.parse(
    `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`,
  );
  // Date.parse rolls impossible stamps (Feb 30) over: only a stamp that reads back the same is one.
  return !Number.isNaN(at) && archiveObjectKey('', at, '').includes(`/${stamp}-`) ? at : undefined;
}

export function encodeArchiveObject(records: readonly ArchiveRecord[]): Buffer {
  const ndjson = records.map((r) => JSON.stringify(r)).join('\n');
  return gzipSync(`${ndjson}\n`);
}

/** Reads an archive object back; rows are returned as stored (validated by the callers that need to). */
export function decodeArchiveObject(body: Uint8Array): ArchiveRecord[] {
  return gunzipSync(body)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as ArchiveRecord);
}
