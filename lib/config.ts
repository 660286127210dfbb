// The one place that reads process.env: parsed once with zod, memoized, and frozen.
// Every other module takes what it needs from `config()` (or has it passed in by a caller).
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CHANNELS, type Channel, PURPOSES, type Purpose } from './campaigns/model.js';

/** A comma-separated list with a default (zod 4 defaults apply to the parsed value, hence prefault). */
const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
const optionalUrl = z
  .string()
  .optional()
  .transform((s) => (s ? s : undefined))
  .pipe(z.url().optional());
/** Unset or empty (serverless.yml passes '' for what a stage does not use). */
const optionalString = z
  .string()
  .optional()
  .transform((s) => (s ? s : undefined));
const positiveInt = z.coerce.number().int().positive();
const positiveNumber = z.coerce.number().positive();
/**
 * An operator setting: serverless.yml passes it from the deploying (or `npm start`) shell as
 * `${env:NAME, ''}`, so empty means unset and the default applies ('' would coerce to 0 or no list).
 */
const setting = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);

const Env = z.object({
  PRECIS_STAGE: z.string().min(1).default('local'),
  AWS_REGION: z.string().min(1).default('eu-west-1'),
  PRECIS_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),

  // Names default to what serverless.yml gives the stage (precis-<stage>-...); Lambda gets them set.
  PRECIS_TABLE_API_KEYS: z.string().min(3).optional(),
  PRECIS_TABLE_DEDUP: z.string().min(3).optional(),
  PRECIS_TABLE_QUARANTINE: z.string().min(3).optional(),
  PRECIS_QUEUE_INGEST: z.string().min(1).optional(),
  PRECIS_QUEUE_PROFILES: z.string().min(1).optional(),
  PRECIS_QUEUE_IMPORTS: z.string().min(1).optional(),
  PRECIS_TABLE_IDENTITY: z.string().min(3).optional(),
  PRECIS_TABLE_PROFILES: z.string().min(3).optional(),
  PRECIS_TABLE_DATA_KEYS: z.string().min(3).optional(),
  PRECIS_TABLE_SEGMENTS: z.string().min(3).optional(),
  PRECIS_TABLE_CAMPAIGNS: z.string().min(3).optional(),
  PRECIS_TABLE_MESSAGING: z.string().min(3).optional(),
  PRECIS_QUEUE_SEGMENTATION: z.string().min(1).optional(),
  PRECIS_QUEUE_SEGMENT_CHANGES: z.string().min(1).optional(),
  PRECIS_QUEUE_TAGS: z.string().min(1).optional(),
  PRECIS_QUEUE_CAMPAIGN_ACTIVITY: z.string().min(1).optional(),
  PRECIS_QUEUE_EMAIL_FEEDBACK: z.string().min(1).optional(),
  PRECIS_BUCKET_ARCHIVE: z.string().min(3).optional(),
  PRECIS_TABLE_COUPONS: z.string().min(3).optional(),
  PRECIS_TABLE_OUTBOX: z.string().min(3).optional(),
  PRECIS_TABLE_WAITS: z.string().min(3).optional(),
  PRECIS_TABLE_CAMPAIGN_STATS: z.string().min(3).optional(),
  PRECIS_TABLE_TAGS: z.string().min(3).optional(),

  // Campaign channels (docs/campaigns.md, Coupons and channels). Each channel sends through its provider
  // or records to the outbox; unset, every channel is `outbox`, so no configuration sends by accident.
  PRECIS_EMAIL_CHANNEL: setting(z.enum(['ses', 'outbox']).default('outbox')),
  /** The sender of campaign e-mail: an SES verified identity. */
  PRECIS_EMAIL_FROM: setting(z.email().optional()),
  PRECIS_SES_CONFIGURATION_SET: optionalString,
  PRECIS_SMS_CHANNEL: setting(z.enum(['sms', 'outbox']).default('outbox')),
  PRECIS_SMS_ORIGINATION: optionalString,
  PRECIS_SMS_CONFIGURATION_SET: optionalString,
  PRECIS_PUSH_CHANNEL: setting(z.enum(['sns', 'outbox']).default('outbox')),
  /** The SNS platform application (FCM or APNs) that device tokens are registered with. */
  PRECIS_PUSH_PLATFORM_APPLICATION: setting(
    z
      .string()
      .regex(
        /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:app\/(GCM|APNS|APNS_SANDBOX)\/[^/]+$/,
        'an SNS platform application ARN',
      )
      .optional(),
  ),
  PRECIS_WEBHOOK_CHANNEL: setting(z.enum(['webhook', 'outbox']).default('outbox')),
  PRECIS_WEBHOOK_URL: optionalUrl,
  /** Where the public API answers (the API Gateway URL or its domain): unsubscribe links point there. */
  PRECIS_PUBLIC_BASE_URL: setting(z.url().default('http://localhost:3000')),
  PRECIS_WEBHOOK_SECRET: optionalString.pipe(z.string().min(16, 'at least 16 characters').optional()),

  // PII: envelope encryption under a KMS key in the cloud, under a local 32-byte key (base64) on laptops
  // and in tests. Identifiers are keyed by HMAC: the secret comes from Secrets Manager (ARN) or, locally,
  // from PRECIS_HMAC_SECRET. Changing the secret re-keys the identity index: it is set once per stage.
  PRECIS_PII_KMS_KEY_ID: optionalString,
  PRECIS_PII_LOCAL_KEY: z
    .string()
    .optional()
    .refine((s) => s === undefined || s === '' || Buffer.from(s, 'base64').length === 32, {
      error: 'must be 32 bytes, base64-encoded',
    }),
  PRECIS_HMAC_SECRET_ARN: optionalString,
  PRECIS_HMAC_SECRET: optionalString,
  /** type:priority:limit — a lower priority number wins the customer's anchor; limit is per customer. */
  PRECIS_IDENTIFIERS: setting(
    csv.prefault('user:1:1,email:2:3,phone:3:3,crm:4:2,openid:5:3,device:6:20,anon:7:500'),
  ),

  // Set only by the local stack: when present, clients talk to the emulators with fixed credentials.
  PRECIS_ENDPOINT_DYNAMODB: optionalUrl,
  PRECIS_ENDPOINT_S3: optionalUrl,
  PRECIS_ENDPOINT_SQS: optionalUrl,
  PRECIS_ENDPOINT_SES: optionalUrl,

  // Dedup must hold for at least 30 days (Segment's own window is 24 hours).
  PRECIS_DEDUP_WINDOW_DAYS: setting(positiveInt.min(30).default(35)),
  PRECIS_QUARANTINE_RETENTION_DAYS: setting(positiveInt.default(90)),
  // A claim older than this belongs to a consumer that is certainly dead (> the consumer's timeout).
  PRECIS_ARCHIVE_LEASE_SECONDS: positiveInt.default(180),
  // The same for an event being counted in a campaign report: longer than the consuming function's timeout.
  PRECIS_CAMPAIGN_STATS_LEASE_SECONDS: setting(positiveInt.default(180)),
  PRECIS_API_KEY_CACHE_SECONDS: setting(z.coerce.number().int().min(0).default(60)),

  // Segmentation: the nightly run is as of midnight in this zone (IANA name); runs record the code version.
  PRECIS_BUSINESS_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/London or Asia/Shanghai'),
  PRECIS_CODE_VERSION: z.string().min(1).default('dev'),
  // History SQL (docs/history.md): the engine's working folder (the mirrored columnar archive and its
  // spill files; Lambda's /tmp), its threads and the memory it may hold before spilling.
  PRECIS_HISTORY_DIR: optionalString,
  /** duckdb: in the runner (local default, small deployments); athena: the stack's workgroup and tables. */
  PRECIS_HISTORY_ENGINE: setting(z.enum(['duckdb', 'athena']).default('duckdb')),
  PRECIS_HISTORY_WORKGROUP: optionalString,
  PRECIS_GLUE_DATABASE: optionalString,
  PRECIS_HISTORY_THREADS: setting(positiveInt.max(64).optional()),
  PRECIS_HISTORY_MEMORY_MB: setting(positiveInt.min(128).default(2048)),

  PRECIS_MAX_AMOUNT: setting(positiveNumber.default(1_000_000)),
  PRECIS_MAX_QUANTITY: setting(positiveNumber.default(100_000)),
  PRECIS_MAX_FUTURE_HOURS: setting(positiveNumber.default(24)),
  // Admits real histories (1990s orders); a device clock reset to the Unix epoch, or a zero date (year
  // 1), lands before it. The whole of 1970 is the epoch-plus-uptime of a reset clock, not real data.
  PRECIS_MIN_TIMESTAMP: setting(z.iso.datetime({ offset: true }).default('1971-01-01T00:00:00Z')),
  // context.ip at the edge: cut to its /24 (IPv4) or /48 (IPv6), encrypted, or kept (lib/pii/ip.ts).
  PRECIS_PII_IP: setting(z.enum(['truncate', 'encrypt', 'keep']).default('truncate')),
  PRECIS_JUNK_IDS: setting(
    csv.prefault(
      'null,undefined,nil,none,nan,0,-1,[object object],anonymous,unknown,n/a,na,(null),false,true',
    ),
  ),

  // The send decision (lib/campaigns/decision.ts). The control group's share and salt pick the same
  // customers out of every campaign: changing either draws a new group and restarts every comparison.
  PRECIS_CONTROL_GROUP_PERCENT: setting(z.coerce.number().min(1).max(15).default(5)),
  PRECIS_CONTROL_GROUP_SALT: setting(z.string().min(8).max(200).default('precis-control-group')),
  /** channel:perDay:perWeek (local calendar days), `all` for every channel together; unlisted keep the default. */
  PRECIS_FREQUENCY_CAPS: setting(csv.prefault('')),
  /** HH:MM-HH:MM in the customer's zone (may cross midnight) for campaigns without their own, or `off`. */
  PRECIS_QUIET_HOURS: setting(
    z
      .string()
      .regex(/^(off|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)$/, 'HH:MM-HH:MM or off')
      .default('21:00-08:00'),
  ),
  /** Purposes for which an unknown consent counts as granted; default none (PIPL: explicit consent). */
  PRECIS_CONSENT_UNKNOWN_GRANTED: setting(csv.prefault('').pipe(z.array(z.enum(PURPOSES)))),
});

export interface Config {
  readonly stage: string;
  readonly region: string;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  readonly tables: {
    readonly apiKeys: string;
    readonly dedup: string;
    readonly quarantine: string;
    readonly identity: string;
    readonly profiles: string;
    readonly dataKeys: string;
    readonly segments: string;
    /** Campaign definitions, every version (lib/adapters/dynamodb/campaignsTable.ts). */
    readonly campaigns: string;
    readonly messaging: string;
    readonly coupons: string;
    readonly outbox: string;
    /** Campaign waits and deferred sends (lib/adapters/dynamodb/waitsTable.ts). */
    readonly waits: string;
    /** Campaign report counters and the exposures behind them (campaignStatsTable.ts). */
    readonly campaignStats: string;
    /** Tag definitions, customers' tags and the tag -> customers index (tagsTable.ts). */
    readonly tags: string;
  };
  readonly queues: {
    readonly ingest: string;
    readonly profiles: string;
    readonly imports: string;
    readonly segmentation: string;
    readonly segmentChanges: string;
    /** Customers whose tags to evaluate again (lib/tags/consume.ts). */
    readonly tags: string;
    readonly campaignActivity: string;
    /** SES bounces and complaints (functions/queue/emailFeedback.ts). */
    readonly emailFeedback: string;
  };
  readonly buckets: { readonly archive: string };
  readonly endpoints: {
    readonly dynamodb?: string;
    readonly s3?: string;
    readonly sqs?: string;
    readonly ses?: string;
  };
  readonly dedupWindowDays: number;
  readonly quarantineRetentionDays: number;
  readonly archiveLeaseSeconds: number;
  readonly campaignStatsLeaseSeconds: number;
  readonly apiKeyCacheSeconds: number;
  readonly quality: QualityConfig;
  readonly pii: PiiConfig;
  readonly identifiers: readonly IdentifierRule[];
  readonly businessTimezone: string;
  readonly codeVersion: string;
  readonly history: HistoryConfig;
  /** The public API's base URL, for unsubscribe links (unset: http://localhost:3000, the local stack's). */
  readonly publicBaseUrl: string;
  readonly sendDecision: SendDecisionConfig;
  readonly channels: ChannelsConfig;
}

/** How each campaign channel sends: through its provider, or to the outbox (lib/campaigns/outbox.ts). */
export interface ChannelsConfig {
  readonly email:
    | { readonly mode: 'ses'; readonly from: string; readonly configurationSet?: string }
    | { readonly mode: 'outbox'; readonly from?: string };
  readonly sms: {
    readonly mode: 'sms' | 'outbox';
    readonly originationIdentity?: string;
    readonly configurationSet?: string;
  };
  readonly push: { readonly mode: 'sns' | 'outbox'; readonly platformApplicationArn?: string };
  readonly webhook: {
    readonly mode: 'webhook' | 'outbox';
    /** The webhooks messages may go to, each with the secret that signs them. */
    readonly endpoints: readonly { readonly url: string; readonly secret: string }[];
  };
}

/** How a segmentation run reads history: SQL on DuckDB in the runner, or on Athena (lib/history/runtime.ts). */
export interface HistoryConfig {
  /** Where the history SQL runs; Athena's workgroup and Glue database when on Athena. */
  readonly engine:
    | { readonly kind: 'duckdb' }
    | { readonly kind: 'athena'; readonly workGroup: string; readonly database: string };
  /** The parent of each engine's own working folder (on Athena: the compaction's writer's). */
  readonly dir: string;
  readonly threads: number;
  readonly memoryMb: number;
}

/** Where the keys of PII protection come from (see lib/pii). */
export interface PiiConfig {
  readonly kmsKeyId?: string;
  readonly localKey?: Buffer;
  readonly hmacSecretArn?: string;
  readonly hmacSecret?: string;
  /** What the edge makes of context.ip (lib/pii/ip.ts). */
  readonly ip?: 'truncate' | 'encrypt' | 'keep';
}

/** An identifier type of the identity graph: which wins the anchor, and how many one customer may have. */
export interface IdentifierRule {
  readonly type: string;
  readonly priority: number;
  readonly limit: number;
}

/** Thresholds of the data-quality rules (see lib/ingest/quality.ts). */
export interface QualityConfig {
  readonly maxAmount: number;
  readonly maxQuantity: number;
  readonly maxFutureMs: number;
  readonly minTimestampMs: number;
  readonly junkIds: ReadonlySet<string>;
}

/** A frequency cap: sends per local calendar day and per 7 local days; 0 = never. */
export interface CapConfig {
  readonly perDay: number;
  readonly perWeek: number;
}

/** The stage's settings of the send decision (lib/campaigns/decision.ts). */
export interface SendDecisionConfig {
  readonly controlPercent: number;
  readonly controlSalt: string;
  readonly caps: Readonly<Record<Channel | 'all', CapConfig>>;
  /** Undefined when `off`. */
  readonly quietHours?: { readonly start: string; readonly end: string };
  readonly unknownConsentGranted: readonly Purpose[];
}

/** Frequency caps unless PRECIS_FREQUENCY_CAPS says otherwise (webhooks feed POS/CRM tools, not inboxes). */
export const DEFAULT_CAPS: Readonly<Record<Channel | 'all', CapConfig>> = {
  email: { perDay: 1, perWeek: 3 },
  sms: { perDay: 1, perWeek: 2 },
  push: { perDay: 2, perWeek: 7 },
  webhook: { perDay: 10, perWeek: 50 },
  all: { perDay: 2, perWeek: 7 },
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses an environment into a Config; throws a ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const name = (suffix: string) => `precis-${e.PRECIS_STAGE}-${suffix}`;
  return Object.freeze({
    stage: e.PRECIS_STAGE,
    region: e.AWS_REGION,
    logLevel: e.PRECIS_LOG_LEVEL,
    tables: {
      apiKeys: e.PRECIS_TABLE_API_KEYS ?? name('api-keys'),
      dedup: e.PRECIS_TABLE_DEDUP ?? name('dedup'),
      quarantine: e.PRECIS_TABLE_QUARANTINE ?? name('quarantine'),
      identity: e.PRECIS_TABLE_IDENTITY ?? name('identity'),
      profiles: e.PRECIS_TABLE_PROFILES ?? name('profiles'),
      dataKeys: e.PRECIS_TABLE_DATA_KEYS ?? name('data-keys'),
      segments: e.PRECIS_TABLE_SEGMENTS ?? name('segments'),
      campaigns: e.PRECIS_TABLE_CAMPAIGNS ?? name('campaigns'),
      messaging: e.PRECIS_TABLE_MESSAGING ?? name('messaging'),
      coupons: e.PRECIS_TABLE_COUPONS ?? name('coupons'),
      outbox: e.PRECIS_TABLE_OUTBOX ?? name('outbox'),
      waits: e.PRECIS_TABLE_WAITS ?? name('waits'),
      campaignStats: e.PRECIS_TABLE_CAMPAIGN_STATS ?? name('campaign-stats'),
      tags: e.PRECIS_TABLE_TAGS ?? name('tags'),
    },
    queues: {
      ingest: e.PRECIS_QUEUE_INGEST ?? name('ingest'),
      profiles: e.PRECIS_QUEUE_PROFILES ?? name('profiles-feed'),
      imports: e.PRECIS_QUEUE_IMPORTS ?? name('imports'),
      segmentation: e.PRECIS_QUEUE_SEGMENTATION ?? name('segmentation'),
      segmentChanges: e.PRECIS_QUEUE_SEGMENT_CHANGES ?? name('segment-changes'),
      tags: e.PRECIS_QUEUE_TAGS ?? name('tag-requests'),
      campaignActivity: e.PRECIS_QUEUE_CAMPAIGN_ACTIVITY ?? name('campaign-activity'),
      emailFeedback: e.PRECIS_QUEUE_EMAIL_FEEDBACK ?? name('email-feedback'),
    },
    buckets: { archive: e.PRECIS_BUCKET_ARCHIVE ?? name('archive') },
    endpoints: {
      dynamodb: e.PRECIS_ENDPOINT_DYNAMODB,
      s3: e.PRECIS_ENDPOINT_S3,
      sqs: e.PRECIS_ENDPOINT_SQS,
      ses: e.PRECIS_ENDPOINT_SES,
    },
    dedupWindowDays: e.PRECIS_DEDUP_WINDOW_DAYS,
    quarantineRetentionDays: e.PRECIS_QUARANTINE_RETENTION_DAYS,
    archiveLeaseSeconds: e.PRECIS_ARCHIVE_LEASE_SECONDS,
    campaignStatsLeaseSeconds: e.PRECIS_CAMPAIGN_STATS_LEASE_SECONDS,
    apiKeyCacheSeconds: e.PRECIS_API_KEY_CACHE_SECONDS,
    quality: {
      maxAmount: e.PRECIS_MAX_AMOUNT,
      maxQuantity: e.PRECIS_MAX_QUANTITY,
      maxFutureMs: e.PRECIS_MAX_FUTURE_HOURS * 3_600_000,
      minTimestampMs: Date.parse(e.PRECIS_MIN_TIMESTAMP),
      junkIds: new Set(e.PRECIS_JUNK_IDS.map((id) => id.toLowerCase())),
    },
    pii: {
      kmsKeyId: e.PRECIS_PII_KMS_KEY_ID,
      localKey: e.PRECIS_PII_LOCAL_KEY ? Buffer.from(e.PRECIS_PII_LOCAL_KEY, 'base64') : undefined,
      hmacSecretArn: e.PRECIS_HMAC_SECRET_ARN,
      hmacSecret: e.PRECIS_HMAC_SECRET || undefined,
      ip: e.PRECIS_PII_IP,
    },
    identifiers: parseIdentifierRules(e.PRECIS_IDENTIFIERS),
    businessTimezone: e.PRECIS_BUSINESS_TIMEZONE,
    codeVersion: e.PRECIS_CODE_VERSION,
    history: historyOf(e),
    publicBaseUrl: e.PRECIS_PUBLIC_BASE_URL,
    sendDecision: {
      controlPercent: e.PRECIS_CONTROL_GROUP_PERCENT,
      controlSalt: e.PRECIS_CONTROL_GROUP_SALT,
      caps: parseCaps(e.PRECIS_FREQUENCY_CAPS),
      quietHours: parseQuietHours(e.PRECIS_QUIET_HOURS),
      unknownConsentGranted: e.PRECIS_CONSENT_UNKNOWN_GRANTED,
    },
    channels: channelsOf(e),
  });
}

function historyOf(e: z.infer<typeof Env>): HistoryConfig {
  const athena = e.PRECIS_HISTORY_ENGINE === 'athena';
  if (athena && !(e.PRECIS_HISTORY_WORKGROUP && e.PRECIS_GLUE_DATABASE))
    throw new ConfigError(
      'Invalid configuration: PRECIS_HISTORY_WORKGROUP, PRECIS_GLUE_DATABASE: both required when PRECIS_HISTORY_ENGINE is athena',
    );
  return {
    engine:
      athena && e.PRECIS_HISTORY_WORKGROUP && e.PRECIS_GLUE_DATABASE
        ? { kind: 'athena', workGroup: e.PRECIS_HISTORY_WORKGROUP, database: e.PRECIS_GLUE_DATABASE }
        : { kind: 'duckdb' },
    dir: e.PRECIS_HISTORY_DIR ?? join(tmpdir(), 'precis-history'),
    threads: e.PRECIS_HISTORY_THREADS ?? availableParallelism(),
    memoryMb: e.PRECIS_HISTORY_MEMORY_MB,
  };
}

/** The channels' settings; a channel set to its provider without what the provider needs is refused. */
function channelsOf(e: z.infer<typeof Env>): ChannelsConfig {
  const problems = [
    e.PRECIS_EMAIL_CHANNEL === 'ses' &&
      !e.PRECIS_EMAIL_FROM &&
      'PRECIS_EMAIL_FROM: required when PRECIS_EMAIL_CHANNEL is ses',
    e.PRECIS_WEBHOOK_CHANNEL === 'webhook' &&
      !(e.PRECIS_WEBHOOK_URL && e.PRECIS_WEBHOOK_SECRET) &&
      'PRECIS_WEBHOOK_URL, PRECIS_WEBHOOK_SECRET: both required when PRECIS_WEBHOOK_CHANNEL is webhook',
  ].filter(Boolean);
  if (problems.length) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return {
    email:
      e.PRECIS_EMAIL_CHANNEL === 'ses' && e.PRECIS_EMAIL_FROM
        ? { mode: 'ses', from: e.PRECIS_EMAIL_FROM, configurationSet: e.PRECIS_SES_CONFIGURATION_SET }
        : { mode: 'outbox', from: e.PRECIS_EMAIL_FROM },
    sms: {
      mode: e.PRECIS_SMS_CHANNEL,
      originationIdentity: e.PRECIS_SMS_ORIGINATION,
      configurationSet: e.PRECIS_SMS_CONFIGURATION_SET,
    },
    push: {
      mode: e.PRECIS_PUSH_CHANNEL,
      ...(e.PRECIS_PUSH_PLATFORM_APPLICATION
        ? { platformApplicationArn: e.PRECIS_PUSH_PLATFORM_APPLICATION }
        : {}),
    },
    webhook: {
      mode: e.PRECIS_WEBHOOK_CHANNEL,
      endpoints:
        e.PRECIS_WEBHOOK_URL && e.PRECIS_WEBHOOK_SECRET
          ? [{ url: e.PRECIS_WEBHOOK_URL, secret: e.PRECIS_WEBHOOK_SECRET }]
          : [],
    },
  };
}

let memo: Config | undefined;

/** The process-wide configuration, parsed from process.env on first use. */
export function config(): Config {
  memo ??= parseConfig(process.env);
  return memo;
}

function parseIdentifierRules(specs: readonly string[]): IdentifierRule[] {
  return specs.map((spec) => {
    const [type, priority, limit] = spec.split(':');
    const rule = { type: type ?? '', priority: Number(priority), limit: Number(limit) };
    if (!rule.type || !Number.isInteger(rule.priority) || !Number.isInteger(rule.limit) || rule.limit < 1) {
      throw new ConfigError(
        `Invalid configuration: PRECIS_IDENTIFIERS: "${spec}" is not type:priority:limit`,
      );
    }
    return rule;
  });
}

/** `HH:MM-HH:MM` (validated by Env), or `off`. */
function parseQuietHours(spec: string): SendDecisionConfig['quietHours'] {
  return spec === 'off' ? undefined : { start: spec.slice(0, 5), end: spec.slice(6) };
}

function parseCaps(specs: readonly string[]): Record<Channel | 'all', CapConfig> {
  const caps = { ...DEFAULT_CAPS };
  const names: readonly string[] = [...CHANNELS, 'all'];
  for (const spec of specs) {
    const [name, day, week] = spec.split(':');
    const cap = { perDay: Number(day), perWeek: Number(week) };
    const valid =
      name !== undefined &&
      names.includes(name) &&
      /^\d{1,6}$/.test(day ?? '') &&
      /^\d{1,6}$/.test(week ?? '') &&
      cap.perWeek >= cap.perDay;
    if (!valid) {
      throw new ConfigError(
        `Invalid configuration: PRECIS_FREQUENCY_CAPS: "${spec}" is not channel:perDay:perWeek (${names.join('|')}, 0 <= perDay <= perWeek)`,
      );
    }
    caps[name as Channel | 'all'] = cap;
  }
  return caps;
}

/** The process environment with overrides on top: for CLIs and tools pointed at a local stack. */
export function configFor(overrides: Record<string, string | undefined>): Config {
  return parseConfig({ ...process.env, ...overrides });
}
