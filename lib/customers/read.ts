// The customer read model behind GET /v1/customers/{id}[/events|/identities]: a customer is found by any
// of its identifiers, and its profile is the merge of its nodes' partial profiles, computed on read.
// Personal traits are decrypted and shown masked unless the caller may reveal them (admin keys only).
import { z } from 'zod';
import type { Role } from '../auth/apiKeys.js';
import type { Edge } from '../identity/graph.js';
import { ANON, nodeType, USER } from '../identity/nodes.js';
import { type CustomerRecord, type IdentityStore, MergeLogEntry } from '../identity/store.js';
import { RecommendationSchema } from '../models/predictions.js';
import { forbidden, invalid, type Outcome, ok } from '../outcome.js';
import type { PiiCipher } from '../pii/cipher.js';
import { revealTraits } from '../pii/protect.js';
import { mergePartials } from '../profiles/merge.js';
import type { PartialStore } from '../profiles/store.js';
import {
  type CustomerEvent,
  mergeTimelines,
  type TimelineEvent,
  timelineKey,
  toCustomerEvent,
} from '../profiles/timeline.js';
import { customerView } from '../profiles/view.js';
import { Assignment } from '../segmentation/model.js';
import type { RunStore } from '../segmentation/ports.js';
import { CustomerTag } from '../tags/model.js';
import type { CustomerTagStore } from '../tags/ports.js';
import { customerNamed, type LookupDeps } from './lookup.js';

export interface CustomerReadDeps {
  readonly lookup: LookupDeps;
  readonly identity: IdentityStore;
  readonly partials: PartialStore;
  readonly segments: Pick<RunStore, 'getAssignment'>;
  /** The customer's stored tags (lib/tags). */
  readonly tags: Pick<CustomerTagStore, 'tagsOf'>;
  readonly cipher: PiiCipher;
  readonly now: () => number;
}

/** Nodes whose behavior is counted (partials exist for userIds and anonymousIds only). */
const counted = (customer: CustomerRecord) =>
  customer.members.filter((m) => nodeType(m) === USER || nodeType(m) === ANON);

const identityCounts = (customer: CustomerRecord) => {
  const counts: Record<string, number> = {};
  for (const m of customer.members) counts[nodeType(m)] = (counts[nodeType(m)] ?? 0) + 1;
  return counts;
};

export const CustomerProfileResponse = z
  .object({
    customerId: z.string(),
    identities: z.record(z.string(), z.number()).meta({ description: 'How many identifiers of each type' }),
    profile: z.record(z.string(), z.unknown()).meta({
      description: 'Aggregates and traits (see docs/data-model.md); personal traits masked unless revealed',
    }),
    segment: Assignment.extend({ runId: z.string(), asOf: z.string() }).nullable().meta({
      description: 'Segment, RFM scores and reasons from the published segmentation run (null before one)',
    }),
    tags: z.array(CustomerTag).meta({
      description:
        'The tags the customer carries, with their reasons and since when (docs/tags.md); updated on their events and nightly',
    }),
    tagsEvaluatedAt: z
      .string()
      .nullable()
      .meta({ description: 'When the tags were last evaluated (null: never)' }),
  })
  .meta({ id: 'CustomerProfile' });
export type CustomerProfileResponse = z.infer<typeof CustomerProfileResponse>;

export async function customerProfile(
  id: string,
  request: { readonly reveal: boolean; readonly role: Role },
  deps: CustomerReadDeps,
): Promise<Outcome<CustomerProfileResponse>> {
  if (request.reveal && request.role !== 'admin') {
    return forbidden('Revealing personal data needs an admin key.');
  }
  const found = await customerNamed(id, deps.lookup);
  if (!found.ok) return found;
  const customer = found.value;
  const [partials, segment, tags] = await Promise.all([
    deps.partials.getMany(counted(customer)),
    deps.segments.getAssignment(customer.customerId),
    deps.tags.tagsOf(customer.customerId),
  ]);
  const view = customerView(mergePartials([...partials.values()]), deps.now());
  const traits = Object.fromEntries(Object.entries(view.traits).map(([name, t]) => [name, t.v]));
  return ok({
    customerId: customer.customerId,
    identities: identityCounts(customer),
    profile: {
      ...view,
      traits: await revealTraits(traits, deps.cipher, request),
      // The masks say what a customer is known by; the HMACs are the index's business, not the API's.
      identifiers: view.identifiers.map(({ hash: _hash, ...shown }) => shown),
      aggregates: { ...view.aggregates, identifiers: undefined },
    },
    segment: segment ?? null,
    tags: tags?.tags ?? [],
    tagsEvaluatedAt: tags?.evaluatedAt ?? null,
  });
}

export const CustomerRecommendationsResponse = z
  .object({
    customerId: z.string(),
    runId: z.string().nullable().meta({ description: 'The published run they come from (null before one)' }),
    asOf: z.string().nullable(),
    recommendations: z.array(RecommendationSchema).meta({
      description:
        'Top items, best first: item-to-item collaborative filtering, best sellers for a customer with no history (docs/models.md). Empty for a customer the published run did not know.',
    }),
  })
  .meta({ id: 'CustomerRecommendations' });
export type CustomerRecommendationsResponse = z.infer<typeof CustomerRecommendationsResponse>;

/** The customer's recommendations from the published segmentation run. */
export async function customerRecommendations(
  id: string,
  deps: Pick<CustomerReadDeps, 'lookup' | 'segments'>,
): Promise<Outcome<CustomerRecommendationsResponse>> {
  const found = await customerNamed(id, deps.lookup);
  if (!found.ok) return found;
  const customerId = found.value.customerId;
  const assignment = await deps.segments.getAssignment(customerId);
  return ok({
    customerId,
    runId: assignment?.runId ?? null,
    asOf: assignment?.asOf ?? null,
    recommendations: assignment?.recommendations ?? [],
  });
}

export interface TimelinePage {
  readonly customerId: string;
  readonly items: CustomerEvent[];
  readonly nextCursor?: string;
}

/** The customer's latest events (each node keeps its RECENT_EVENTS_MAX), newest first, by pages. */
export async function customerEvents(
  id: string,
  page: { readonly limit: number; readonly cursor?: string | undefined },
  deps: CustomerReadDeps,
): Promise<Outcome<TimelinePage>> {
  const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  if (before === null) {
    return invalid('cursor is not one this API returned', [
      { path: 'cursor', code: 'invalid_cursor', message: 'is not a cursor this API returned' },
    ]);
  }
  const found = await customerNamed(id, deps.lookup);
  if (!found.ok) return found;
  const customer = found.value;
  const partials = [...(await deps.partials.getMany(counted(customer))).values()];
  const all = partials.reduce<TimelineEvent[]>(
    (acc, p) => mergeTimelines(acc, p.recentEvents, Number.POSITIVE_INFINITY),
    [],
  );
  const rest = before === undefined ? all : all.filter((e) => timelineKey(e) < before);
  const items = rest.slice(0, page.limit);
  const last = items.at(-1);
  return ok({
    customerId: customer.customerId,
    items: items.map(toCustomerEvent),
    nextCursor:
      rest.length > page.limit && last ? Buffer.from(timelineKey(last)).toString('base64url') : undefined,
  });
}

/** The timeline key a cursor carries; null for a cursor this API did not make. */
function decodeCursor(cursor: string): string | null {
  const key = Buffer.from(cursor, 'base64url').toString();
  return /^\d{4}-\d{2}-\d{2}T.*#.+$/.test(key) ? key : null;
}

const IdentityNode = z.object({
  key: z.string(),
  type: z.string(),
  display: z.string(),
  recordedAt: z.string(),
});
const GraphEdge = z.object({
  id: z.string(),
  a: z.string(),
  b: z.string(),
  reason: z.string(),
  messageId: z.string(),
  at: z.string(),
  status: z.string(),
});

export const CustomerIdentitiesResponse = z
  .object({
    customerId: z.string(),
    anchor: z.string().optional(),
    nodes: z.array(IdentityNode).meta({ description: 'Identifiers: ids as sent, hashed ones shown masked' }),
    edges: z
      .array(GraphEdge)
      .meta({ description: 'Links touching the customer, with the event that showed each' }),
    log: z.array(MergeLogEntry),
  })
  .meta({ id: 'CustomerIdentities' });
export type CustomerIdentitiesResponse = z.infer<typeof CustomerIdentitiesResponse>;

export async function customerIdentities(
  id: string,
  deps: CustomerReadDeps,
): Promise<Outcome<CustomerIdentitiesResponse>> {
  const found = await customerNamed(id, deps.lookup);
  if (!found.ok) return found;
  const customer = found.value;
  const [nodes, edgeLists, log] = await Promise.all([
    deps.identity.getNodes(customer.members),
    Promise.all(customer.members.map((m) => deps.identity.edgesOf(m))),
    deps.identity.mergeLog(customer.customerId),
  ]);
  const edges = new Map<string, Edge>();
  for (const list of edgeLists) for (const e of list) edges.set(e.id, e);
  return ok({
    customerId: customer.customerId,
    anchor: customer.anchor,
    nodes: customer.members.flatMap((m) => {
      const n = nodes.get(m);
      return n ? [{ key: n.key, type: n.type, display: n.display, recordedAt: n.recordedAt }] : [];
    }),
    edges: [...edges.values()].sort((x, y) => (x.at < y.at ? -1 : 1)),
    log,
  });
}
