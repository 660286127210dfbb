// Campaign versions: every save writes a new, immutable version; the latest one is what the engine runs.
// The port (CampaignVersions) is what a storage adapter implements: write a version if that number is
// still free, read one, read the latest, list the latest of each. The rules on top (create only once,
// expectedVersion, enable, archive) are here, once, for every adapter.
import { conflict, notFound, type Outcome, ok, type Rejection } from '../outcome.js';
import type { Campaign, CampaignDefinition, CampaignId } from './model.js';

export interface CampaignPage {
  readonly items: readonly Campaign[];
  /** Opaque: pass back as `cursor` for the next page; absent on the last one. */
  readonly nextCursor?: string;
}

/** What a storage adapter implements (lib/adapters/dynamodb/campaignsTable.ts, lib/adapters/memory). */
export interface CampaignVersions {
  /**
   * Writes `campaign.version` of `campaign.id` unless that version exists (false then): the one
   * arbiter of concurrent saves. Afterwards the latest pointer moves forward, never back.
   */
  putVersion(campaign: Campaign): Promise<boolean>;
  latest(id: CampaignId): Promise<Campaign | undefined>;
  version(id: CampaignId, version: number): Promise<Campaign | undefined>;
  /** The latest version of each campaign, by id; archived ones only when asked. */
  list(page: {
    readonly limit: number;
    readonly cursor?: string;
    readonly archived: boolean;
  }): Promise<CampaignPage>;
  /** Whether a cursor is one `list` could have returned (a forged one is the client's 400, not a 500). */
  isCursor(cursor: string): boolean;
  /**
   * A counter of the catalog that moves forward after every version written (0 before the first): the
   * engine's containers compare it with the one their cached list was read at (enabledCampaigns' `sync`),
   * so a campaign saved, enabled or disabled acts on every event that arrives after the save's answer.
   */
  revision(): Promise<number>;
}

export interface SaveOptions {
  /** Create only: refused when the id exists (archived campaigns included). */
  readonly create?: boolean;
  /** Refused unless the latest version is this one; without it the save follows the latest. */
  readonly expectedVersion?: number;
  readonly now: number;
}

/** How often a save without expectedVersion re-reads the latest after losing a race. */
const FOLLOW_ATTEMPTS = 5;

export interface CampaignStore {
  /** Saves the definition as the next version (a save revives an archived campaign). */
  save(def: CampaignDefinition, options: SaveOptions): Promise<Outcome<Campaign>>;
  /** The latest version, archived or not. */
  get(id: CampaignId): Promise<Campaign | undefined>;
  getVersion(id: CampaignId, version: number): Promise<Campaign | undefined>;
  list: CampaignVersions['list'];
  isCursor: CampaignVersions['isCursor'];
  revision: CampaignVersions['revision'];
  /** Enables or disables (a new version when it changes anything); not found when unknown or archived. */
  setEnabled(id: CampaignId, enabled: boolean, now: number): Promise<Outcome<Campaign>>;
  /** Soft delete: a new version, disabled and archived; earlier versions are kept. */
  archive(id: CampaignId, now: number): Promise<Outcome<Campaign>>;
}

const exists = (id: string) =>
  conflict(`A campaign with the id ${id} exists already (PUT saves a new version).`);
const stale = (id: string, expected: number, latest: number | undefined) =>
  conflict(
    `Campaign ${id} is at version ${latest ?? 'none'}, not ${expected}: read it again and reapply your change.`,
  );
const unknown = (id: string) => notFound(`No campaign has the id ${id}.`);

/** Why a save may not go ahead given the latest version, or undefined when it may. */
function precondition(id: string, latest: Campaign | undefined, options: SaveOptions): Rejection | undefined {
  if (options.create && latest) return exists(id);
  if (options.expectedVersion !== undefined && latest?.version !== options.expectedVersion) {
    return stale(id, options.expectedVersion, latest?.version);
  }
  return undefined;
}

export function campaignStore(versions: CampaignVersions): CampaignStore {
  /** Writes `next(latest)` as the version after latest; follows the latest when told to, else conflicts. */
  async function writeNext(
    id: CampaignId,
    next: (latest: Campaign | undefined) => Outcome<Omit<Campaign, 'version' | 'updatedAt'>>,
    options: SaveOptions,
  ): Promise<Outcome<Campaign>> {
    for (let attempt = 1; ; attempt++) {
      const latest = await versions.latest(id);
      const refused = precondition(id, latest, options);
      if (refused) return refused;
      const body = next(latest);
      if (!body.ok) return body;
      const campaign: Campaign = {
        ...body.value,
        version: (latest?.version ?? 0) + 1,
        updatedAt: new Date(options.now).toISOString(),
      };
      if (await versions.putVersion(campaign)) return ok(campaign);
      // Someone else wrote that version first: a create or a checked save lost; an unchecked one follows.
      const lost = precondition(id, await versions.latest(id), options);
      if (lost) return lost;
      if (attempt >= FOLLOW_ATTEMPTS) return conflict(`Campaign ${id} is being saved by others: try again.`);
    }
  }

  /** A change of a live campaign (not archived) as a new version, or the campaign as is when nothing changes. */
  async function change(
    id: CampaignId,
    now: number,
    apply: (c: Campaign) => Campaign,
  ): Promise<Outcome<Campaign>> {
    const current = await versions.latest(id);
    if (!current || current.archived) return unknown(id);
    const changed = apply(current);
    if (changed.enabled === current.enabled && changed.archived === current.archived) return ok(current);
    return writeNext(id, (latest) => (latest && !latest.archived ? ok({ ...apply(latest) }) : unknown(id)), {
      now,
    });
  }

  return {
    save: (def, options) => writeNext(def.id, () => ok({ ...def, archived: false }), options),
    get: (id) => versions.latest(id),
    getVersion: (id, version) => versions.version(id, version),
    list: (page) => versions.list(page),
    isCursor: (cursor) => versions.isCursor(cursor),
    revision: () => versions.revision(),
    setEnabled: (id, enabled, now) => change(id, now, (c) => ({ ...c, enabled })),
    archive: (id, now) => change(id, now, (c) => ({ ...c, enabled: false, archived: true })),
  };
}
