// The campaigns API (/v1/campaigns): request and response shapes, shared by the handlers and the OpenAPI
// document, and its use cases. Saving validates everything, the templates included (templates.ts): a
// campaign that would fail at send time is a 400 with the path of each field to fix.
import { z } from 'zod';
import { formatPath, toFieldIssues } from '../ingest/spec.js';
import { invalid, notFound, type Outcome, ok } from '../outcome.js';
import { audienceIssues } from './audience.js';
import { Campaign, CampaignDefinition, CampaignId } from './model.js';
import type { CampaignPage, CampaignStore } from './store.js';
import { validateCampaign } from './templates.js';
import { triggerIssues } from './triggers.js';

export const CampaignIdPath = z.object({ id: CampaignId });

export const CampaignGetQuery = z
  .object({
    version: z.coerce
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .meta({ description: 'A past version (default: the latest)' }),
  })
  .meta({ id: 'CampaignGetQuery' });

export const CampaignListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(100).optional().meta({ description: 'nextCursor of the previous page' }),
    archived: z
      .enum(['true', 'false'])
      .default('false')
      .meta({ description: 'Include deleted (archived) campaigns' }),
  })
  .meta({ id: 'CampaignListQuery' });
export type CampaignListQuery = z.infer<typeof CampaignListQuery>;

export const CampaignListResponse = z
  .object({ items: z.array(Campaign), nextCursor: z.string().optional() })
  .meta({ id: 'CampaignListResponse' });

/** PUT body: the whole definition (its id, if given, must be the path's) and an optional version check. */
export const CampaignUpdate = CampaignDefinition.extend({
  id: CampaignId.optional(),
  expectedVersion: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: 'Refuse (409) unless the latest version is this one' }),
}).meta({ id: 'CampaignUpdate' });
export type CampaignUpdate = z.infer<typeof CampaignUpdate>;

/** Request bodies are definitions with a few Liquid templates: far below this. */
export const MAX_CAMPAIGN_BYTES = 256 * 1024;

export interface CampaignDeps {
  readonly campaigns: CampaignStore;
  readonly now: () => number;
}

const INVALID = 'Invalid campaign.';

/**
 * What the schema cannot see in a definition it accepted: the trigger's property filters, the audience's
 * comparisons (none on PII), the templates against the catalogue.
 */
function checked(def: CampaignDefinition): Outcome<CampaignDefinition> {
  const issues = [...triggerIssues(def.trigger), ...audienceIssues(def.audience), ...validateCampaign(def)];
  return issues.length === 0 ? ok(def) : invalid(INVALID, issues);
}

/** A campaign from raw JSON (a file, a CLI): the schema, then the templates. */
export function checkCampaign(raw: unknown): Outcome<CampaignDefinition> {
  const parsed = CampaignDefinition.safeParse(raw);
  return parsed.success ? checked(parsed.data) : invalid(INVALID, toFieldIssues(parsed.error, raw));
}

export async function createCampaign(
  def: CampaignDefinition,
  deps: CampaignDeps,
): Promise<Outcome<Campaign>> {
  const valid = checked(def);
  return valid.ok ? deps.campaigns.save(valid.value, { create: true, now: deps.now() }) : valid;
}

export async function updateCampaign(
  id: CampaignId,
  body: CampaignUpdate,
  deps: CampaignDeps,
): Promise<Outcome<Campaign>> {
  const { expectedVersion, ...def } = body;
  if (def.id !== undefined && def.id !== id) {
    return invalid(INVALID, [
      { path: formatPath(['id']), code: 'id_mismatch', message: `must be ${id}, the id in the path` },
    ]);
  }
  const valid = checked({ ...def, id });
  if (!valid.ok) return valid;
  return deps.campaigns.save(valid.value, { expectedVersion, now: deps.now() });
}

export async function getCampaign(
  id: CampaignId,
  version: number | undefined,
  deps: Pick<CampaignDeps, 'campaigns'>,
): Promise<Outcome<Campaign>> {
  const found =
    version === undefined ? await deps.campaigns.get(id) : await deps.campaigns.getVersion(id, version);
  if (found) return ok(found);
  return notFound(
    version === undefined ? `No campaign has the id ${id}.` : `Campaign ${id} has no version ${version}.`,
  );
}

export async function listCampaigns(
  query: CampaignListQuery,
  deps: Pick<CampaignDeps, 'campaigns'>,
): Promise<Outcome<CampaignPage>> {
  if (query.cursor !== undefined && !deps.campaigns.isCursor(query.cursor)) {
    return invalid('Invalid query parameters.', [
      { path: 'cursor', code: 'invalid_cursor', message: 'is not a cursor this API returned' },
    ]);
  }
  return ok(
    await deps.campaigns.list({
      limit: query.limit,
      cursor: query.cursor,
      archived: query.archived === 'true',
    }),
  );
}

/**
 * Enables or disables. Enabling checks the templates again: the catalogue belongs to the code, and a
 * campaign saved by an older version must not start sending what this one cannot render.
 */
export async function setCampaignEnabled(
  id: CampaignId,
  enabled: boolean,
  deps: CampaignDeps,
): Promise<Outcome<Campaign>> {
  if (enabled) {
    const current = await deps.campaigns.get(id);
    if (current && !current.archived) {
      const valid = checked(current);
      if (!valid.ok) return valid;
    }
  }
  return deps.campaigns.setEnabled(id, enabled, deps.now());
}

/** Soft delete: disabled and archived, its versions kept. */
export const deleteCampaign = (id: CampaignId, deps: CampaignDeps): Promise<Outcome<Campaign>> =>
  deps.campaigns.archive(id, deps.now());
