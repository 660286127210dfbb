// The composition root: builds each adapter once from config, on first use, so a function only creates
// the clients it touches. Lambda handlers and CLIs take their dependencies from here; tests build
// their own from the same factories.
import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { apiKeysTable } from './adapters/dynamodb/apiKeysTable.js';
import { campaignStatsTable } from './adapters/dynamodb/campaignStatsTable.js';
import { campaignsTable } from './adapters/dynamodb/campaignsTable.js';
import { couponsTable } from './adapters/dynamodb/couponsTable.js';
import { dataKeysTable } from './adapters/dynamodb/dataKeysTable.js';
import { datesTable, lapsesTable } from './adapters/dynamodb/dayIndexTable.js';
import { dedupTable } from './adapters/dynamodb/dedupTable.js';
import { identityTable } from './adapters/dynamodb/identityTable.js';
import { messagingTable } from './adapters/dynamodb/messagingTable.js';
import { profilesTable } from './adapters/dynamodb/profilesTable.js';
import { quarantineTable } from './adapters/dynamodb/quarantineTable.js';
import { segmentsTable } from './adapters/dynamodb/segmentsTable.js';
import { tagsTable } from './adapters/dynamodb/tagsTable.js';
import { waitsTable } from './adapters/dynamodb/waitsTable.js';
import { kmsKeyProvider } from './adapters/kms/kmsKeyProvider.js';
import { outboxSender } from './adapters/outbox/outboxSender.js';
import { outboxTable } from './adapters/outbox/outboxTable.js';
import { snsPushSender } from './adapters/push/pushSender.js';
import { archiveBucket, archiveReader } from './adapters/s3/archiveBucket.js';
import { s3ImportObjects } from './adapters/s3/importObjects.js';
import { reportsBucket } from './adapters/s3/reportsBucket.js';
import { segmentationFiles } from './adapters/s3/segmentationFiles.js';
import { secretValue } from './adapters/secrets/secretValue.js';
import { sesEmailSender } from './adapters/ses/emailSender.js';
import { smsSender } from './adapters/sms/smsSender.js';
import { activityQueue } from './adapters/sqs/activityQueue.js';
import { eventQueue } from './adapters/sqs/eventQueue.js';
import { runQueue } from './adapters/sqs/runQueue.js';
import { segmentChangesQueue } from './adapters/sqs/segmentChanges.js';
import { tagRequestsQueue } from './adapters/sqs/tagRequests.js';
import { webhookSender } from './adapters/webhook/webhookSender.js';
import type { ArchiveDeps } from './archive/archiveBatch.js';
import { archiveDayPrefix, fromArchiveRecord } from './archive/record.js';
import type { ApiKeyStore } from './auth/apiKeys.js';
import { type Authenticator, authenticator } from './auth/authenticate.js';
import { dynamodb, kms, s3, secretsManager, sesv2, smsVoice, sns, sqs } from './aws/clients.js';
import type { CampaignDeps } from './campaigns/api.js';
import { BACKTEST_MAX_EVENTS, type BacktestApiDeps } from './campaigns/backtest.js';
import { type ChannelSender, type ChannelSenders, channelRouter } from './campaigns/channels.js';
import type { CouponDeps } from './campaigns/coupons.js';
import { decisionSettings } from './campaigns/decision.js';
import { type DispatchDeps, recipientReader } from './campaigns/dispatch.js';
import { type EngineDeps, enabledCampaigns } from './campaigns/engine.js';
import { lapseRecorder } from './campaigns/lapseIndex.js';
import type { MessagingStore } from './campaigns/messaging.js';
import type { MessagingApiDeps } from './campaigns/messagingApi.js';
import type { OutboxStore } from './campaigns/outbox.js';
import { resolveActivities } from './campaigns/publish.js';
import type { ReportDeps } from './campaigns/report.js';
import type { CampaignStatsStore, StatsDeps } from './campaigns/reportStore.js';
import { type CampaignStore, campaignStore } from './campaigns/store.js';
import type { UnsubscribeDeps } from './campaigns/unsubscribe.js';
import type { WaitStore } from './campaigns/waits.js';
import { type Config, config, type PiiConfig } from './config.js';
import type { LookupDeps } from './customers/lookup.js';
import { type CustomerReadDeps, customerEvents } from './customers/read.js';
import { identityRules } from './identity/graph.js';
import type { ResolveDeps } from './identity/resolve.js';
import type { DropDeps, ReportStore } from './imports/drop.js';
import type { ImportDeps } from './imports/importFile.js';
import type { EventSink, IngestDeps } from './ingest/ingest.js';
import type { NormalizedEvent } from './ingest/normalized.js';
import { logger } from './log.js';
import { createPiiCipher, type PiiCipher } from './pii/cipher.js';
import { loadHmacSecret } from './pii/hmac.js';
import { keyProviderFor } from './pii/keys.js';
import { eventProtector, payloadSeal } from './pii/protect.js';
import type { ProfileDeps } from './profiles/consume.js';
import type { PartialStore } from './profiles/store.js';
import type { OpenPayload, QuarantineStore, SealPayload } from './quarantine/model.js';
import type { ReplayDeps } from './quarantine/replay.js';
import type { RunFiles, RunStore } from './segmentation/ports.js';
import type { HistoryReader } from './segmentation/reader.js';
import type { RequestDeps } from './segmentation/requests.js';
import type { RunDeps } from './segmentation/run.js';
import type { TagApiDeps } from './tags/api.js';
import { tagCatalogue } from './tags/catalogue.js';
import { type SweepDeps, sweepPublished, type TagDeps } from './tags/consume.js';

/** A value made on first use and kept (per container). */
export const once = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
};

/** The identifiers' HMAC secret: from the stage's settings, else read from Secrets Manager (once). */
const hmacSecret = (pii: PiiConfig) => loadHmacSecret(pii, (arn) => secretValue(secretsManager(), arn));

export const apiKeys = once((): ApiKeyStore => apiKeysTable(dynamodb(), config().tables.apiKeys));
export const auth = once((): Authenticator => authenticator(apiKeys(), config().apiKeyCacheSeconds * 1000));
export const quarantine = once(
  (): QuarantineStore =>
    quarantineTable(dynamodb(), config().tables.quarantine, config().quarantineRetentionDays),
);
export const reports = once((): ReportStore => reportsBucket(s3(), config().buckets.archive));
export const ingestQueue = once((): EventSink => eventQueue(sqs(), config().queues.ingest));

/**
 * PII protection of a configuration: the cipher (KMS key, else local key, else one that fails with what
 * to set at its first use), the edge's event protection and the quarantine's payload seal. CLIs pointed at
 * another environment build theirs from their own Config and clients.
 */
export function piiFor(
  c: Config,
  clients: { readonly dynamodb: DynamoDBDocumentClient; readonly kms: () => KMSClient },
): {
  cipher: PiiCipher;
  protect: (e: NormalizedEvent) => Promise<NormalizedEvent>;
  sealPayload: SealPayload;
  openPayload: OpenPayload;
} {
  const cipher = createPiiCipher({
    provider: keyProviderFor(c.pii, (keyId) => kmsKeyProvider(clients.kms(), keyId)),
    store: dataKeysTable(clients.dynamodb, c.tables.dataKeys),
  });
  const seal = payloadSeal(cipher);
  return {
    cipher,
    protect: eventProtector({
      cipher,
      secret: () => hmacSecret(c.pii),
      junk: c.quality.junkIds,
      ip: c.pii.ip,
    }),
    sealPayload: seal.seal,
    openPayload: seal.open,
  };
}

export const pii = once(() => piiFor(config(), { dynamodb: dynamodb(), kms }));

export const ingestDeps = once(
  (): IngestDeps => ({
    sink: ingestQueue(),
    quarantine: quarantine(),
    quality: config().quality,
    log: logger(),
    now: Date.now,
    protect: pii().protect,
    sealPayload: pii().sealPayload,
  }),
);

export const replayDeps = once(
  (): ReplayDeps => ({
    quarantine: quarantine(),
    sink: ingestQueue(),
    quality: config().quality,
    now: Date.now,
    openPayload: pii().openPayload,
    protect: pii().protect,
  }),
);

export const archiveDeps = once(
  (): ArchiveDeps => ({
    dedup: dedupTable(dynamodb(), config().tables.dedup),
    archive: archiveBucket(s3(), config().buckets.archive),
    log: logger(),
    now: Date.now,
    leaseMs: config().archiveLeaseSeconds * 1000,
    windowMs: config().dedupWindowDays * 86_400_000,
  }),
);

export const identityDeps = once(
  (): ResolveDeps => ({
    store: identityTable(dynamodb(), config().tables.identity),
    rules: identityRules(config().identifiers),
    now: Date.now,
    log: logger(),
  }),
);

const partials = once((): PartialStore => profilesTable(dynamodb(), config().tables.profiles));
/** The tags queue: customers to evaluate again, and sweep steps (lib/tags/consume.ts). */
const tagRequests = once(() => tagRequestsQueue(sqs(), config().queues.tags));
/** A customer as the campaign engine and the tags consumer read them: profile, assignment, addresses. */
const recipients = once(() =>
  recipientReader({ lookup: customerLookup(), partials: partials(), segments: segmentRuns() }),
);

export const profileDeps = once(
  (): ProfileDeps => ({
    archive: archiveReader(s3(), config().buckets.archive),
    partials: partials(),
    identity: identityDeps(),
    log: logger(),
    activities: activityQueue(sqs(), config().queues.campaignActivity),
    tags: tagRequests(),
  }),
);

/** Tag definitions and customers' tags (lib/tags; one table). */
const tags = once(() => tagsTable(dynamodb(), config().tables.tags));
/** The enabled tag definitions, cached per container, for campaign audiences (lib/tags/catalogue.ts). */
const tagDefinitions = once(() => tagCatalogue(tags()));

/** A sweep of the published run's customers (a definition saved or deleted; lib/tags/consume.ts). */
export const tagSweepDeps = once(
  (): SweepDeps => ({
    runs: segmentRuns(),
    files: segmentFiles(),
    requests: tagRequests(),
  }),
);

export const tagApiDeps = once(
  (): TagApiDeps => ({
    definitions: tags(),
    store: tags(),
    now: Date.now,
    reevaluate: () => sweepPublished(tagSweepDeps()),
  }),
);

/** The tags queue consumer (lib/tags/consume.ts). */
export const tagDeps = once(
  (): TagDeps => ({
    recipients: recipients(),
    definitions: tags(),
    store: tags(),
    absorbed: async (customerId) =>
      (await identityDeps().store.mergeLog(customerId))
        .filter((e) => e.kind === 'merge')
        .flatMap((e) => e.from),
    now: Date.now,
  }),
);

export const segmentRuns = once((): RunStore => segmentsTable(dynamodb(), config().tables.segments));

/** Campaign definitions and their versions (lib/campaigns/store.ts). */
export const campaigns = once(
  (): CampaignStore => campaignStore(campaignsTable(dynamodb(), config().tables.campaigns)),
);
export const campaignDeps = once((): CampaignDeps => ({ campaigns: campaigns(), now: Date.now }));

/** A campaign's back-test over the archive (lib/campaigns/backtest.ts): reads only, sends nothing. */
export const backtestDeps = once((): BacktestApiDeps => {
  const c = config();
  const archive = archiveReader(s3(), c.buckets.archive);
  const nodes = identityTable(dynamodb(), c.tables.identity);
  return {
    campaigns: campaigns(),
    archivedOn: async (day, { start, end, limit }) => {
      const events: NormalizedEvent[] = [];
      for await (const record of archive.allRecords(archiveDayPrefix(day))) {
        if (events.length >= limit) break;
        const event = fromArchiveRecord(record);
        const at = Date.parse(event.timestamp);
        if (at >= start && at < end) events.push(event);
      }
      return (await resolveActivities(events, nodes)).activities;
    },
    recipients: recipients(),
    tags: tagDefinitions(),
    messaging: messaging(),
    settings: decisionSettings(c.sendDecision, c.businessTimezone, c.channels.webhook.mode === 'webhook'),
    maxEvents: BACKTEST_MAX_EVENTS,
    now: Date.now,
  };
});

/** Campaign waits and deferred sends: opened and cancelled by the activity consumer, fired by the sweep. */
export const waits = once((): WaitStore => waitsTable(dynamodb(), config().tables.waits));
export const segmentFiles = once((): RunFiles => segmentationFiles(s3(), config().buckets.archive));

/** Finding a customer by any identifier (lib/customers/lookup.ts), for every route with a customer {id}. */
export const customerLookup = once(
  (): LookupDeps => ({ store: identityDeps().store, secret: () => hmacSecret(config().pii) }),
);

export const customerReadDeps = once(
  (): CustomerReadDeps => ({
    lookup: customerLookup(),
    identity: identityDeps().store,
    partials: partials(),
    segments: segmentRuns(),
    tags: tags(),
    cipher: pii().cipher,
    now: Date.now,
  }),
);

/** Bulk imports: rows go through the same ingest pipeline as live traffic (lib/imports). */
export const importDeps = once(
  (): ImportDeps => ({
    ingest: ingestDeps(),
    secret: () => hmacSecret(config().pii),
    now: Date.now,
  }),
);

export const importDropDeps = once(
  (): DropDeps => ({
    imports: importDeps(),
    objects: s3ImportObjects(s3()),
    reports: reports(),
    log: logger(),
  }),
);

/**
 * A segmentation run's dependencies for a configuration, reading history through `history`: the runner's
 * (SQL on DuckDB) comes from lib/history/runtime.ts, which only the runner and the CLI import.
 */
export function runDepsFor(
  c: Config,
  clients: { readonly dynamodb: DynamoDBDocumentClient; readonly s3: S3Client; readonly sqs: SQSClient },
  history: HistoryReader,
): RunDeps {
  return {
    history,
    runs: segmentsTable(clients.dynamodb, c.tables.segments),
    files: segmentationFiles(clients.s3, c.buckets.archive),
    changes: segmentChangesQueue(clients.sqs, c.queues.segmentChanges),
    tags: tagRequestsQueue(clients.sqs, c.queues.tags),
    codeVersion: c.codeVersion,
    log: logger(),
  };
}

export const runRequestDeps = once(
  (): RequestDeps => ({
    runs: segmentRuns(),
    queue: runQueue(sqs(), config().queues.segmentation),
    codeVersion: config().codeVersion,
    timezone: config().businessTimezone,
    now: Date.now,
    minAsOf: config().quality.minTimestampMs,
  }),
);

/** Campaign report counters: fed by the engine (lib/campaigns/reportStore.ts use cases), read by reports. */
export const campaignStats = once(
  (): CampaignStatsStore =>
    campaignStatsTable(dynamodb(), config().tables.campaignStats, config().campaignStatsLeaseSeconds * 1000),
);
export const statsDeps = once((): StatsDeps => ({ stats: campaignStats(), now: Date.now }));
export const campaignReportDeps = once(
  (): ReportDeps => ({ stats: campaignStats(), campaigns: campaigns(), now: Date.now }),
);

export const outbox = once((): OutboxStore => outboxTable(dynamodb(), config().tables.outbox));
export const outboxListDeps = once(() => ({ outbox: outbox(), now: Date.now }));
export const couponDeps = once(
  (): CouponDeps => ({ coupons: couponsTable(dynamodb(), config().tables.coupons) }),
);

/**
 * Each campaign channel's sender as the configuration sets it: its provider's adapter, or the outbox.
 * Provider clients are asked for only by the channels that use them.
 */
export function channelSendersFor(
  c: Config,
  deps: {
    readonly outbox: OutboxStore;
    readonly sesv2: () => Parameters<typeof sesEmailSender>[0];
    readonly sms: () => Parameters<typeof smsSender>[0];
    readonly sns: () => Parameters<typeof snsPushSender>[0];
    readonly now: () => number;
  },
): ChannelSenders {
  const { email, sms, push, webhook } = c.channels;
  return {
    email: email.mode === 'ses' ? sesEmailSender(deps.sesv2(), email) : outboxSender(deps.outbox, deps.now),
    sms: sms.mode === 'sms' ? smsSender(deps.sms(), sms) : outboxSender(deps.outbox, deps.now),
    push: push.mode === 'sns' ? snsPushSender(deps.sns(), push) : outboxSender(deps.outbox, deps.now),
    webhook:
      webhook.mode === 'webhook'
        ? webhookSender({ endpoints: webhook.endpoints, now: deps.now })
        : outboxSender(deps.outbox, deps.now),
  };
}

/** The one sender of campaign messages (the dispatcher's). */
export const channels = once(
  (): ChannelSender =>
    channelRouter(
      channelSendersFor(config(), { outbox: outbox(), sesv2, sms: smsVoice, sns, now: Date.now }),
    ),
);

/** Consent, unsubscribes, suppressions, caps, send claims and the decision log (lib/campaigns/messaging.ts). */
export const messaging = once((): MessagingStore => messagingTable(dynamodb(), config().tables.messaging));
/** SES bounce and complaint events into the suppression list (functions/queue/emailFeedback.ts). */
export const emailFeedbackDeps = once(() => ({
  store: messaging(),
  secret: () => hmacSecret(config().pii),
}));
export const messagingApiDeps = once(
  (): MessagingApiDeps => ({ store: messaging(), lookup: customerLookup(), now: Date.now }),
);
export const unsubscribeDeps = once(
  (): UnsubscribeDeps => ({
    store: messaging(),
    lookup: customerLookup(),
    secret: () => hmacSecret(config().pii),
    now: Date.now,
  }),
);

/** The campaign dispatcher: decision, caps, claims, coupons, render and channels (lib/campaigns/dispatch.ts). */
export const dispatchDeps = once((): DispatchDeps => {
  const c = config();
  const webhook = c.channels.webhook.mode === 'webhook' ? c.channels.webhook.endpoints[0] : undefined;
  const enabled = campaignCache();
  return {
    campaign: (id) => enabled.get(id, Date.now()),
    recipients: recipients(),
    tags: tagDefinitions(),
    messaging: messaging(),
    waits: waits(),
    coupons: couponDeps(),
    channels: channels(),
    stats: statsDeps(),
    settings: decisionSettings(c.sendDecision, c.businessTimezone, webhook !== undefined),
    cipher: pii().cipher,
    secret: () => hmacSecret(c.pii),
    publicBaseUrl: c.publicBaseUrl,
    ...(webhook ? { webhookUrl: webhook.url } : {}),
    log: logger(),
  };
});

/** The lapse index, which the inactivity job reads and every campaign activity feeds. */
const lapses = once(() => lapsesTable(dynamodb(), config().tables.messaging));

/** The enabled campaigns, cached per container (lib/campaigns/engine.ts). */
const campaignCache = once(() => enabledCampaigns(campaigns()));

/** The campaign engine's consumers and timer sweep (functions/queue/campaign*.ts, schedule/campaignTimers). */
export const campaignEngineDeps = once(
  (): EngineDeps => ({
    campaigns: campaignCache(),
    dispatch: dispatchDeps(),
    recentEvents: async (customerId) => {
      const page = await customerEvents(customerId, { limit: 200 }, customerReadDeps());
      return page.ok ? page.value.items : [];
    },
    dates: datesTable(dynamodb(), config().tables.messaging),
    lapses: lapses(),
    recordLapses: lapseRecorder(lapses()),
  }),
);
