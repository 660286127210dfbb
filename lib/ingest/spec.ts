// The Segment / RudderStack tracking spec as zod schemas: what clients may send to /v1/*.
// These schemas are the single source for validation, TypeScript types and the OpenAPI document.
import { z } from 'zod';
import { redactText } from '../pii/detect.js';

export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export const EventType = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventType>;

/** Segment's limits: 32 KB per event, 500 KB per request. */
export const MAX_EVENT_BYTES = 32 * 1024;
export const MAX_REQUEST_BYTES = 500 * 1024;
export const MAX_ID_LENGTH = 1024;

/**
 * Ids may arrive as numbers (CRM exports) or as null (analytics.js sends `userId: null` for anonymous
 * visitors); both are normalized here so that later stages only ever see trimmed strings or undefined.
 */
const Identifier = z
  .union([z.string(), z.number().finite()], { error: 'must be a string or a number' })
  .transform((v) => (typeof v === 'number' ? String(v) : v.trim()))
  .pipe(
    z
      .string()
      .min(1, { error: 'must not be empty' })
      .max(MAX_ID_LENGTH, { error: `must be at most ${MAX_ID_LENGTH} characters` }),
  );
const OptionalIdentifier = Identifier.nullish().transform((v) => v ?? undefined);

/** ISO-8601 date-time; a missing offset is read as UTC, as Segment does. */
export const IsoDateTime = z
  .string({ error: 'must be an ISO-8601 date-time string' })
  .refine((s) => ISO_DATE_TIME.test(s) && isCalendarDate(s) && !Number.isNaN(isoDateTimeMs(s)), {
    error: 'must be an ISO-8601 date-time such as 2024-05-01T12:30:00.000Z',
  })
  .meta({ format: 'date-time', example: '2024-05-01T12:30:00.000Z' });
const ISO_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether the YYYY-MM-DD an ISO string starts with is a day of the calendar. Date.parse takes any day
 * up to 31 and rolls it over (`2024-02-30` is read as March 1st): a client's bug would land on a
 * neighbouring day instead of being reported. Shared by every YYYY-MM-DD a client sends (quarantine days too).
 */
export function isCalendarDate(s: string): boolean {
  const year = Number(s.slice(0, 4));
  const month = Number(s.slice(5, 7));
  const day = Number(s.slice(8, 10));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  return days !== undefined && day >= 1 && day <= days;
}

/** Epoch ms of an IsoDateTime. Date.parse reads a date-time without offset as local time, not UTC. */
export function isoDateTimeMs(s: string): number {
  const localTime = /[T ]\d{2}:\d{2}/.test(s) && !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(s);
  return Date.parse(localTime ? `${s}Z` : s);
}

const JsonObject = z.record(z.string(), z.unknown(), { error: 'must be a JSON object' });

/** The fields of `context` that Precis reads; everything else passes through untouched. */
export const Context = z
  .looseObject({
    ip: z.string().optional(),
    locale: z.string().optional(),
    timezone: z.string().optional(),
    userAgent: z.string().optional(),
    sessionId: z.union([z.string(), z.number()]).optional(),
    traits: JsonObject.optional(),
    library: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional(),
    channel: z.string().optional(),
  })
  .meta({ id: 'Context', description: 'Segment context object (device, page, library, campaign, ...)' });

const Common = {
  messageId: z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(200, { error: 'must be at most 200 characters' })
    .optional()
    .meta({ description: 'Unique id of the event; retries with the same id are deduplicated.' }),
  userId: OptionalIdentifier,
  anonymousId: OptionalIdentifier,
  timestamp: IsoDateTime.optional(),
  originalTimestamp: IsoDateTime.optional(),
  sentAt: IsoDateTime.optional(),
  context: Context.optional(),
  integrations: JsonObject.optional(),
};

const needsIdentity = <T extends { userId?: string | undefined; anonymousId?: string | undefined }>(
  e: T,
  ctx: z.core.$RefinementCtx<T>,
) => {
  if (e.userId === undefined && e.anonymousId === undefined) {
    ctx.addIssue({ code: 'custom', path: ['userId'], message: 'userId or anonymousId is required' });
  }
};

const EventName = z
  .string({ error: 'is required and must be a string' })
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(200, { error: 'must be at most 200 characters' });

export const TrackEvent = z
  .looseObject({
    type: z.literal('track'),
    event: EventName,
    properties: JsonObject.optional(),
    ...Common,
  })
  .superRefine(needsIdentity)
  .meta({ id: 'TrackEvent' });

export const IdentifyEvent = z
  .looseObject({ type: z.literal('identify'), traits: JsonObject.optional(), ...Common })
  .superRefine(needsIdentity)
  .meta({ id: 'IdentifyEvent' });

/** Page (web) and screen (app) views carry the same fields. */
const ViewFields = {
  name: z.string().max(200).optional(),
  category: z.string().max(200).optional(),
  properties: JsonObject.optional(),
  ...Common,
};

export const PageEvent = z
  .looseObject({ type: z.literal('page'), ...ViewFields })
  .superRefine(needsIdentity)
  .meta({ id: 'PageEvent' });

export const ScreenEvent = z
  .looseObject({ type: z.literal('screen'), ...ViewFields })
  .superRefine(needsIdentity)
  .meta({ id: 'ScreenEvent' });

export const GroupEvent = z
  .looseObject({ type: z.literal('group'), groupId: Identifier, traits: JsonObject.optional(), ...Common })
  .superRefine(needsIdentity)
  .meta({ id: 'GroupEvent' });

export const AliasEvent = z
  .looseObject({ type: z.literal('alias'), previousId: Identifier, ...Common, userId: Identifier })
  .meta({ id: 'AliasEvent' });

export const SpecEvent = z.discriminatedUnion('type', [
  TrackEvent,
  IdentifyEvent,
  PageEvent,
  ScreenEvent,
  GroupEvent,
  AliasEvent,
]);
/** A validated event as the client sent it (ids trimmed, nulls dropped). */
export type SpecEvent = z.infer<typeof SpecEvent>;
/** What a client may send: the input side of the schema. Dataset mappers and tests produce these. */
export type SpecEventInput = z.input<typeof SpecEvent>;

export const SCHEMAS_BY_TYPE = {
  track: TrackEvent,
  identify: IdentifyEvent,
  page: PageEvent,
  screen: ScreenEvent,
  group: GroupEvent,
  alias: AliasEvent,
} as const;

/** POST /v1/batch (and /v1/import): Segment's batch body. Events are validated one by one. */
export const BatchBody = z
  .looseObject({
    batch: z.array(z.unknown(), { error: 'batch must be an array of events' }).min(1, {
      error: 'batch must contain at least one event',
    }),
    sentAt: IsoDateTime.optional(),
    context: JsonObject.optional(),
    integrations: JsonObject.optional(),
    writeKey: z.string().optional(),
  })
  .meta({ id: 'BatchBody' });
export type BatchBody = z.infer<typeof BatchBody>;

/** Where a rejected event failed: a field path (dotted, with [i] for arrays) and a reason. */
export const FieldIssue = z
  .object({
    path: z.string().meta({ example: 'properties.products[0].price' }),
    code: z.string().meta({ example: 'negative_amount' }),
    message: z.string().meta({ example: 'must not be negative' }),
  })
  .meta({ id: 'FieldIssue' });
export type FieldIssue = z.infer<typeof FieldIssue>;

export const Rejection = z
  .object({
    index: z
      .number()
      .int()
      .meta({ description: 'Position of the event in the request (0 for single calls)' }),
    messageId: z.string().optional(),
    quarantineId: z.string().meta({ description: 'Look it up with GET /v1/quarantine/{id}' }),
    errors: z.array(FieldIssue),
  })
  .meta({ id: 'Rejection' });
export type Rejection = z.infer<typeof Rejection>;

export const IngestResponse = z
  .object({
    success: z.boolean(),
    accepted: z.number().int(),
    rejected: z.array(Rejection),
  })
  .meta({ id: 'IngestResponse' });
export type IngestResponse = z.infer<typeof IngestResponse>;

/**
 * Renders a zod path as `properties.products[0].price`. Keys are the client's, and paths are stored with
 * quarantined events and returned in responses: an e-mail or phone number used as a key is masked as in
 * free text (`properties["jane@x.com"]` → `properties.j***@x.com`).
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const key = redactText(String(part));
      out += out ? `.${key}` : key;
    }
  }
  return out || '(root)';
}

/**
 * Turns zod issues into FieldIssues. `input` is what was validated: a path that leads to nothing in it
 * is reported as `required`, which zod 4 cannot tell us without echoing the input back.
 */
export function toFieldIssues(
  error: z.ZodError,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): FieldIssue[] {
  return error.issues.map((issue) => {
    const missing = issue.path.length > 0 && valueAt(input, issue.path) === undefined;
    return {
      path: formatPath([...prefix, ...issue.path]),
      code: missing ? 'required' : issueCode(issue),
      message: missing && issue.code !== 'custom' ? 'is required' : issue.message,
    };
  });
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function issueCode(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      return 'too_long';
    case 'too_small':
      return 'too_short';
    case 'custom':
      return issue.message.endsWith('is required') ? 'required' : 'invalid_value';
    case 'invalid_union':
      return 'invalid_type';
    default:
      return issue.code;
  }
}
