// The quarantine API (admin keys only: entries hold raw payloads): list (payloads sealed), show (the
// payload opened), replay.
import { badRequest, notFound } from '../../lib/errors.js';
import { withHttp } from '../../lib/http/withHttp.js';
import { toFieldIssues } from '../../lib/ingest/spec.js';
import { QuarantineListQuery, ReplayRequest, toStoreQuery } from '../../lib/quarantine/api.js';
import { replayEntry } from '../../lib/quarantine/replay.js';
import { auth, pii, quarantine, replayDeps } from '../../lib/runtime.js';

const admin = { auth: 'admin', authenticator: auth } as const;

export const list = withHttp({ ...admin, query: QuarantineListQuery }, async ({ query }) => {
  const storeQuery = toStoreQuery(query, Date.now());
  if ('error' in storeQuery) throw badRequest(storeQuery.error);
  return { body: await quarantine().list(storeQuery) };
});

const entryOf = async (id: string | undefined) => {
  const entry = id ? await quarantine().get(id) : undefined;
  if (!entry) throw notFound(`No quarantined event has the id ${id}.`);
  return entry;
};

export const show = withHttp(admin, async ({ params }) => {
  const entry = await entryOf(params.id);
  return { body: { ...entry, payload: await pii().openPayload(entry.payload) } };
});

export const replay = withHttp(
  { ...admin, maxBodyBytes: 64 * 1024, optionalBody: true },
  async ({ params, body }) => {
    const parsed = ReplayRequest.safeParse(body ?? {});
    if (!parsed.success) throw badRequest('Invalid replay request.', toFieldIssues(parsed.error, body));
    const entry = await entryOf(params.id);
    return { body: await replayEntry(entry, replayDeps(), parsed.data.event) };
  },
);
