// A campaign's report (read keys): live counters and the uplift of treated over control.
import { CampaignReportPath, CampaignReportQuery, campaignReport } from '../../lib/campaigns/report.js';
import { withHttp } from '../../lib/http/withHttp.js';
import { campaignReportDeps } from '../../lib/runtime.js';

export const report = withHttp(
  { auth: 'read', path: CampaignReportPath, query: CampaignReportQuery },
  ({ path, query }) => campaignReport(path.id, query, campaignReportDeps()),
);
