// The customer API: read keys read profiles (personal traits masked), admin keys may reveal them and undo
// merges. {id} may be a customer id, a userId, an anonymousId, an e-mail, a phone or a typed identifier.

import { CustomerEventsQuery, CustomerProfileQuery, UnmergeRequest } from '../../lib/customers/api.js';
import { findCustomer } from '../../lib/customers/lookup.js';
import { customerEvents, customerIdentities, customerProfile } from '../../lib/customers/read.js';
import { badRequest, forbidden, notFound } from '../../lib/errors.js';
import { withHttp } from '../../lib/http/withHttp.js';
import { unmerge as undoMerge } from '../../lib/identity/resolve.js';
import { toFieldIssues } from '../../lib/ingest/spec.js';
import { auth, customerReadDeps, identityDeps } from '../../lib/runtime.js';

const unknown = (id: string | undefined) =>
  notFound(`No customer is known by "${id}": try a customer id, userId, anonymousId, e-mail or phone.`);
const idOf = (params: Readonly<Record<string, string | undefined>>) => decodeURIComponent(params.id ?? '');

export const get = withHttp(
  { auth: 'read', authenticator: auth, query: CustomerProfileQuery },
  async ({ params, query, key }) => {
    const reveal = query.reveal === 'pii';
    if (reveal && key.role !== 'admin') throw forbidden('Revealing personal data needs an admin key.');
    const profile = await customerProfile(idOf(params), { reveal }, customerReadDeps());
    if (!profile) throw unknown(params.id);
    return { body: profile };
  },
);

export const events = withHttp(
  { auth: 'read', authenticator: auth, query: CustomerEventsQuery },
  async ({ params, query }) => {
    const page = await customerEvents(idOf(params), query, customerReadDeps());
    if (!page) throw unknown(params.id);
    return { body: page };
  },
);

export const identities = withHttp({ auth: 'read', authenticator: auth }, async ({ params }) => {
  const graph = await customerIdentities(idOf(params), customerReadDeps());
  if (!graph) throw unknown(params.id);
  return { body: graph };
});

export const unmerge = withHttp(
  { auth: 'admin', authenticator: auth, maxBodyBytes: 4 * 1024 },
  async ({ params, body, key }) => {
    const request = UnmergeRequest.safeParse(body);
    if (!request.success) throw badRequest('Invalid unmerge request.', toFieldIssues(request.error, body));
    const deps = identityDeps();
    const customer = await findCustomer(idOf(params), customerReadDeps().lookup);
    if (!customer) throw unknown(params.id);
    const result = await undoMerge(customer.customerId, request.data.mergeId, `key:${key.keyId}`, deps);
    if (result === 'not_found') {
      throw notFound(`Customer ${customer.customerId} has no merge ${request.data.mergeId} in its log.`);
    }
    return { body: { mergeId: request.data.mergeId, customers: result.customers } };
  },
);
