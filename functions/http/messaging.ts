// Consent, the decision log and one-click unsubscribe. Consent and decisions: read keys read, write keys
// (POS and CRM sources) record consent; {id} of a customer is any identifier. Unsubscribe: public, the
// signed token is the authority; GET only shows the confirm page (scanners follow links), POST acts.

import { CampaignIdPath } from '../../lib/campaigns/api.js';
import {
  ConsentRequest,
  campaignDecisions,
  customerConsent,
  customerDecisions,
  DecisionsQuery,
  recordCustomerConsent,
} from '../../lib/campaigns/messagingApi.js';
import {
  UnsubscribeQuery,
  unsubscribe,
  unsubscribedPage,
  unsubscribePage,
} from '../../lib/campaigns/unsubscribe.js';
import { CustomerIdPath } from '../../lib/customers/api.js';
import { withHttp } from '../../lib/http/withHttp.js';
import { messagingApiDeps, unsubscribeDeps } from '../../lib/runtime.js';

export const getConsent = withHttp({ auth: 'read', path: CustomerIdPath }, ({ path }) =>
  customerConsent(path.id, messagingApiDeps()),
);

export const putConsent = withHttp(
  { auth: 'write', path: CustomerIdPath, body: ConsentRequest, maxBodyBytes: 4 * 1024 },
  ({ path, body, key }) => recordCustomerConsent(path.id, body, `key:${key.keyId}`, messagingApiDeps()),
);

export const customerDecisionLog = withHttp(
  { auth: 'read', path: CustomerIdPath, query: DecisionsQuery },
  ({ path, query }) => customerDecisions(path.id, query, messagingApiDeps()),
);

export const campaignDecisionLog = withHttp(
  { auth: 'read', path: CampaignIdPath, query: DecisionsQuery },
  ({ path, query }) => campaignDecisions(path.id, query, messagingApiDeps()),
);

export const unsubscribeForm = withHttp({ query: UnsubscribeQuery, html: true }, async ({ query }) => {
  const page = await unsubscribePage(query.token, unsubscribeDeps());
  return { status: page.status, body: page.html };
});

export const unsubscribeOneClick = withHttp(
  {
    query: UnsubscribeQuery,
    html: true,
    rawBody: true,
    maxBodyBytes: 1024,
    tooLargeHint: 'Send List-Unsubscribe=One-Click.',
  },
  async ({ query, body }) => {
    // rawBody: the form as text (application/x-www-form-urlencoded).
    const done = await unsubscribe(query.token, String(body), unsubscribeDeps());
    if (!done.ok) return done;
    const page = unsubscribedPage(done.value);
    return { status: page.status, body: page.html };
  },
);
