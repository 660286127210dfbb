// The customer API: read keys read profiles (personal traits masked), admin keys may reveal them and undo
// merges. {id} may be a customer id, a userId, an anonymousId, an e-mail, a phone or a typed identifier.
import {
  CustomerEventsQuery,
  CustomerIdPath,
  CustomerProfileQuery,
  UnmergeRequest,
} from '../../lib/customers/api.js';
import {
  customerEvents,
  customerIdentities,
  customerProfile,
  customerRecommendations,
} from '../../lib/customers/read.js';
import { unmergeCustomer } from '../../lib/customers/unmerge.js';
import { withHttp } from '../../lib/http/withHttp.js';
import { customerReadDeps, identityDeps } from '../../lib/runtime.js';

export const get = withHttp(
  { auth: 'read', path: CustomerIdPath, query: CustomerProfileQuery },
  ({ path, query, key }) =>
    customerProfile(path.id, { reveal: query.reveal === 'pii', role: key.role }, customerReadDeps()),
);

export const events = withHttp(
  { auth: 'read', path: CustomerIdPath, query: CustomerEventsQuery },
  ({ path, query }) => customerEvents(path.id, query, customerReadDeps()),
);

export const identities = withHttp({ auth: 'read', path: CustomerIdPath }, ({ path }) =>
  customerIdentities(path.id, customerReadDeps()),
);

export const recommendations = withHttp({ auth: 'read', path: CustomerIdPath }, ({ path }) =>
  customerRecommendations(path.id, customerReadDeps()),
);

export const unmerge = withHttp(
  { auth: 'admin', path: CustomerIdPath, body: UnmergeRequest, maxBodyBytes: 4 * 1024 },
  ({ path, body, key }) =>
    unmergeCustomer(
      { id: path.id, mergeId: body.mergeId, by: `key:${key.keyId}` },
      { lookup: customerReadDeps().lookup, resolve: identityDeps() },
    ),
);
