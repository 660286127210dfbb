// Finding a customer by whatever id a caller has: a customer id (cus_...), a userId or anonymousId, an
// e-mail address or phone number (hashed as the edge hashes them), or a typed identifier such as
// `crm:12345`. Customers merged into another are followed to the one that absorbed them.
import { anonNode, hashedNode, type NodeKey, userNode } from '../identity/nodes.js';
import type { CustomerRecord, IdentityStore } from '../identity/store.js';
import { notFound, type Outcome, ok } from '../outcome.js';
import { identifierHash } from '../pii/hmac.js';
import {
  type IdentifierType,
  normalizeEmail,
  normalizeId,
  normalizePhone,
  pseudonymousId,
} from '../pii/identifiers.js';

const HASHED_TYPES: readonly IdentifierType[] = ['email', 'phone', 'device', 'crm', 'openid'];

export interface LookupDeps {
  readonly store: Pick<IdentityStore, 'getNodes' | 'getCustomer'>;
  readonly secret: () => Promise<string>;
}

/** The nodes an id could name, most specific first. */
export async function candidateNodes(id: string, secret: () => Promise<string>): Promise<NodeKey[]> {
  const colon = id.indexOf(':');
  const prefix = colon > 0 ? id.slice(0, colon) : '';
  if (prefix === 'user') return userNodes(id.slice(5), secret);
  if (prefix === 'anon') return [anonNode(id.slice(5))];
  const typed = HASHED_TYPES.find((t) => t === prefix);
  const hash = async (type: IdentifierType, value: string | undefined) =>
    value === undefined ? [] : [hashedNode(type, identifierHash(await secret(), type, value))];
  if (typed) return hash(typed, normalizeFor(typed, id.slice(colon + 1)));
  // A bare id: a userId first (the most common), then an anonymousId, then what it looks like.
  return [
    ...(await userNodes(id, secret)),
    anonNode(id),
    ...(id.includes('@') ? await hash('email', normalizeEmail(id)) : []),
    ...(/^\+?[\d\s().-]{7,}$/.test(id) ? await hash('phone', normalizePhone(id)) : []),
  ];
}

/** A userId's node: an e-mail or phone userId is stored as its pseudonym (lib/pii/identifiers.ts). */
async function userNodes(userId: string, secret: () => Promise<string>): Promise<NodeKey[]> {
  const stored = /[@\d]/.test(userId) ? pseudonymousId(userId, await secret()) : undefined;
  return stored === undefined ? [userNode(userId)] : [userNode(stored), userNode(userId)];
}

function normalizeFor(type: IdentifierType, value: string): string | undefined {
  if (type === 'email') return normalizeEmail(value);
  if (type === 'phone') return normalizePhone(value);
  return normalizeId(value);
}

export async function findCustomer(id: string, deps: LookupDeps): Promise<CustomerRecord | undefined> {
  let customerId: string | undefined;
  if (id.startsWith('cus_')) customerId = id;
  else {
    const candidates = await candidateNodes(id, deps.secret);
    const found = await deps.store.getNodes(candidates);
    customerId = candidates.map((c) => found.get(c)?.customerId).find((c) => c !== undefined);
  }
  // Follow merges (a handful of hops at most; a loop would be a bug, not a customer).
  for (let hops = 0; customerId !== undefined && hops < 8; hops++) {
    const customer = await deps.store.getCustomer(customerId);
    if (!customer) return undefined;
    if (!customer.mergedInto) return customer;
    customerId = customer.mergedInto;
  }
  return undefined;
}

/** The customer an id names, or the one "not found" every customer route answers. */
export async function customerNamed(id: string, deps: LookupDeps): Promise<Outcome<CustomerRecord>> {
  const customer = await findCustomer(id, deps);
  return customer
    ? ok(customer)
    : notFound(`No customer is known by "${id}": try a customer id, userId, anonymousId, e-mail or phone.`);
}
