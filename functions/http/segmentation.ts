// The segmentation API: admin keys ask for runs; read keys read runs, segments and their members.
import { badRequest } from '../../lib/errors.js';
import { withHttp } from '../../lib/http/withHttp.js';
import { toFieldIssues } from '../../lib/ingest/spec.js';
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
import { buildRequest, RunRequestBody, requestRun } from '../../lib/segmentation/requests.js';

const readDeps = () => ({ runs: segmentRuns(), files: segmentFiles() });

export const startRun = withHttp(
  { auth: 'admin', maxBodyBytes: 8 * 1024, optionalBody: true },
  async ({ body, key }) => {
    const parsed = RunRequestBody.safeParse(body ?? {});
    if (!parsed.success)
      throw badRequest('Invalid segmentation run request.', toFieldIssues(parsed.error, body));
    const deps = runRequestDeps();
    const built = buildRequest(parsed.data, `key:${key.keyId}`, deps);
    if (!built.ok) throw badRequest('Invalid segmentation run request.', built.issues);
    const run = await requestRun(built.value, deps);
    return { status: 202, body: { run }, headers: { location: `/v1/segmentation/runs/${run.runId}` } };
  },
);

export const listRuns = withHttp({ auth: 'read', query: RunListQuery }, async ({ query }) => ({
  body: await listRunsPage(query, readDeps()),
}));

export const getRun = withHttp({ auth: 'read', path: RunIdParam }, async ({ path }) => ({
  body: await showRun(path.id, readDeps()),
}));

export const segments = withHttp({ auth: 'read', query: SegmentsQuery }, async ({ query }) => ({
  body: await listSegments(query.runId, readDeps()),
}));

export const members = withHttp(
  { auth: 'read', path: SegmentParam, query: MembersQuery },
  async ({ path, query }) => ({ body: await segmentMembers(path.id, query, readDeps()) }),
);
