// The ids a marketer loads segment members into a CRM with: the customer's userIds (from its attribution
// nodes) and the CRM ids its latest traits carry, in clear because they are identifiers, not personal
// data. E-mail and phone never appear: the edge seals them in traits and the identity index keeps HMACs.
import { USER } from '../identity/nodes.js';
import { isPiiToken } from '../pii/cipher.js';
import { CRM_TRAITS, normalizeId } from '../pii/identifiers.js';
import type { CustomerAggregates } from '../profiles/merge.js';

export interface ExternalIds {
  readonly userIds: string[];
  readonly crmIds: string[];
}

const USER_PREFIX = `${USER}:`;

export function externalIdsOf(agg: Pick<CustomerAggregates, 'nodes' | 'traits'>): ExternalIds {
  const userIds = agg.nodes.filter((n) => n.startsWith(USER_PREFIX)).map((n) => n.slice(USER_PREFIX.length));
  const crmIds = new Set<string>();
  for (const name of CRM_TRAITS) {
    const id = normalizeId(agg.traits[name]?.v);
    // A sealed value is ciphertext to a CRM: left out rather than exported.
    if (id !== undefined && !isPiiToken(id)) crmIds.add(id);
  }
  return { userIds, crmIds: [...crmIds].sort() };
}
