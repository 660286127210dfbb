// The identity graph against the DynamoDB emulator: stitching, late events, unmerge, crash mending, and
// many concurrent writers converging on exactly the customers the stored edges imply.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { identityTable } from '../../lib/adapters/dynamodb/identityTable.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import {
  customerIdOf,
  type Edge,
  identityRules,
  newEdge,
  resolveComponents,
} from '../../lib/identity/graph.js';
import { linksOf } from '../../lib/identity/links.js';
import { anonNode, userNode } from '../../lib/identity/nodes.js';
import { type ResolveDeps, recordLinks, unmerge } from '../../lib/identity/resolve.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { recordingLogger } from '../support/archiveFixtures.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const store = identityTable(createDynamoDb(config), config.tables.identity);
const deps: ResolveDeps = {
  store,
  rules: identityRules(config.identifiers),
  now: Date.now,
  log: recordingLogger().log,
};

/** Ids unique to a test, so tests share the emulator without seeing each other. */
const ids = () => {
  const run = randomUUID().slice(0, 8);
  return {
    user: (n: number) => `u${n}-${run}`,
    anon: (n: number) => `a${n}-${run}`,
    hash: (n: number) => `h${n}-${run}`,
  };
};

const event = (
  fields: Partial<NormalizedEvent> & Pick<NormalizedEvent, 'type'>,
  at = '2026-03-01T10:00:00.000Z',
) =>
  ({
    messageId: randomUUID(),
    timestamp: at,
    receivedAt: at,
    sourceId: 'test',
    ...fields,
  }) as NormalizedEvent;

async function customerOf(node: string) {
  const n = (await store.getNodes([node])).get(node);
  return n ? await store.getCustomer(n.customerId) : undefined;
}

describe('identity graph on DynamoDB', () => {
  it('stitches a visitor to the user who logs in, with the merge in the log', async () => {
    const id = ids();
    await recordLinks([linksOf(event({ type: 'page', anonymousId: id.anon(1) }))], deps);
    expect((await customerOf(`anon:${id.anon(1)}`))?.members).toEqual([`anon:${id.anon(1)}`]);

    await recordLinks(
      [linksOf(event({ type: 'identify', userId: id.user(1), anonymousId: id.anon(1) }))],
      deps,
    );
    const customer = await customerOf(`anon:${id.anon(1)}`);
    expect(customer).toMatchObject({
      customerId: customerIdOf(`user:${id.user(1)}`),
      members: [`anon:${id.anon(1)}`, `user:${id.user(1)}`].sort(),
    });
    // The anonymous customer now points at the merged one.
    expect(await store.getCustomer(customerIdOf(`anon:${id.anon(1)}`))).toMatchObject({
      mergedInto: customer?.customerId,
    });
    const log = await store.mergeLog(customer?.customerId ?? '');
    expect(log).toEqual([
      expect.objectContaining({
        kind: 'merge',
        from: expect.arrayContaining([customerIdOf(`anon:${id.anon(1)}`)]),
        edges: [expect.objectContaining({ reason: 'identify' })],
      }),
    ]);
  });

  it('lets a late event with an earlier link win, as the edge order says', async () => {
    const id = ids();
    const email = { type: 'email', hash: id.hash(1), mask: 'f***@example.com' };
    // u2 used the shared e-mail on March 2nd; a delayed event shows u1 had it on March 1st.
    await recordLinks(
      [
        linksOf(
          event({ type: 'identify', userId: id.user(2), identifiers: [email] }, '2026-03-02T00:00:00.000Z'),
        ),
      ],
      deps,
    );
    expect((await customerOf(`email:${id.hash(1)}`))?.customerId).toBe(customerIdOf(`user:${id.user(2)}`));
    await recordLinks(
      [
        linksOf(
          event({ type: 'identify', userId: id.user(1), identifiers: [email] }, '2026-03-01T00:00:00.000Z'),
        ),
      ],
      deps,
    );
    expect((await customerOf(`email:${id.hash(1)}`))?.customerId).toBe(customerIdOf(`user:${id.user(1)}`));
    expect((await customerOf(`user:${id.user(2)}`))?.members).toEqual([`user:${id.user(2)}`]);
    const blocked = (await store.mergeLog(customerIdOf(`user:${id.user(1)}`))).filter(
      (e) => e.kind === 'blocked',
    );
    expect(blocked).toEqual([expect.objectContaining({ reason: 'two_user_ids' })]);
  });

  it('undoes a merge: the separate customers come back with their ids, and the same link does not re-merge', async () => {
    const id = ids();
    await recordLinks([linksOf(event({ type: 'track', event: 'X', anonymousId: id.anon(1) }))], deps);
    await recordLinks(
      [linksOf(event({ type: 'identify', userId: id.user(1), anonymousId: id.anon(2) }))],
      deps,
    );
    // A shared tablet: a1 is seen with u1 by mistake.
    const stitch = event({ type: 'track', event: 'Y', userId: id.user(1), anonymousId: id.anon(1) });
    await recordLinks([linksOf(stitch)], deps);
    const merged = customerIdOf(`user:${id.user(1)}`);
    expect((await store.getCustomer(merged))?.members).toContain(`anon:${id.anon(1)}`);
    const merge = (await store.mergeLog(merged)).find(
      (e) => e.kind === 'merge' && e.edges.some((x) => x.messageId === stitch.messageId),
    );
    expect(merge).toBeDefined();

    const result = await unmerge(merged, merge?.id ?? '', 'admin:test', deps);
    expect(result).not.toBe('not_found');
    expect((await customerOf(`anon:${id.anon(1)}`))?.customerId).toBe(customerIdOf(`anon:${id.anon(1)}`));
    expect((await store.getCustomer(merged))?.members).toEqual(
      [`anon:${id.anon(2)}`, `user:${id.user(1)}`].sort(),
    );
    expect((await store.mergeLog(merged)).map((e) => e.kind)).toContain('unmerge');

    // The same pair seen again later stays apart: an unmerge is a decision, not a glitch.
    await recordLinks([linksOf({ ...stitch, messageId: randomUUID() })], deps);
    expect((await customerOf(`anon:${id.anon(1)}`))?.customerId).toBe(customerIdOf(`anon:${id.anon(1)}`));
  });

  it('mends a crash between storing an edge and resolving it on the next delivery', async () => {
    const id = ids();
    const e = event({ type: 'identify', userId: id.user(1), anonymousId: id.anon(1) });
    const links = linksOf(e);
    await store.addNodes(links.nodes);
    await store.addEdges(links.edges.map(newEdge));
    // The consumer died here. Nothing resolved: two customers still.
    expect((await customerOf(`anon:${id.anon(1)}`))?.customerId).toBe(customerIdOf(`anon:${id.anon(1)}`));
    await recordLinks([links], deps);
    expect((await customerOf(`anon:${id.anon(1)}`))?.customerId).toBe(customerIdOf(`user:${id.user(1)}`));
  });

  it('records and stitches ids of the longest length ingestion accepts, in any script', async () => {
    const run = randomUUID().slice(0, 8);
    // MAX_ID_LENGTH characters: 1,024 ASCII ones, or 3 bytes each in most scripts.
    const userId = `${run}${'u'.repeat(1_016)}`;
    const anonymousId = `${run}${'匿'.repeat(1_016)}`;
    await recordLinks([linksOf(event({ type: 'identify', userId, anonymousId }))], deps);
    const [anon, user] = [anonNode(anonymousId), userNode(userId)];
    expect((await customerOf(anon))?.members).toEqual([anon, user].sort());
    // The node shows the whole id; its key is a shortened form of it.
    expect((await store.getNodes([anon])).get(anon)?.display).toBe(anonymousId);
    expect(anon).toMatch(new RegExp(`^anon:${run}匿+…[\\w-]{43}$`));
  });

  it('sets an edge status only on the copies that exist: a missing copy leaves no stub to poison reads', async () => {
    const id = ids();
    const [a, b, c] = [`anon:${id.anon(1)}`, `email:${id.hash(1)}`, `anon:${id.anon(2)}`];
    const stored = newEdge({ a, b: c, at: '2026-03-01T00:00:00.000Z', reason: 'trait', messageId: 'm1' });
    await store.addEdges([stored]);
    // Neither copy of a–b was ever written (as when one side of a pair is reached before it is stored).
    const missing = newEdge({ a, b, at: '2026-03-01T00:00:00.000Z', reason: 'trait', messageId: 'm2' });
    await store.setEdgeStatus(missing, 'undone');
    // Every later read of the node still works, and sees only the stored edge.
    expect((await store.edgesOf(a)).map((e) => e.id)).toEqual([stored.id]);
    expect(await store.edgesOf(b)).toEqual([]);
    // The copies that exist are still updated.
    await store.setEdgeStatus(stored, 'undone');
    expect((await store.edgesOf(a)).map((e) => e.status)).toEqual(['undone']);
    expect((await store.edgesOf(c)).map((e) => e.status)).toEqual(['undone']);
  });

  it('stores the two copies of an edge alike when writers add it at once, from either side', async () => {
    const id = ids();
    // Each pair is added by two writers at once, one from each end, with different event times: the
    // edge explored from either node must be the same edge, or resolutions disagree on the edge order.
    const pairs = Array.from(
      { length: 12 },
      (_, n) => [`anon:${id.anon(n)}`, `email:${id.hash(n)}`] as const,
    );
    await Promise.all(
      pairs.flatMap(([x, y], n) =>
        [
          { a: x, b: y, at: '2026-03-01T00:00:00.000Z' },
          { a: y, b: x, at: '2026-03-02T00:00:00.000Z' },
        ].map((e) =>
          store.addEdges([newEdge({ ...e, reason: 'trait', messageId: `m${n}-${e.at.slice(9, 10)}` })]),
        ),
      ),
    );
    for (const [x, y] of pairs) {
      const fromX = (await store.edgesOf(x)).find((e) => e.b === y || e.a === y);
      const fromY = (await store.edgesOf(y)).find((e) => e.b === x || e.a === x);
      expect(fromX).toBeDefined();
      expect(fromY, `${x} - ${y}`).toEqual(fromX);
    }
  });

  it('converges under many concurrent writers on the customers the stored edges imply', async () => {
    const id = ids();
    const users = [1, 2, 3, 4].map((n) => `user:${id.user(n)}`);
    const anons = Array.from({ length: 12 }, (_, n) => `anon:${id.anon(n)}`);
    const emails = [1, 2, 3].map((n) => `email:${id.hash(n)}`);
    const all = [...users, ...anons, ...emails];
    const pick = (list: string[], i: number) => list[i % list.length] as string;
    // 60 links over a small set of nodes, delivered by 20 writers at once: conflicts (two users on one
    // e-mail) and repeats included.
    const batches = Array.from({ length: 20 }, (_, w) =>
      Array.from({ length: 3 }, (_, k) => {
        const i = w * 3 + k;
        const a = pick(users.concat(anons), i * 7);
        const b = pick(anons.concat(emails), i * 5 + 3);
        const when = new Date(Date.UTC(2026, 2, 1, 0, (i * 37) % 60)).toISOString();
        return newEdge({
          a,
          b,
          reason: b.startsWith('email:') ? 'trait' : 'seen_together',
          messageId: `m${i}`,
          at: when,
        });
      }).filter((x) => x.a !== x.b),
    );
    await Promise.all(
      batches.map(async (edges) => {
        // Each writer is a consumer of its own (a Lambda container): its own client and sockets. Sharing
        // one client queued 20 writers' requests behind its 50 sockets, and on a busy machine a request
        // waiting there for a socket fails with the SDK's 2 s connection timeout.
        const client = createDynamoDb(config);
        const own = identityTable(client, config.tables.identity);
        try {
          await own.addNodes(
            edges
              .flatMap((x) => [x.a, x.b])
              .map((key) => ({ key, display: key, at: '2026-03-01T00:00:00.000Z' })),
          );
          return await recordLinks([{ nodes: [], edges }], { ...deps, store: own });
        } finally {
          client.destroy();
        }
      }),
    );

    const stored = new Map<string, Edge>();
    for (const n of all) for (const x of await store.edgesOf(n)) stored.set(x.id, x);
    const touched = new Set([...stored.values()].flatMap((x) => [x.a, x.b]));
    const expected = resolveComponents(touched, stored.values(), deps.rules).components;
    for (const c of expected) {
      expect(await store.getCustomer(c.customerId), c.customerId).toMatchObject({
        members: c.members,
        anchor: c.anchor,
      });
      const pointers = await store.getNodes(c.members);
      for (const m of c.members) expect(pointers.get(m)?.customerId, m).toBe(c.customerId);
    }
    // The rule held throughout: no customer with two users (no alias here).
    for (const c of expected)
      expect(c.members.filter((m) => m.startsWith('user:')).length).toBeLessThanOrEqual(1);
  });
});
