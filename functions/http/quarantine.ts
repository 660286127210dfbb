// The quarantine API (admin keys only: entries hold raw payloads): list (payloads sealed), show (the
// payload opened), replay.
import { withHttp } from '../../lib/http/withHttp.js';
import {
  listEntries,
  QuarantineIdPath,
  QuarantineListQuery,
  ReplayRequest,
  replayById,
  showEntry,
} from '../../lib/quarantine/api.js';
import { replayDeps } from '../../lib/runtime.js';

export const list = withHttp({ auth: 'admin', query: QuarantineListQuery }, ({ query }) =>
  listEntries(query, replayDeps()),
);

export const show = withHttp({ auth: 'admin', path: QuarantineIdPath }, ({ path }) =>
  showEntry(path.id, replayDeps()),
);

export const replay = withHttp(
  { auth: 'admin', path: QuarantineIdPath, body: ReplayRequest, maxBodyBytes: 64 * 1024, optionalBody: true },
  ({ path, body }) => replayById(path.id, body.event, replayDeps()),
);
