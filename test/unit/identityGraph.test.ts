// The identity graph's pure core: components are a function of the edge set (not of the order edges
// arrive in), the rules refuse the unions they must, and undoing a merge gives back the customers and
// ids from before it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryIdentityStore } from '../../lib/adapters/memory/identityStore.js';
import { parseConfig } from '../../lib/config.js';
import {
  customerIdOf,
  type Edge,
  type EdgeInput,
  edgeId,
  identityRules,
  newEdge,
  resolveComponents,
} from '../../lib/identity/graph.js';
import { linksOf } from '../../lib/identity/links.js';
import { type ResolveDeps, recordLinks } from '../../lib/identity/resolve.js';
import type { IdentityStore } from '../../lib/identity/store.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { recordingLogger } from '../support/archiveFixtures.js';

const rules = identityRules(parseConfig({}).identifiers);
let minute = 0;
const at = () => new Date(Date.UTC(2026, 0, 1, 0, minute++)).toISOString();
const edge = (a: string, b: string, reason: EdgeInput['reason'] = 'identify', when = at()): Edge =>
  newEdge({ a, b, reason, messageId: `m-${a}-${b}`, at: when });
const nodesOf = (edges: Edge[]) => new Set(edges.flatMap((e) => [e.a, e.b]));

describe('resolveComponents', () => {
  it('stitches anonymous visits and traits to the user they belong to', () => {
    const edges = [
      edge('user:u1', 'anon:a1'),
      edge('user:u1', 'anon:a2', 'seen_together'),
      edge('anon:a2', 'email:h1', 'trait'),
    ];
    const { components, blocked } = resolveComponents(nodesOf(edges), edges, rules);
    expect(blocked).toEqual([]);
    expect(components).toEqual([
      {
        customerId: customerIdOf('user:u1'),
        anchor: 'user:u1',
        members: ['anon:a1', 'anon:a2', 'email:h1', 'user:u1'],
      },
    ]);
  });

  it('never joins two userIds on its own: the later link is refused, the earlier one stands', () => {
    // A shared family e-mail: u1 used it first, u2 later.
    const first = edge('user:u1', 'email:family', 'trait', '2026-01-01T10:00:00.000Z');
    const second = edge('user:u2', 'email:family', 'trait', '2026-01-02T10:00:00.000Z');
    const { components, blocked } = resolveComponents(nodesOf([first, second]), [second, first], rules);
    expect(blocked).toEqual([{ edge: second, reason: 'two_user_ids' }]);
    expect(components.map((c) => c.members)).toEqual(
      expect.arrayContaining([['email:family', 'user:u1'], ['user:u2']]),
    );
  });

  it('lets alias join two userIds: the app says they are one person', () => {
    const edges = [edge('user:new', 'user:old', 'alias')];
    const { components, blocked } = resolveComponents(nodesOf(edges), edges, rules);
    expect(blocked).toEqual([]);
    expect(components).toHaveLength(1);
    // The anchor is the smallest key among equals: stable whatever the order of ids.
    expect(components[0]?.anchor).toBe('user:new');
  });

  it('refuses an identifier type beyond its per-customer limit', () => {
    const limited = identityRules([
      { type: 'user', priority: 1, limit: 1 },
      { type: 'email', priority: 2, limit: 2 },
      { type: 'anon', priority: 9, limit: 100 },
    ]);
    const edges = ['e1', 'e2', 'e3'].map((h, i) =>
      edge('user:u1', `email:${h}`, 'trait', `2026-01-0${i + 1}T00:00:00.000Z`),
    );
    const { components, blocked } = resolveComponents(nodesOf(edges), edges, limited);
    expect(blocked.map((b) => [b.edge.b, b.reason])).toEqual([['email:e3', 'limit_email']]);
    expect(components.find((c) => c.anchor === 'user:u1')?.members).toEqual([
      'email:e1',
      'email:e2',
      'user:u1',
    ]);
  });

  it('names the customer after its highest-priority identifier', () => {
    const edges = [edge('anon:zz', 'email:h'), edge('email:h', 'anon:aa')];
    const [only] = resolveComponents(nodesOf(edges), edges, rules).components;
    expect(only?.anchor).toBe('email:h');
    expect(only?.customerId).toBe(customerIdOf('email:h'));
  });

  it('gives back the customers and their ids once a merge is undone', () => {
    const before = [edge('user:u1', 'anon:a1')];
    const anonOnly = [edge('anon:a2', 'device:d9', 'trait')];
    const join = edge('user:u1', 'anon:a2', 'seen_together');
    const all = [...before, ...anonOnly, join];
    const separate = resolveComponents(nodesOf(all), [...before, ...anonOnly], rules).components;
    const merged = resolveComponents(nodesOf(all), all, rules).components;
    expect(merged).toHaveLength(1);
    const undone = resolveComponents(
      nodesOf(all),
      [...before, ...anonOnly, { ...join, status: 'undone' }],
      rules,
    );
    expect(undone.components).toEqual(separate);
    expect(undone.components.map((c) => c.customerId).sort()).toEqual(
      [customerIdOf('user:u1'), customerIdOf('device:d9')].sort(),
    );
  });

  it('gives one answer whatever order the edges come in (property)', () => {
    const node = fc.oneof(
      fc.constantFrom('user:u1', 'user:u2', 'user:u3').map(String),
      fc.integer({ min: 1, max: 6 }).map((n) => `anon:a${n}`),
      fc.integer({ min: 1, max: 3 }).map((n) => `email:e${n}`),
    );
    const edges = fc.uniqueArray(
      fc.record({
        a: node,
        b: node,
        reason: fc.constantFrom<EdgeInput['reason']>('identify', 'trait', 'seen_together', 'alias'),
        minute: fc.integer({ min: 0, max: 50 }),
      }),
      { selector: (e) => edgeId(e.a, e.b), maxLength: 20 },
    );
    fc.assert(
      fc.property(edges, fc.integer(), (specs, seed) => {
        const list = specs
          .filter((s) => s.a !== s.b)
          .map((s) => edge(s.a, s.b, s.reason, new Date(Date.UTC(2026, 0, 1, 0, s.minute)).toISOString()));
        const shuffled = [...list].sort((x, y) => (hash(x.id, seed) - hash(y.id, seed)) | 0);
        const one = resolveComponents(nodesOf(list), list, rules);
        const other = resolveComponents(nodesOf(list), shuffled, rules);
        expect(other.components).toEqual(one.components);
        // And the rules hold in every component: at most one userId unless an alias joined them.
        for (const c of one.components) {
          const users = c.members.filter((m) => m.startsWith('user:'));
          if (users.length > 1) expect(list.some((e) => e.reason === 'alias')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('resolutions racing', () => {
  it('leaves no live customer record behind when a lower ticket writes after a higher one read', async () => {
    // One user and one anonymous id per customer, so that an earlier link can split what a later one joined.
    const strict = {
      priority: (type: string) => (type === 'user' ? 1 : 2),
      limit: () => 1,
    };
    const inner = memoryIdentityStore();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached = () => {};
    const atGate = new Promise<void>((resolve) => {
      reached = resolve;
    });
    // The slow resolution has computed its customers and waits before writing them.
    const slow: IdentityStore = {
      ...inner,
      async writeResolution(write) {
        reached();
        await held;
        return inner.writeResolution(write);
      },
    };
    const deps = (store: IdentityStore): ResolveDeps => ({
      store,
      rules: strict,
      now: () => Date.UTC(2026, 0, 2),
      log: recordingLogger().log,
    });
    const link = (a: string, b: string, minute: number) => ({
      nodes: [a, b].map((key) => ({ key, display: key, at: '2026-01-01T00:00:00.000Z' })),
      edges: [{ a, b, reason: 'seen_together' as const, messageId: `m-${a}-${b}`, at: at2(minute) }],
    });
    const at2 = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();

    // k joins u's customer.
    await recordLinks([link('anon:k', 'user:u', 5)], deps(inner));
    // Ticket 2 sees an earlier link k2-u: k is split off and becomes its own customer again...
    const lower = recordLinks([link('anon:k2', 'user:u', 1)], deps(slow));
    await atGate;
    // ...while ticket 3, which also sees k-w even earlier, puts k with w, and writes first.
    await recordLinks([link('anon:k', 'user:w', 0)], deps(inner));
    release();
    await lower;

    const nodes = ['anon:k', 'anon:k2', 'user:u', 'user:w'];
    const pointers = await inner.getNodes(nodes);
    expect(pointers.get('anon:k')?.customerId).toBe(customerIdOf('user:w'));
    // Every customer record named after a node is either the customer its members point at, or merged away.
    for (const node of nodes) {
      const record = await inner.getCustomer(customerIdOf(node));
      for (const member of record?.members ?? []) {
        expect(pointers.get(member)?.customerId, `${customerIdOf(node)} lists ${member}`).toBe(
          record?.customerId,
        );
      }
    }
    expect(await inner.getCustomer(customerIdOf('anon:k'))).toMatchObject({
      members: [],
      mergedInto: customerIdOf('user:w'),
    });
  });
});

describe('linksOf', () => {
  const base = {
    messageId: 'm1',
    timestamp: '2026-03-01T10:00:00.000Z',
    receivedAt: '2026-03-01T10:00:01.000Z',
    sourceId: 'web',
  } as const;

  it('links the anonymous and known ids of a call, and the identifiers found at the edge', () => {
    const e: NormalizedEvent = {
      ...base,
      type: 'identify',
      userId: 'u1',
      anonymousId: 'a1',
      identifiers: [{ type: 'email', hash: 'h1', mask: 'j***@example.com' }],
    };
    const links = linksOf(e);
    expect(links.nodes.map((n) => [n.key, n.display])).toEqual([
      ['user:u1', 'u1'],
      ['anon:a1', 'a1'],
      ['email:h1', 'j***@example.com'],
    ]);
    expect(links.edges.map((x) => [x.a, x.b, x.reason])).toEqual([
      ['user:u1', 'anon:a1', 'identify'],
      ['user:u1', 'email:h1', 'trait'],
    ]);
  });

  it('marks links from other calls as seen together, and leaves alias to the resolver', () => {
    expect(
      linksOf({ ...base, type: 'track', event: 'X', userId: 'u1', anonymousId: 'a1' }).edges[0]?.reason,
    ).toBe('seen_together');
    const alias = linksOf({ ...base, type: 'alias', userId: 'new', previousId: 'old' });
    expect(alias.alias).toEqual({ userId: 'new', previousId: 'old', messageId: 'm1', at: base.timestamp });
    expect(alias.edges).toEqual([]);
  });
});

/** A deterministic shuffle key. */
function hash(s: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 2654435761);
  return h;
}
