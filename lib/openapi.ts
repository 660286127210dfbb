// The OpenAPI 3.1 document of the public API, generated from the zod schemas the handlers validate
// with. Served at GET /openapi.json and written to docs/openapi.json by `npm run openapi`.
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  CampaignGetQuery,
  CampaignIdPath,
  CampaignListQuery,
  CampaignListResponse,
  CampaignUpdate,
} from './campaigns/api.js';
import { BacktestRequest, BacktestResponse } from './campaigns/backtest.js';
import {
  ConsentRequest,
  ConsentWriteResponse,
  CustomerConsentResponse,
  DecisionsPage,
  DecisionsQuery,
} from './campaigns/messagingApi.js';
import { Campaign, CampaignDefinition } from './campaigns/model.js';
import { OutboxListQuery, OutboxListResponse } from './campaigns/outbox.js';
import { CampaignReport, CampaignReportPath, CampaignReportQuery } from './campaigns/report.js';
import { UnsubscribeQuery } from './campaigns/unsubscribe.js';
import {
  CustomerEventsQuery,
  CustomerIdPath,
  CustomerProfileQuery,
  UnmergeRequest,
  UnmergeResponse,
} from './customers/api.js';
import {
  CustomerIdentitiesResponse,
  CustomerProfileResponse,
  CustomerRecommendationsResponse,
} from './customers/read.js';
import { ErrorBody } from './errors.js';
import { ImportQuery, ImportReport } from './imports/model.js';
import { BatchBody, IngestResponse, SCHEMAS_BY_TYPE, SpecEvent } from './ingest/spec.js';
import { CustomerEvent } from './profiles/timeline.js';
import {
  QuarantineIdPath,
  QuarantineListQuery,
  QuarantineListResponse,
  ReplayRequest,
  ReplayResponse,
} from './quarantine/api.js';
import { QuarantineEntry } from './quarantine/model.js';
import {
  MembersQuery,
  MembersResponse,
  RunIdParam,
  RunListQuery,
  RunListResponse,
  RunResponse,
  SegmentParam,
  SegmentsQuery,
  SegmentsResponse,
} from './segmentation/api.js';
import { RunRecord } from './segmentation/model.js';
import { RunRequestBody, RunRequestHeaders } from './segmentation/requests.js';
import {
  TagCustomersQuery,
  TagCustomersResponse,
  TagDeleted,
  TagIdPath,
  TagListResponse,
  TagResponse,
  TagUpdate,
} from './tags/api.js';
import { Tag } from './tags/model.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const errors = {
  400: json(
    ErrorBody,
    'Malformed JSON, an invalid request, or every event rejected (details name each field; a path ' +
      'parameter as path.<name>, e.g. path.id)',
  ),
  401: json(ErrorBody, 'Missing, unknown or revoked API key'),
  403: json(ErrorBody, 'The key lacks the role this route needs'),
  503: json(ErrorBody, 'Storage unavailable: retry with backoff (nothing was acknowledged)'),
};

function build() {
  const registry = new OpenAPIRegistry();
  const writeKey = registry.registerComponent('securitySchemes', 'writeKey', {
    type: 'http',
    scheme: 'basic',
    description: 'Segment-style: the write key as the user name, empty password',
  });
  const apiKey = registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'A read or admin key (HTTP Basic with the key as user name works too)',
  });
  const ingestResponses = {
    200: json(IngestResponse, 'Accepted events are durable; rejected ones are quarantined and listed'),
    ...errors,
    413: json(ErrorBody, 'Request over 500 KB (an event over 32 KB is rejected on its own)'),
  };
  for (const [type, schema] of Object.entries(SCHEMAS_BY_TYPE)) {
    for (const path of [`/v1/${type}`, `/v1/${type.charAt(0)}`]) {
      const short = path.length === 5;
      registry.registerPath({
        method: 'post',
        path,
        tags: ['Ingestion'],
        summary: short ? `Segment ${type} call (analytics.js path)` : `Segment ${type} call`,
        description:
          'Compatible with the Segment HTTP Tracking API. `type` may be omitted: the path sets it.' +
          (short ? ' analytics.js sends the write key as `writeKey` in a text/plain body.' : ''),
        security: [{ [writeKey.name]: [] }],
        request: { body: json(schema, `A ${type} event`) },
        responses: ingestResponses,
      });
    }
  }
  for (const path of ['/v1/batch', '/v1/import', '/v1/b']) {
    registry.registerPath({
      method: 'post',
      path,
      tags: ['Ingestion'],
      summary: 'Several events of any type in one request',
      description: 'Each event is validated on its own: a bad event never sinks the good ones.',
      security: [{ [writeKey.name]: [] }],
      request: { body: json(BatchBody.extend({ batch: z.array(SpecEvent).min(1) }), 'A Segment batch') },
      responses: ingestResponses,
    });
  }
  const file = z
    .string()
    .meta({ description: 'The file: CSV with a header row, or one JSON object per line' });
  registry.registerPath({
    method: 'post',
    path: '/v1/imports',
    tags: ['Imports'],
    summary: 'Bulk import of customers or historical orders from a CSV or NDJSON file (at most 5 MB)',
    description:
      'Each row becomes a Segment event (identify for customers, Order Completed / Refunded / Cancelled ' +
      'for orders) that goes through the same pipeline as live events; rows that cannot are reported by row ' +
      'number. Re-uploading a file imports nothing twice. Larger files: the S3 drop (imports/<source>/' +
      '<type>/ in the archive bucket) or `npm run import`.',
    security: [{ [writeKey.name]: [] }],
    request: {
      query: ImportQuery,
      body: {
        description: 'The file',
        content: { 'text/csv': { schema: file }, 'application/x-ndjson': { schema: file } },
      },
    },
    responses: {
      200: json(ImportReport, 'Rows were imported; the report lists the rows that were not'),
      ...errors,
      400: json(
        ErrorBody,
        'No row was imported, or the file could not be read to its end: `details` is the report',
      ),
      413: json(ErrorBody, 'Body over 5 MB'),
      415: json(ErrorBody, 'Neither CSV nor NDJSON'),
    },
  });
  const adminOnly = [{ [apiKey.name]: [] }];
  registry.registerPath({
    method: 'get',
    path: '/v1/quarantine',
    tags: ['Quarantine'],
    summary: 'Quarantined events, newest first',
    security: adminOnly,
    request: { query: QuarantineListQuery },
    responses: { 200: json(QuarantineListResponse, 'A page of entries'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/quarantine/{id}',
    tags: ['Quarantine'],
    summary: 'One quarantined event with its reasons and raw payload',
    security: adminOnly,
    request: { params: QuarantineIdPath },
    responses: { 200: json(QuarantineEntry, 'The entry'), 404: json(ErrorBody, 'No such entry'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/quarantine/{id}/replay',
    tags: ['Quarantine'],
    summary: 'Replay a quarantined event (optionally corrected) through the pipeline',
    security: adminOnly,
    request: { params: QuarantineIdPath, body: json(ReplayRequest, 'Optional corrected event') },
    responses: {
      200: json(ReplayResponse, 'What happened'),
      404: json(ErrorBody, 'No such entry'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/outbox',
    tags: ['Campaigns'],
    summary: 'Messages recorded by channels set to outbox (locally SMS, push, webhooks), newest first',
    description:
      'The last 7 days (UTC), addresses masked: what was sent, with its rendered content, never how to ' +
      'reach the customer. Admin keys only.',
    security: adminOnly,
    request: { query: OutboxListQuery },
    responses: { 200: json(OutboxListResponse, 'A page of entries'), ...errors },
  });
  const readers = [{ [apiKey.name]: [] }];
  registry.registerPath({
    method: 'get',
    path: '/v1/customers/{id}',
    tags: ['Customers'],
    summary: 'A customer profile: traits (masked) and behavioral aggregates, merged over all identities',
    security: readers,
    request: { params: CustomerIdPath, query: CustomerProfileQuery },
    responses: {
      200: json(CustomerProfileResponse, 'The profile'),
      404: json(ErrorBody, 'Unknown customer'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/customers/{id}/events',
    tags: ['Customers'],
    summary: "The customer's recent events (the latest 50 of each of its identities), newest first",
    security: readers,
    request: { params: CustomerIdPath, query: CustomerEventsQuery },
    responses: {
      200: json(
        z.object({
          customerId: z.string(),
          items: z.array(CustomerEvent),
          nextCursor: z.string().optional(),
        }),
        'A page',
      ),
      404: json(ErrorBody, 'Unknown customer'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/customers/{id}/identities',
    tags: ['Customers'],
    summary: 'The identity graph of a customer and its merge log',
    security: readers,
    request: { params: CustomerIdPath },
    responses: {
      200: json(CustomerIdentitiesResponse, 'Graph and log'),
      404: json(ErrorBody, 'Unknown customer'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/customers/{id}/recommendations',
    tags: ['Customers'],
    summary: "A customer's recommended items from the published segmentation run",
    security: readers,
    request: { params: CustomerIdPath },
    responses: {
      200: json(
        CustomerRecommendationsResponse,
        'Top items, best first, each with the item of theirs that led to it',
      ),
      404: json(ErrorBody, 'Unknown customer'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/customers/{id}/unmerge',
    tags: ['Customers'],
    summary: 'Undo a merge from the log (admin); the same link will not merge the two again by itself',
    security: adminOnly,
    request: { params: CustomerIdPath, body: json(UnmergeRequest, 'Which merge') },
    responses: {
      200: json(UnmergeResponse, 'The customers now'),
      404: json(ErrorBody, 'Unknown customer or merge'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/segmentation/runs',
    tags: ['Segmentation'],
    summary: 'Ask for a segmentation run (admin): RFM + K-means into named segments, as of a date',
    description:
      'The run is queued and executed by the runner (minutes); poll GET /v1/segmentation/runs/{id}. ' +
      'A run as of D uses exactly the events timestamped before D. Without asOf it is a live run as of the ' +
      'latest midnight in the business time zone, which publishes assignments and segment changes.',
    security: adminOnly,
    request: { body: json(RunRequestBody, 'Every field optional'), headers: RunRequestHeaders },
    responses: {
      202: json(
        z.object({ run: RunRecord }),
        'Queued (or the existing run of that nightly id, or of that Idempotency-Key)',
      ),
      409: json(ErrorBody, 'The Idempotency-Key was used for a run asked with another body'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/segmentation/runs',
    tags: ['Segmentation'],
    summary: 'Segmentation runs, latest as-of first, page by page',
    security: readers,
    request: { query: RunListQuery },
    responses: { 200: json(RunListResponse, 'A page of runs'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/segmentation/runs/{id}',
    tags: ['Segmentation'],
    summary: 'A run: status, parameters, code version, summary and (once completed) its full report',
    security: readers,
    request: { params: RunIdParam },
    responses: { 200: json(RunResponse, 'The run'), 404: json(ErrorBody, 'Unknown run'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/segments',
    tags: ['Segmentation'],
    summary: 'The named segments of the published run (or of ?runId=), with sizes and reasons',
    security: readers,
    request: { query: SegmentsQuery },
    responses: {
      200: json(SegmentsResponse, 'Segments'),
      404: json(ErrorBody, 'No such run yet'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/segments/{id}/members',
    tags: ['Segmentation'],
    summary: "A segment's members with their RFM scores and reasons, page by page",
    security: readers,
    request: { params: SegmentParam, query: MembersQuery },
    responses: { 200: json(MembersResponse, 'A page'), 404: json(ErrorBody, 'No such run yet'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/campaigns/{id}/report',
    tags: ['Campaigns'],
    summary: "A campaign's live report: what it did, what followed, and its uplift over the members held out",
    description:
      'Counters are live and cumulative since the first exposure, across versions. A goal event counts ' +
      'for a member when it happens within the goal window after the send (treated) or the "would have ' +
      'sent" assignment (control, holdout); each campaign counts its own conversions, so attributed ' +
      'revenue is an upper bound, and the uplift of treated over control (95 % intervals) is the measure ' +
      'of what the campaign caused.',
    security: readers,
    request: { params: CampaignReportPath, query: CampaignReportQuery },
    responses: {
      200: json(CampaignReport, 'The report'),
      404: json(ErrorBody, 'No such campaign, and nothing counted under its id'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/campaigns/{id}/backtest',
    tags: ['Campaigns'],
    summary:
      'What the campaign would have done over a past period, replayed from the archive (sends nothing)',
    description:
      "The period's archived events (event time, UTC days, at most 31) replay through the campaign's trigger, " +
      'waits, audience and send decision, with nothing written or sent: candidates, would-send, control, ' +
      'holdout and skips by reason, per day. Consent, unsubscribes, suppressions and profiles are as they are ' +
      "now; caps and re-entry count the replay's own sends. Event triggers only. A replay over " +
      '200,000 events or 20 s stops and says where (`truncated`, `stoppedAt`).',
    security: adminOnly,
    request: { params: CampaignIdPath, body: json(BacktestRequest, 'The period (and a past version)') },
    responses: {
      200: json(BacktestResponse, 'The replay'),
      404: json(ErrorBody, 'No such campaign (or version)'),
      ...errors,
    },
  });
  const campaignIssues = json(
    ErrorBody,
    'An invalid campaign: `details` lists each problem with its field path (schema, trigger, audience, ' +
      'templates: an unknown variable, a syntax error, a channel without content, a webhook body that is not JSON)',
  );
  registry.registerPath({
    method: 'get',
    path: '/v1/campaigns',
    tags: ['Campaigns'],
    summary: 'Campaigns (the latest version of each), by id, page by page',
    security: readers,
    request: { query: CampaignListQuery },
    responses: {
      200: json(CampaignListResponse, 'A page (possibly short: keep following nextCursor)'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/campaigns',
    tags: ['Campaigns'],
    summary: 'Create a campaign (admin): version 1, validated with its templates',
    description:
      'Templates are Liquid. A template may use customer (id, traits.<any trait>, timezone, orders, ' +
      'netRevenue, lastOrderAt, cart.items/value/quantity), segment (id, title), rfm.label, coupon (code, ' +
      'kind, value, currency, expiresAt; campaigns with a coupon), products (recommended), campaign (id, ' +
      'name), variant, and unsubscribeUrl (e-mail and SMS). Anything else is refused here, never at send time.',
    security: adminOnly,
    request: { body: json(CampaignDefinition, 'The campaign (at most 256 KB)') },
    responses: {
      201: json(Campaign, 'Created'),
      400: campaignIssues,
      401: errors[401],
      403: errors[403],
      409: json(ErrorBody, 'A campaign with this id exists (deleted ones too: PUT saves a new version)'),
      413: json(ErrorBody, 'Body over 256 KB'),
      503: errors[503],
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/campaigns/{id}',
    tags: ['Campaigns'],
    summary: 'A campaign: its latest version, or ?version=N',
    security: readers,
    request: { params: CampaignIdPath, query: CampaignGetQuery },
    responses: {
      200: json(Campaign, 'The campaign'),
      404: json(ErrorBody, 'No such campaign or version'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'put',
    path: '/v1/campaigns/{id}',
    tags: ['Campaigns'],
    summary: 'Save a new version of a campaign (admin); revives a deleted one',
    security: adminOnly,
    request: {
      params: CampaignIdPath,
      body: json(CampaignUpdate, 'The whole campaign, optionally expectedVersion'),
    },
    responses: {
      200: json(Campaign, 'The new version'),
      400: campaignIssues,
      401: errors[401],
      403: errors[403],
      409: json(ErrorBody, 'The latest version is not expectedVersion (or no campaign has this id)'),
      413: json(ErrorBody, 'Body over 256 KB'),
      503: errors[503],
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/campaigns/{id}',
    tags: ['Campaigns'],
    summary: 'Delete a campaign (admin): a last version, disabled and archived; earlier versions are kept',
    security: adminOnly,
    request: { params: CampaignIdPath },
    responses: {
      200: json(Campaign, 'The archived version'),
      404: json(ErrorBody, 'No such campaign'),
      ...errors,
    },
  });
  for (const action of ['enable', 'disable'] as const) {
    registry.registerPath({
      method: 'post',
      path: `/v1/campaigns/{id}/${action}`,
      tags: ['Campaigns'],
      summary: `${action === 'enable' ? 'Enable' : 'Disable'} a campaign (admin): a new version when it changes`,
      security: adminOnly,
      request: { params: CampaignIdPath },
      responses: {
        200: json(Campaign, 'The campaign'),
        ...(action === 'enable' ? { 400: campaignIssues } : {}),
        404: json(ErrorBody, 'No such campaign (or deleted)'),
        ...errors,
      },
    });
  }
  registry.registerPath({
    method: 'get',
    path: '/v1/customers/{id}/consent',
    tags: ['Consent'],
    summary: "A customer's consent per purpose and channel, with source and time, and the global unsubscribe",
    security: readers,
    request: { params: CustomerIdPath },
    responses: {
      200: json(CustomerConsentResponse, 'What the customer allowed'),
      404: json(ErrorBody, 'Unknown customer'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'put',
    path: '/v1/customers/{id}/consent',
    tags: ['Consent'],
    summary: 'Record a consent choice (write keys: the POS or CRM where the customer chose)',
    description:
      'The latest choice by `at` wins: an older record sent later (an import, a retry) changes nothing and ' +
      'answers applied: false with the stored record. `channel: all` is the global switch of all marketing.',
    security: [{ [writeKey.name]: [] }, { [apiKey.name]: [] }],
    request: { params: CustomerIdPath, body: json(ConsentRequest, 'The choice') },
    responses: {
      200: json(ConsentWriteResponse, 'Recorded, or a newer record kept'),
      404: json(ErrorBody, 'Unknown customer'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/customers/{id}/decisions',
    tags: ['Consent'],
    summary: "The customer's send decisions, newest first: outcome and reason of every candidate (400 days)",
    security: readers,
    request: { params: CustomerIdPath, query: DecisionsQuery },
    responses: {
      200: json(DecisionsPage, 'A page'),
      404: json(ErrorBody, 'Unknown customer'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/campaigns/{id}/decisions',
    tags: ['Campaigns'],
    summary: "The campaign's send decisions over all customers, newest first (400 days)",
    security: readers,
    request: { params: CampaignIdPath, query: DecisionsQuery },
    responses: { 200: json(DecisionsPage, 'A page'), ...errors },
  });
  const html = (description: string) => ({
    description,
    content: { 'text/html': { schema: z.string() } },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/unsubscribe',
    tags: ['Consent'],
    summary: "The unsubscribe link's page: a confirm button (public; the signed token is the authority)",
    description: 'Changes nothing by itself: mail scanners and link previews follow links.',
    request: { query: UnsubscribeQuery },
    responses: { 200: html('The confirm page'), 400: html('The link does not work, and why') },
  });
  registry.registerPath({
    method: 'post',
    path: '/v1/unsubscribe',
    tags: ['Consent'],
    summary: 'One-click unsubscribe (RFC 8058): no key, no cookie',
    description:
      'Body `List-Unsubscribe=One-Click` (form-encoded), as mailbox providers send for the ' +
      '`List-Unsubscribe-Post` header: unsubscribes from all marketing; with `scope=channel`, only from ' +
      "marketing on the link's channel. 200 again when already unsubscribed.",
    request: {
      query: UnsubscribeQuery,
      body: {
        description: 'The form',
        content: {
          'application/x-www-form-urlencoded': {
            schema: z.object({
              'List-Unsubscribe': z.literal('One-Click'),
              scope: z.enum(['all', 'channel']).optional(),
            }),
          },
        },
      },
    },
    responses: {
      200: html('Unsubscribed'),
      400: json(
        ErrorBody,
        'A bad token (details name token with malformed, bad_signature or expired), or not one-click',
      ),
    },
  });
  const tagIssues = json(
    ErrorBody,
    'An invalid tag: `details` lists each problem with its field path (schema; a comparison on personal data)',
  );
  registry.registerPath({
    method: 'get',
    path: '/v1/tags',
    tags: ['Tags'],
    summary: 'Every tag definition (at most 200), by id',
    security: readers,
    responses: { 200: json(TagListResponse, 'The definitions'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/tags/{id}',
    tags: ['Tags'],
    summary: 'A tag definition, with how many customers carry each of its values now',
    security: readers,
    request: { params: TagIdPath },
    responses: {
      200: json(TagResponse, 'The definition and its counts'),
      404: json(ErrorBody, 'No such tag'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'put',
    path: '/v1/tags/{id}',
    tags: ['Tags'],
    summary: 'Create a tag (201) or save its next version (200) (admin)',
    description:
      'A tag is a rule over what a campaign audience reads (traits, live figures and habits, event counts, ' +
      'segment, RFM, lifecycle, model scores): `match` (a yes/no tag), `bands` (the first band that holds ' +
      'gives the value) or `top` (the leading category, brand or channel). Customers are evaluated on their ' +
      'next event and in the nightly pass after a published segmentation run (docs/tags.md).',
    security: adminOnly,
    request: { params: TagIdPath, body: json(TagUpdate, 'The whole definition, optionally expectedVersion') },
    responses: {
      200: json(Tag, 'The new version'),
      201: json(Tag, 'Created'),
      400: tagIssues,
      401: errors[401],
      403: errors[403],
      409: json(ErrorBody, 'The stored version is not expectedVersion'),
      413: json(ErrorBody, 'Body over 64 KB'),
      503: errors[503],
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/v1/tags/{id}',
    tags: ['Tags'],
    summary: 'Delete a tag (admin); a sweep of the published run takes it from its customers',
    security: adminOnly,
    request: { params: TagIdPath },
    responses: {
      200: json(TagDeleted, 'Deleted'),
      404: json(ErrorBody, 'No such tag'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/tags/{id}/customers',
    tags: ['Tags'],
    summary: 'The customers carrying a tag (optionally one value of it), page by page',
    security: readers,
    request: { params: TagIdPath, query: TagCustomersQuery },
    responses: {
      200: json(TagCustomersResponse, 'A page (possibly short: keep following nextCursor)'),
      404: json(ErrorBody, 'No such tag'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    tags: ['Meta'],
    summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
  });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Precis API',
      version: '1',
      description: 'Segment-compatible event ingestion, customer profiles and segmentation.',
    },
  });
}

let memo: ReturnType<typeof build> | undefined;

export function openApiDocument(): ReturnType<typeof build> {
  memo ??= build();
  return memo;
}
