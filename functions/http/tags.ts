// The tags API: read keys list tags, read one with its counts and list its customers; admin keys save
// (create or new version) and delete definitions. A save or a delete sweeps the published run's
// customers; everyone else follows at their next event and in the nightly pass (docs/tags.md).
import { withHttp } from '../../lib/http/withHttp.js';
import { tagApiDeps } from '../../lib/runtime.js';
import {
  deleteTag,
  getTag,
  listTags,
  putTag,
  TagCustomersQuery,
  TagIdPath,
  TagUpdate,
  tagCustomers,
} from '../../lib/tags/api.js';

/** A definition is a few conditions: far below this. */
const MAX_TAG_BYTES = 64 * 1024;

export const list = withHttp({ auth: 'read' }, () => listTags(tagApiDeps()));

export const get = withHttp({ auth: 'read', path: TagIdPath }, ({ path }) => getTag(path.id, tagApiDeps()));

export const put = withHttp(
  {
    auth: 'admin',
    path: TagIdPath,
    body: TagUpdate,
    maxBodyBytes: MAX_TAG_BYTES,
    tooLargeHint: 'A tag definition is at most 64 KB.',
  },
  async ({ path, body }) => {
    const saved = await putTag(path.id, body, tagApiDeps());
    if (!saved.ok) return saved;
    return { status: saved.value.created ? 201 : 200, body: saved.value.tag };
  },
);

export const remove = withHttp({ auth: 'admin', path: TagIdPath }, ({ path }) =>
  deleteTag(path.id, tagApiDeps()),
);

export const customers = withHttp(
  { auth: 'read', path: TagIdPath, query: TagCustomersQuery },
  ({ path, query }) => tagCustomers(path.id, query, tagApiDeps()),
);
