// Campaign versions in memory, with the DynamoDB adapter's semantics (a version number is taken once,
// listing by id, archived ones on request): for unit tests and in-process tools. Items are cloned in and
// out, as a store would, so a caller never shares state with it.
import { type Campaign, CampaignId } from '../../campaigns/model.js';
import { type CampaignStore, type CampaignVersions, campaignStore } from '../../campaigns/store.js';

export function memoryCampaignVersions(): CampaignVersions {
  const versions = new Map<string, Campaign[]>();
  const latestOf = (id: string) => versions.get(id)?.at(-1);
  let revision = 0;
  return {
    async putVersion(campaign) {
      const list = versions.get(campaign.id) ?? [];
      if (list.some((c) => c.version === campaign.version)) return false;
      list.push(structuredClone(campaign));
      list.sort((a, b) => a.version - b.version);
      versions.set(campaign.id, list);
      revision++;
      return true;
    },
    async latest(id) {
      const latest = latestOf(id);
      return latest && structuredClone(latest);
    },
    async version(id, version) {
      const found = versions.get(id)?.find((c) => c.version === version);
      return found && structuredClone(found);
    },
    async list({ limit, cursor, archived }) {
      const ids = [...versions.keys()].sort().filter((id) => cursor === undefined || id > cursor);
      const page = ids.slice(0, limit);
      const items = page
        .map((id) => latestOf(id))
        .filter((c): c is Campaign => c !== undefined && (archived || !c.archived))
        .map((c) => structuredClone(c));
      const last = page.at(-1);
      return ids.length > limit && last !== undefined ? { items, nextCursor: last } : { items };
    },
    isCursor: (cursor) => CampaignId.safeParse(cursor).success,
    revision: async () => revision,
  };
}

/** A campaign store over fresh in-memory versions. */
export const memoryCampaignStore = (): CampaignStore => campaignStore(memoryCampaignVersions());
