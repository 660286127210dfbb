// Tags as data (lib/tags): each rule shape on a customer built from real events through the profile
// reducer, the reasons in the customer's own figures, `since` kept while a value stands, the save-time
// checks, and tags in campaign audiences. Expected values are worked out by hand from the events below.
import { describe, expect, it } from 'vitest';
import { evaluateAudience } from '../../lib/campaigns/audience.js';
import { audienceOf } from '../../lib/campaigns/dispatch.js';
import { Condition } from '../../lib/campaigns/model.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import type { Predictions } from '../../lib/models/predictions.js';
import { mergePartials } from '../../lib/profiles/merge.js';
import { emptyPartial } from '../../lib/profiles/partial.js';
import { applyObject } from '../../lib/profiles/reduce.js';
import { customerView } from '../../lib/profiles/view.js';
import type { Assignment } from '../../lib/segmentation/model.js';
import type { RunReport } from '../../lib/segmentation/report.js';
import { tagIssues } from '../../lib/tags/api.js';
import { tagCatalogue } from '../../lib/tags/catalogue.js';
import { type SweepDeps, sweepPublished, sweepStep } from '../../lib/tags/consume.js';
import { loadDemoTags } from '../../lib/tags/demo.js';
import { evaluateTags, nextTags, sameTags, tagSubject, withTags } from '../../lib/tags/evaluate.js';
import { type Tag, TagDefinition } from '../../lib/tags/model.js';
import { normalizedEvent } from './factories.js';

// Monday 7 December 2026, 15:00 UTC. The customer's zone is UTC (no context.timezone).
const NOW = Date.parse('2026-12-07T15:00:00.000Z');
const HOUR = 3_600_000;
const ago = (hours: number) => new Date(NOW - hours * HOUR).toISOString();

let seq = 0;
const track = (event: string, hoursAgo: number, properties: Record<string, unknown> = {}): NormalizedEvent =>
  normalizedEvent({ messageId: `t${++seq}`, event, properties, timestamp: ago(hoursAgo) });
const identify = (traits: Record<string, unknown>): NormalizedEvent =>
  normalizedEvent({
    messageId: `i${++seq}`,
    type: 'identify',
    event: undefined,
    properties: undefined,
    traits,
    timestamp: ago(100),
  });

/**
 * Saturday night 23:00 (40 h ago) and Sunday 01:00 and 02:00 (38 h, 37 h ago): 6 shoe views, 1 bag view,
 * a coupon, a cart add; one order on Friday at 15:00 (72 h ago). 10 behavior events, 9 of them at night
 * and on the weekend (the order is neither).
 */
function nightOwl(): NormalizedEvent[] {
  return [
    identify({ member_level: 'gold', age: 34 }),
    ...[40, 40, 38, 38, 37, 37].map((h) =>
      track('Product Viewed', h, { product_id: 'p-shoe', category: 'shoes' }),
    ),
    track('Product Viewed', 40, { product_id: 'p-bag', category: 'bags' }),
    track('Coupon Applied', 38, { coupon: 'WELCOME' }),
    track('Product Added', 37, { product_id: 'p-shoe', quantity: 1, price: 89 }),
    track('Order Completed', 72, { order_id: 'o-1', revenue: 120, currency: 'EUR' }),
  ];
}

function viewOf(events: NormalizedEvent[]) {
  const partial = applyObject(emptyPartial('user:user-1'), events, `raw/tags-${++seq}`, NOW).partial;
  return customerView(mergePartials([partial]), NOW);
}

const define = (raw: unknown) => TagDefinition.parse(raw);

const DEFINITIONS = [
  define({
    id: 'night-owl',
    name: 'Night owl',
    kind: 'behavior',
    rule: { type: 'match', when: [{ kind: 'metric', metric: 'nightShare', op: 'gte', value: 0.5 }] },
  }),
  define({
    id: 'weekend-shopper',
    name: 'Weekend shopper',
    kind: 'behavior',
    rule: { type: 'match', when: [{ kind: 'metric', metric: 'weekendShare', op: 'gte', value: 0.6 }] },
  }),
  define({
    id: 'cart-abandoner',
    name: 'Cart abandoner',
    kind: 'behavior',
    rule: {
      type: 'match',
      when: [
        { kind: 'metric', metric: 'cartItems', op: 'gt', value: 0 },
        { kind: 'metric', metric: 'hoursSinceCartActivity', op: 'gte', value: 24 },
      ],
    },
  }),
  define({
    id: 'discount-seeker',
    name: 'Discount seeker',
    kind: 'behavior',
    rule: { type: 'match', when: [{ kind: 'event', event: 'Coupon Applied', op: 'gte', value: 2 }] },
  }),
  define({
    id: 'price-band',
    name: 'Price band',
    kind: 'preference',
    rule: {
      type: 'bands',
      bands: [
        { value: 'premium', when: [{ kind: 'metric', metric: 'averageOrderValue', op: 'gte', value: 100 }] },
        { value: 'mid', when: [{ kind: 'metric', metric: 'averageOrderValue', op: 'gte', value: 30 }] },
        { value: 'budget', when: [{ kind: 'metric', metric: 'averageOrderValue', op: 'gte', value: 0 }] },
      ],
    },
  }),
  define({
    id: 'top-category',
    name: 'Favourite category',
    kind: 'preference',
    rule: {
      type: 'top',
      of: 'category',
      when: [{ kind: 'metric', metric: 'productViews', op: 'gte', value: 3 }],
    },
  }),
  define({
    id: 'member-level',
    name: 'Member level',
    kind: 'static',
    rule: {
      type: 'bands',
      bands: [
        {
          value: 'gold',
          when: [{ kind: 'trait', trait: 'member_level', op: 'in', value: ['gold', 'platinum'] }],
        },
        { value: 'standard', when: [] },
      ],
    },
  }),
  define({
    id: 'churn-risk',
    name: 'Churn risk',
    kind: 'predictive',
    rule: { type: 'match', when: [{ kind: 'prediction', score: 'churnRisk', op: 'gte', value: 0.6 }] },
  }),
  define({
    id: 'clv-tier',
    name: 'CLV tier',
    kind: 'predictive',
    rule: {
      type: 'bands',
      bands: [
        { value: 'high', when: [{ kind: 'prediction', score: 'clv', op: 'gte', value: 500 }] },
        { value: 'low', when: [{ kind: 'prediction', score: 'clv', op: 'gte', value: 0 }] },
      ],
    },
  }),
];

const PREDICTIONS: Predictions = {
  pAlive: 0.4,
  expectedPurchases: 0.3,
  expectedOrderValue: 110,
  clv: 180.5,
  intervalDays: 30,
  nextPurchaseDue: '2026-12-04',
  overdue: 1.1,
  lifecycle: 'at-risk',
  churnRisk: 0.72,
  declines: [],
};

const byTag = (tags: { tag: string; value: string; reasons: string[] }[]) =>
  Object.fromEntries(tags.map((t) => [t.tag, t]));

describe('evaluateTags', () => {
  it('gives each rule shape its value, with reasons in the customer figures', () => {
    const subject = tagSubject(viewOf(nightOwl()), { segment: 'loyal', predictions: PREDICTIONS }, NOW);
    const tags = byTag(evaluateTags(DEFINITIONS, subject));
    expect(Object.keys(tags).sort()).toEqual([
      'cart-abandoner',
      'churn-risk',
      'clv-tier',
      'member-level',
      'night-owl',
      'price-band',
      'top-category',
      'weekend-shopper',
    ]);
    // 9 of 10 behavior events between 22:00 and 05:59, on Saturday or Sunday.
    expect(tags['night-owl']).toEqual({
      tag: 'night-owl',
      value: 'true',
      reasons: ['nightShare 0.9 (gte 0.5)'],
    });
    expect(tags['weekend-shopper']?.reasons).toEqual(['weekendShare 0.9 (gte 0.6)']);
    // The cart was last touched 37 hours ago.
    expect(tags['cart-abandoner']?.reasons).toEqual([
      'cartItems 1 (gt 0)',
      'hoursSinceCartActivity 37 (gte 24)',
    ]);
    // One coupon only (two make a discount seeker, below).
    expect(tags['discount-seeker']).toBeUndefined();
    expect(tags['price-band']).toMatchObject({
      value: 'premium',
      reasons: ['averageOrderValue 120 (gte 100)'],
    });
    // Shoes: 6 views of 7 (each view weighs the same).
    expect(tags['top-category']).toMatchObject({ value: 'shoes' });
    expect(tags['top-category']?.reasons[0]).toBe('category shoes is first: 86 % of their category activity');
    expect(tags['member-level']).toMatchObject({
      value: 'gold',
      reasons: ['member_level gold (in gold, platinum)'],
    });
    expect(tags['churn-risk']?.reasons).toEqual(['churnRisk 0.72 (gte 0.6)']);
    expect(tags['clv-tier']).toMatchObject({ value: 'low' });
  });

  it('gives nothing where a rule does not hold, and the "otherwise" band to everyone else', () => {
    const subject = tagSubject(viewOf([track('Page Viewed', 2)]), undefined, NOW);
    const tags = byTag(evaluateTags(DEFINITIONS, subject));
    // A 13:00 Monday event; no order, no cart, no coupon, no views; no run has scored them.
    expect(Object.keys(tags)).toEqual(['member-level']);
    expect(tags['member-level']).toEqual({
      tag: 'member-level',
      value: 'standard',
      reasons: ['no other band applies'],
    });
  });

  it('counts events by name: one coupon is not a discount seeker, two are', () => {
    const one = viewOf(nightOwl());
    expect(
      byTag(evaluateTags(DEFINITIONS, tagSubject(one, undefined, NOW)))['discount-seeker'],
    ).toBeUndefined();
    const two = viewOf([...nightOwl(), track('Coupon Applied', 5, { coupon: 'AGAIN' })]);
    expect(byTag(evaluateTags(DEFINITIONS, tagSubject(two, undefined, NOW)))['discount-seeker']).toEqual({
      tag: 'discount-seeker',
      value: 'true',
      reasons: ['Coupon Applied events 2 (gte 2)'],
    });
  });

  it('a top rule needs its evidence and its share; a disabled tag is given to no one', () => {
    const few = viewOf([track('Product Viewed', 3, { product_id: 'p', category: 'shoes' })]);
    expect(byTag(evaluateTags(DEFINITIONS, tagSubject(few, undefined, NOW)))['top-category']).toBeUndefined();
    const second = define({
      id: 'second-category',
      name: 'Second category',
      kind: 'preference',
      rule: { type: 'top', of: 'category', rank: 2, minShare: 0.2 },
    });
    // Bags are 1 of 7 views: below a fifth.
    expect(evaluateTags([second], tagSubject(viewOf(nightOwl()), undefined, NOW))).toEqual([]);
    const off = { ...DEFINITIONS[0], enabled: false } as TagDefinition;
    expect(evaluateTags([off], tagSubject(viewOf(nightOwl()), undefined, NOW))).toEqual([]);
  });
});

describe('nextTags', () => {
  it('keeps since while the value stands and restarts it when the value changes', () => {
    const first = nextTags(
      'cus_1',
      undefined,
      [{ tag: 'price-band', value: 'mid', reasons: ['a'] }],
      '2026-12-01T00:00:00.000Z',
    );
    const same = nextTags(
      'cus_1',
      first,
      [{ tag: 'price-band', value: 'mid', reasons: ['b'] }],
      '2026-12-02T00:00:00.000Z',
    );
    expect(same.tags[0]?.since).toBe('2026-12-01T00:00:00.000Z');
    const moved = nextTags(
      'cus_1',
      same,
      [{ tag: 'price-band', value: 'premium', reasons: ['c'] }],
      '2026-12-03T00:00:00.000Z',
    );
    expect(moved.tags[0]?.since).toBe('2026-12-03T00:00:00.000Z');
    expect(
      sameTags(
        first,
        nextTags(
          'cus_1',
          first,
          [{ tag: 'price-band', value: 'mid', reasons: ['a'] }],
          '2026-12-09T00:00:00.000Z',
        ),
      ),
    ).toBe(true);
    expect(sameTags(first, same)).toBe(false);
    // No record and no tags: nothing to store.
    expect(sameTags(undefined, nextTags('cus_2', undefined, [], '2026-12-01T00:00:00.000Z'))).toBe(true);
  });
});

describe('tagIssues', () => {
  it('refuses comparisons on personal traits in every condition list, with the path to fix', () => {
    const def = define({
      id: 'by-mail',
      name: 'x',
      kind: 'static',
      rule: {
        type: 'bands',
        bands: [
          { value: 'a', when: [{ kind: 'trait', trait: 'email', op: 'eq', value: 'x@example.com' }] },
          { value: 'b', when: [{ kind: 'trait', trait: 'email', op: 'exists' }] },
        ],
      },
    });
    expect(tagIssues(def)).toEqual([
      expect.objectContaining({ path: 'rule.bands[0].when[0].trait', code: 'pii_trait' }),
    ]);
  });

  it('a definition naming another tag is refused by the schema (tags never depend on tags)', () => {
    const parsed = TagDefinition.safeParse({
      id: 'loop',
      name: 'x',
      kind: 'behavior',
      rule: { type: 'match', when: [{ kind: 'tag', tag: 'night-owl' }] },
    });
    expect(parsed.success).toBe(false);
  });
});

describe('tags in campaign audiences', () => {
  const stored = (d: TagDefinition): Tag => ({ ...d, version: 1, updatedAt: '2026-12-01T00:00:00.000Z' });

  it('evaluates the definitions on the recipient as they are, values included', async () => {
    const catalogue = tagCatalogue({ listDefinitions: async () => DEFINITIONS.map(stored) });
    const recipient = {
      view: viewOf(nightOwl()),
      assignment: { segment: 'loyal' as const, predictions: PREDICTIONS },
    };
    const audience = [
      Condition.parse({ kind: 'tag', tag: 'cart-abandoner' }),
      Condition.parse({ kind: 'tag', tag: 'price-band', in: ['premium', 'mid'] }),
    ];
    const snapshot = await audienceOf({ audience }, recipient, catalogue, NOW);
    expect(evaluateAudience(audience, snapshot)).toEqual({ ok: true });
    const budget = [Condition.parse({ kind: 'tag', tag: 'price-band', in: ['budget'] })];
    expect(evaluateAudience(budget, snapshot)).toMatchObject({
      ok: false,
      reason: 'tag price-band is premium, not one of budget',
    });
    const unknown = [Condition.parse({ kind: 'tag', tag: 'no-such-tag' })];
    expect(evaluateAudience(unknown, snapshot)).toMatchObject({ ok: false, reason: 'no tag no-such-tag' });
  });

  it('without definitions (or without a tag condition) no tags are evaluated, and a tag condition fails', async () => {
    const recipient = { view: viewOf(nightOwl()) };
    const audience = [Condition.parse({ kind: 'tag', tag: 'night-owl' })];
    const snapshot = await audienceOf({ audience }, recipient, undefined, NOW);
    expect(snapshot.tags).toBeUndefined();
    expect(evaluateAudience(audience, snapshot)).toMatchObject({
      ok: false,
      reason: 'tags were not evaluated',
    });
    const subject = tagSubject(recipient.view, undefined, NOW);
    expect(withTags(subject, DEFINITIONS).tags?.get('night-owl')).toBe('true');
  });

  it('lists the definitions once per minute, and again after a failed listing', async () => {
    let calls = 0;
    let fail = true;
    const catalogue = tagCatalogue({
      listDefinitions: async () => {
        calls++;
        if (fail) throw new Error('throttled');
        return DEFINITIONS.map(stored);
      },
    });
    await expect(catalogue(NOW)).rejects.toThrow('throttled');
    fail = false;
    expect((await catalogue(NOW + 1)).length).toBe(DEFINITIONS.length);
    await catalogue(NOW + 30_000);
    expect(calls).toBe(2);
    await catalogue(NOW + 61_000);
    expect(calls).toBe(3);
  });
});

describe('the demo tags (tags/)', () => {
  it('load and pass the save-time checks, one layer each at least', async () => {
    const tags = await loadDemoTags();
    expect(new Set(tags.map((t) => t.kind))).toEqual(
      new Set(['static', 'behavior', 'preference', 'predictive']),
    );
    expect(tags.map((t) => t.id)).toContain('churn-risk');
  });
});

describe('reasons', () => {
  it('are at most five per tag and 160 characters each, whatever a client sent', () => {
    const view = viewOf([identify({ motto: 'x'.repeat(1_000) }), track('Page Viewed', 1)]);
    const many = define({
      id: 'chatty',
      name: 'Chatty',
      kind: 'static',
      rule: {
        type: 'match',
        when: [
          { kind: 'trait', trait: 'motto', op: 'neq', value: 'y' },
          ...Array.from({ length: 7 }, () => ({ kind: 'metric', metric: 'pageViews', op: 'gte', value: 0 })),
        ],
      },
    });
    const [tag] = evaluateTags([many], tagSubject(view, undefined, NOW));
    expect(tag?.reasons).toHaveLength(5);
    expect(tag?.reasons[0]).toHaveLength(160);
    expect(tag?.reasons[0]?.endsWith('…')).toBe(true);
  });
});

describe('sweeps', () => {
  /** A published run of two segments (3 and 1,001 members), and what the steps send. */
  function sweepDeps() {
    const members: Record<string, string[]> = {
      loyal: ['a', 'b', 'c'],
      dormant: Array.from({ length: 1001 }, (_, i) => `d${i}`),
    };
    const named: string[] = [];
    const steps: { runId: string; segments: string[]; cursor?: string }[] = [];
    const deps: SweepDeps = {
      runs: { publishedRun: async () => 'run-1' },
      files: {
        getReport: async () =>
          ({
            segments: [
              { id: 'loyal', size: 3 },
              { id: 'new', size: 0 },
              { id: 'dormant', size: 1001 },
            ],
          }) as unknown as RunReport,
        membersPage: async (_run, segment, cursor, limit) => {
          const all = members[segment] ?? [];
          const start = Number(cursor ?? 0);
          const page = all.slice(start, start + limit).map((customerId) => ({ customerId }) as Assignment);
          return start + limit < all.length
            ? { members: page, next: String(start + limit) }
            : { members: page };
        },
      },
      requests: {
        request: async (_origin, ids) => {
          named.push(...ids);
          return 1;
        },
        sweep: async (step) => {
          steps.push({ ...step, segments: [...step.segments] });
        },
      },
    };
    return { deps, named, steps };
  }

  it('walks every member of the published run once, a page per step, segment after segment', async () => {
    const { deps, named, steps } = sweepDeps();
    expect(await sweepPublished(deps)).toBe(true);
    // Empty segments are skipped.
    expect(steps).toEqual([{ runId: 'run-1', segments: ['loyal', 'dormant'] }]);
    for (let i = 0; i < steps.length && i < 10; i++) {
      const step = steps[i];
      if (step) await sweepStep({ v: 1, origin: 'sweep', ...step }, deps);
    }
    expect(steps.slice(1)).toEqual([
      { runId: 'run-1', segments: ['dormant'] },
      { runId: 'run-1', segments: ['dormant'], cursor: '1000' },
    ]);
    expect(named).toHaveLength(1004);
    expect(new Set(named).size).toBe(1004);
  });

  it('starts nothing before a run is published', async () => {
    const { deps, steps } = sweepDeps();
    expect(await sweepPublished({ ...deps, runs: { publishedRun: async () => undefined } })).toBe(false);
    expect(steps).toEqual([]);
  });
});
