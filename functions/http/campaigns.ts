// The campaigns API: read keys list and read campaigns; admin keys create, save new versions, enable,
// disable and delete (archive) them, and back-test one over the archive. Saving validates the whole
// definition, templates included.
import {
  CampaignGetQuery,
  CampaignIdPath,
  CampaignListQuery,
  CampaignUpdate,
  createCampaign,
  deleteCampaign,
  getCampaign,
  listCampaigns,
  MAX_CAMPAIGN_BYTES,
  setCampaignEnabled,
  updateCampaign,
} from '../../lib/campaigns/api.js';
import { BacktestRequest, runBacktest } from '../../lib/campaigns/backtest.js';
import { CampaignDefinition } from '../../lib/campaigns/model.js';
import { withHttp } from '../../lib/http/withHttp.js';
import { backtestDeps, campaignDeps } from '../../lib/runtime.js';

const TOO_LARGE = 'A campaign definition is at most 256 KB.';

export const list = withHttp({ auth: 'read', query: CampaignListQuery }, ({ query }) =>
  listCampaigns(query, campaignDeps()),
);

export const get = withHttp(
  { auth: 'read', path: CampaignIdPath, query: CampaignGetQuery },
  ({ path, query }) => getCampaign(path.id, query.version, campaignDeps()),
);

export const create = withHttp(
  { auth: 'admin', body: CampaignDefinition, maxBodyBytes: MAX_CAMPAIGN_BYTES, tooLargeHint: TOO_LARGE },
  async ({ body }) => {
    const created = await createCampaign(body, campaignDeps());
    return created.ok ? { status: 201, body: created.value } : created;
  },
);

export const update = withHttp(
  {
    auth: 'admin',
    path: CampaignIdPath,
    body: CampaignUpdate,
    maxBodyBytes: MAX_CAMPAIGN_BYTES,
    tooLargeHint: TOO_LARGE,
  },
  ({ path, body }) => updateCampaign(path.id, body, campaignDeps()),
);

export const enable = withHttp({ auth: 'admin', path: CampaignIdPath }, ({ path }) =>
  setCampaignEnabled(path.id, true, campaignDeps()),
);

export const disable = withHttp({ auth: 'admin', path: CampaignIdPath }, ({ path }) =>
  setCampaignEnabled(path.id, false, campaignDeps()),
);

export const remove = withHttp({ auth: 'admin', path: CampaignIdPath }, ({ path }) =>
  deleteCampaign(path.id, campaignDeps()),
);

/** What the campaign would have done over a past period (admin: it replays the archive). */
export const backtest = withHttp(
  { auth: 'admin', path: CampaignIdPath, body: BacktestRequest, maxBodyBytes: 1024 },
  ({ path, body }) => runBacktest(path.id, body, backtestDeps()),
);
