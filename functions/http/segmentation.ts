// The segmentation API: admin keys ask for runs; read keys read runs, segments and their members.
import { withHttp } from '../../lib/http/withHttp.js';
import { conflict, invalid } from '../../lib/outcome.js';
import { runRequestDeps, segmentFiles, segmentRuns } from '../../lib/runtime.js';
import {
  listRunsPage,
  listSegments,
  MembersQuery,
  RunIdParam,
  RunListQuery,
  SegmentParam,
  SegmentsQuery,
  segmentMembers,
  showRun,
} from '../../lib/segmentation/api.js';
import {
  askedAs,
  buildRequest,
  RunRequestBody,
  RunRequestHeaders,
  requestRun,
} from '../../lib/segmentation/requests.js';

const readDeps = () => ({ runs: segmentRuns(), files: segmentFiles() });

export const startRun = withHttp(
  {
    auth: 'admin',
    body: RunRequestBody,
    headers: RunRequestHeaders,
    maxBodyBytes: 8 * 1024,
    optionalBody: true,
  },
  async ({ body, key, headers }) => {
    const deps = runRequestDeps();
    const idempotencyKey = headers['idempotency-key'];
    const built = buildRequest(body, `key:${key.keyId}`, deps, { idempotencyKey });
    if (!built.ok) return invalid('Invalid segmentation run request.', built.issues);
    const run = await requestRun(built.value, deps);
    if (idempotencyKey !== undefined && !askedAs(run, built.value))
      return conflict(`Idempotency-Key ${idempotencyKey} was used for run ${run.runId}, asked differently.`);
    return { status: 202, body: { run }, headers: { location: `/v1/segmentation/runs/${run.runId}` } };
  },
);

export const listRuns = withHttp({ auth: 'read', query: RunListQuery }, async ({ query }) => ({
  body: await listRunsPage(query, readDeps()),
}));

export const getRun = withHttp({ auth: 'read', path: RunIdParam }, ({ path }) =>
  showRun(path.id, readDeps()),
);

export const segments = withHttp({ auth: 'read', query: SegmentsQuery }, ({ query }) =>
  listSegments(query.runId, readDeps()),
);

export const members = withHttp(
  { auth: 'read', path: SegmentParam, query: MembersQuery },
  ({ path, query }) => segmentMembers(path.id, query, readDeps()),
);
