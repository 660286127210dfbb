// The enabled tag definitions as a campaign audience reads them: listed once a minute per container at
// most (like the enabled campaigns, lib/campaigns/engine.ts), not once per decision.
import type { Tag } from './model.js';
import type { TagDefinitions } from './ports.js';

export const TAG_CACHE_MS = 60_000;

export type TagCatalogue = (now: number) => Promise<readonly Tag[]>;

export function tagCatalogue(
  source: Pick<TagDefinitions, 'listDefinitions'>,
  ttlMs = TAG_CACHE_MS,
): TagCatalogue {
  let cached: { at: number; tags: Promise<readonly Tag[]> } | undefined;
  return (now) => {
    if (cached === undefined || now - cached.at >= ttlMs) {
      const tags = source.listDefinitions().then((all) => all.filter((t) => t.enabled));
      // A failed listing is not kept: the next decision lists again.
      tags.catch(() => {
        if (cached?.tags === tags) cached = undefined;
      });
      cached = { at: now, tags };
    }
    return cached.tags;
  };
}
