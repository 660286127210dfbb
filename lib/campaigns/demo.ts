// The demo campaigns: the JSON files of campaigns/ at the repository's root, each checked as a save would
// check it (schema and templates). `npm run dev` loads them into the local stack; a test keeps them valid.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../projectRoot.js';
import { checkCampaign } from './api.js';
import type { CampaignDefinition } from './model.js';

export const DEMO_CAMPAIGNS_DIR = join(projectRoot(), 'campaigns');

/** Every demo campaign, by file name; throws naming each invalid file and field (a broken repository). */
export async function loadDemoCampaigns(dir = DEMO_CAMPAIGNS_DIR): Promise<CampaignDefinition[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const campaigns: CampaignDefinition[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const checked = checkCampaign(JSON.parse(await readFile(join(dir, file), 'utf8')));
    if (!checked.ok) {
      const issues = checked.reason === 'invalid' ? (checked.issues ?? []) : [];
      problems.push(`${file}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ') || checked.message}`);
    } else if (`${checked.value.id}.json` !== file) {
      problems.push(`${file}: the id is ${checked.value.id}, the file must be named after it`);
    } else {
      campaigns.push(checked.value);
    }
  }
  if (problems.length > 0) throw new Error(`Invalid demo campaigns: ${problems.join(' | ')}`);
  return campaigns;
}

/**
 * A zone whose local hour is about noon at `at` (Etc/GMT-N is UTC+N): quiet hours (21:00-08:00 local by
 * default) then never hold, whatever hour the demo or a test runs at.
 */
export function noonZoneAt(at: number): string {
  let offset = 12 - new Date(at).getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}
