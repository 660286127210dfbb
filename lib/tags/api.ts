// The tags API (/v1/tags): definitions saved as data, the customers carrying a tag, page by page, and
// how many carry each value. Request and response shapes are shared by the handlers and the OpenAPI
// document. A definition is checked like a campaign audience (no comparison on personal data).
import { z } from 'zod';
import { audienceIssues } from '../campaigns/audience.js';
import type { FieldIssue } from '../ingest/spec.js';
import { formatPath, toFieldIssues } from '../ingest/spec.js';
import { conflict, invalid, notFound, type Outcome, ok } from '../outcome.js';
import { Tag, TagDefinition, TagId, TagValue } from './model.js';
import type { CustomerTagStore, TagDefinitions } from './ports.js';

/** A catalogue, not a database: every customer's evaluation reads every definition. */
export const MAX_TAGS = 200;
/** How often a save without expectedVersion re-reads the latest after losing a race. */
const FOLLOW_ATTEMPTS = 5;

export const TagIdPath = z.object({ id: TagId });

export const TagListResponse = z.object({ items: z.array(Tag) }).meta({ id: 'TagListResponse' });

export const TagResponse = Tag.safeExtend({
  customers: z
    .record(z.string(), z.number().int())
    .meta({ description: 'How many customers carry each value of the tag now' }),
}).meta({ id: 'TagWithCounts' });
export type TagResponse = z.infer<typeof TagResponse>;

/** PUT body: the whole definition (its id, if given, must be the path's) and an optional version check. */
export const TagUpdate = TagDefinition.extend({
  id: TagId.optional(),
  expectedVersion: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: 'Refuse (409) unless the stored version is this one' }),
}).meta({ id: 'TagUpdate' });
export type TagUpdate = z.infer<typeof TagUpdate>;

export const TagCustomersQuery = z
  .object({
    value: TagValue.optional().meta({
      description: 'Only customers with this value (`true` for yes/no tags)',
    }),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(200).optional().meta({ description: 'nextCursor of the previous page' }),
  })
  .meta({ id: 'TagCustomersQuery' });
export type TagCustomersQuery = z.infer<typeof TagCustomersQuery>;

export const TagCustomersResponse = z
  .object({
    tag: TagId,
    items: z.array(z.object({ customerId: z.string(), value: z.string(), since: z.string() })),
    nextCursor: z.string().optional(),
  })
  .meta({ id: 'TagCustomersResponse' });
export type TagCustomersResponse = z.infer<typeof TagCustomersResponse>;

export const TagDeleted = z.object({ id: TagId, deleted: z.literal(true) }).meta({ id: 'TagDeleted' });

export interface TagApiDeps {
  readonly definitions: TagDefinitions;
  readonly store: Pick<CustomerTagStore, 'customersWith' | 'isCursor' | 'count'>;
  readonly now: () => number;
  /**
   * Has every customer of the published run evaluated again (a sweep on the tags queue), after a save or
   * a delete; resolves false when no run is published yet (customers are then evaluated on their events).
   */
  readonly reevaluate?: () => Promise<boolean>;
}

const INVALID = 'Invalid tag.';

/** What the schema cannot see: comparisons on personal data, in every condition list of the rule. */
export function tagIssues(def: TagDefinition): FieldIssue[] {
  const rule = def.rule;
  if (rule.type === 'bands')
    return rule.bands.flatMap((band, i) => audienceIssues(band.when, `rule.bands[${i}].when`));
  return audienceIssues(rule.when, 'rule.when');
}

export async function listTags(deps: Pick<TagApiDeps, 'definitions'>): Promise<Outcome<{ items: Tag[] }>> {
  return ok({ items: await deps.definitions.listDefinitions() });
}

export async function getTag(id: string, deps: TagApiDeps): Promise<Outcome<TagResponse>> {
  const tag = await deps.definitions.getDefinition(id);
  if (tag === undefined) return notFound(`No tag has the id ${id}.`);
  return ok({ ...tag, customers: await deps.store.count(id) });
}

/**
 * Creates (201) or saves the next version (200) of a tag, then has the published run's customers evaluated
 * again (a sweep); everyone else gets it at their next event.
 */
export async function putTag(
  id: string,
  body: TagUpdate,
  deps: TagApiDeps,
): Promise<Outcome<{ created: boolean; tag: Tag }>> {
  const { expectedVersion, ...rest } = body;
  if (rest.id !== undefined && rest.id !== id)
    return invalid(INVALID, [
      { path: formatPath(['id']), code: 'id_mismatch', message: `must be ${id}, the id in the path` },
    ]);
  const def: TagDefinition = { ...rest, id };
  const issues = tagIssues(def);
  if (issues.length > 0) return invalid(INVALID, issues);
  for (let attempt = 1; attempt <= FOLLOW_ATTEMPTS; attempt++) {
    const latest = await deps.definitions.getDefinition(id);
    if (expectedVersion !== undefined && latest?.version !== expectedVersion)
      return conflict(
        `Tag ${id} is at version ${latest?.version ?? 'none'}, not ${expectedVersion}: read it again and reapply your change.`,
      );
    if (latest === undefined && (await deps.definitions.listDefinitions()).length >= MAX_TAGS)
      return invalid(`At most ${MAX_TAGS} tags can be defined: delete one first.`, [
        { path: 'id', code: 'too_many_tags', message: `${MAX_TAGS} tags are defined already` },
      ]);
    const tag: Tag = {
      ...def,
      version: (latest?.version ?? 0) + 1,
      updatedAt: new Date(deps.now()).toISOString(),
    };
    if (await deps.definitions.putDefinition(tag)) {
      await deps.reevaluate?.();
      return ok({ created: latest === undefined, tag });
    }
    if (expectedVersion !== undefined) break;
  }
  return conflict(`Tag ${id} is being saved by others: try again.`);
}

/**
 * Deletes a definition, then has the published run's customers evaluated again (a sweep): they lose the
 * tag within moments; the listing of a deleted tag is a 404 at once.
 */
export async function deleteTag(id: string, deps: TagApiDeps): Promise<Outcome<z.infer<typeof TagDeleted>>> {
  if (!(await deps.definitions.deleteDefinition(id))) return notFound(`No tag has the id ${id}.`);
  await deps.reevaluate?.();
  return ok({ id, deleted: true });
}

export async function tagCustomers(
  id: string,
  query: TagCustomersQuery,
  deps: TagApiDeps,
): Promise<Outcome<TagCustomersResponse>> {
  if (query.cursor !== undefined && !deps.store.isCursor(query.cursor))
    return invalid('Invalid query parameters.', [
      { path: 'cursor', code: 'invalid_cursor', message: 'is not a cursor this API returned' },
    ]);
  if ((await deps.definitions.getDefinition(id)) === undefined) return notFound(`No tag has the id ${id}.`);
  const page = await deps.store.customersWith(id, {
    limit: query.limit,
    ...(query.value === undefined ? {} : { value: query.value }),
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
  });
  return ok({
    tag: id,
    items: [...page.items],
    ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
  });
}

/** A tag from raw JSON (a file, a CLI): the schema, then the save-time checks. */
export function checkTag(raw: unknown): Outcome<TagDefinition> {
  const parsed = TagDefinition.safeParse(raw);
  if (!parsed.success) return invalid(INVALID, toFieldIssues(parsed.error, raw));
  const issues = tagIssues(parsed.data);
  return issues.length === 0 ? ok(parsed.data) : invalid(INVALID, issues);
}
