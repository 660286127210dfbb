// The demo tags: the JSON files of tags/ at the repository's root, one per tag of each layer (static,
// behavior, preference, predictive), checked as a save would check them. `npm run dev` saves them through
// the API before the segmentation run; a test keeps them valid.
import { join } from 'node:path';
import { loadDefinitionFiles } from '../definitionFiles.js';
import { projectRoot } from '../projectRoot.js';
import { checkTag } from './api.js';
import type { TagDefinition } from './model.js';

export const DEMO_TAGS_DIR = join(projectRoot(), 'tags');

export const loadDemoTags = (dir = DEMO_TAGS_DIR): Promise<TagDefinition[]> =>
  loadDefinitionFiles(dir, checkTag, 'demo tags');
