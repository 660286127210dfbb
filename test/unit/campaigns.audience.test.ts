// Audience filters: traits (types as clients send them, PII tokens never compared), segment, RFM label and
// live figures; the first failing condition and its reason; save-time refusals.
import { describe, expect, it } from 'vitest';
import {
  type AudienceSnapshot,
  audienceIssues,
  audienceSnapshot,
  evaluateAudience,
} from '../../lib/campaigns/audience.js';
import { Condition, PROFILE_METRICS, type ProfileMetric } from '../../lib/campaigns/model.js';
import { mergePartials } from '../../lib/profiles/merge.js';
import { emptyPartial } from '../../lib/profiles/partial.js';
import { type CustomerView, customerView } from '../../lib/profiles/view.js';

const TOKEN = 'enc:v1:0123456789abcdef:QUJDREVGR0hJSktMTU5PUFFSU1RVVldY';

const snapshot: AudienceSnapshot = {
  traits: {
    plan: 'gold',
    age: '34',
    vip: true,
    signupDate: '2024-03-01',
    email: TOKEN,
    address: { country: 'FR', state: 'IDF', enc: TOKEN },
    empty: '',
  },
  segment: 'churn-risk',
  rfm: 'at-risk',
  metrics: metrics({
    orders: 3,
    netRevenue: 120.5,
    averageOrderValue: 40.17,
    daysSinceLastOrder: 45,
    daysSinceLastSeen: 2,
  }),
  events: { 'Coupon Applied': 3 },
};

/** Every metric, null unless given. */
function metrics(given: Partial<Record<ProfileMetric, number | null>>): Record<ProfileMetric, number | null> {
  return {
    ...(Object.fromEntries(PROFILE_METRICS.map((m) => [m, null])) as Record<ProfileMetric, null>),
    ...given,
  };
}

/** A real view (of no events) with the given fields. */
const viewWith = (fields: Partial<CustomerView>): CustomerView => ({
  ...customerView(mergePartials([emptyPartial('user:u-1')]), NOW),
  ...fields,
});

const cond = (c: unknown) => Condition.parse(c);
const NOW = Date.parse('2026-12-07T15:00:00Z');
const check = (...conditions: unknown[]) => evaluateAudience(conditions.map(cond), snapshot);

describe('evaluateAudience', () => {
  it('an empty audience is everyone', () => {
    expect(evaluateAudience([], { traits: {}, metrics: snapshot.metrics, events: {} })).toEqual({ ok: true });
  });

  it('passes when every condition holds', () => {
    expect(
      check(
        { kind: 'segment', in: ['churn-risk', 'dormant'] },
        { kind: 'rfm', in: ['at-risk'] },
        { kind: 'metric', metric: 'orders', op: 'gte', value: 3 },
        { kind: 'metric', metric: 'daysSinceLastOrder', op: 'gt', value: 30 },
        { kind: 'trait', trait: 'plan', op: 'in', value: ['gold', 'platinum'] },
        { kind: 'trait', trait: 'age', op: 'gte', value: 18 },
        { kind: 'trait', trait: 'vip', op: 'eq', value: true },
        { kind: 'trait', trait: 'signupDate', op: 'lt', value: '2025-01-01' },
        { kind: 'trait', trait: 'address.country', op: 'eq', value: 'FR' },
        { kind: 'trait', trait: 'email', op: 'exists' },
        { kind: 'trait', trait: 'phone', op: 'missing' },
        { kind: 'trait', trait: 'plan', op: 'neq', value: 'basic' },
        { kind: 'trait', trait: 'tier', op: 'neq', value: 'basic' },
      ),
    ).toEqual({ ok: true });
  });

  it.each([
    [{ kind: 'segment', in: ['loyal'] }, 'segment churn-risk is not one of loyal'],
    [{ kind: 'rfm', in: ['champions', 'loyal'] }, 'RFM at-risk is not one of champions, loyal'],
    [{ kind: 'metric', metric: 'netRevenue', op: 'gt', value: 500 }, 'netRevenue 120.5 is not gt 500'],
    [{ kind: 'trait', trait: 'plan', op: 'eq', value: 'platinum' }, 'plan gold is not eq platinum'],
    [{ kind: 'trait', trait: 'age', op: 'lt', value: 30 }, 'age 34 is not lt 30'],
    [{ kind: 'trait', trait: 'tier', op: 'eq', value: 'x' }, 'tier is missing'],
    [{ kind: 'trait', trait: 'empty', op: 'exists' }, 'empty is missing'],
    [{ kind: 'trait', trait: 'plan', op: 'missing' }, 'plan is present'],
    [{ kind: 'trait', trait: 'plan', op: 'neq', value: 'gold' }, 'plan is gold'],
    [
      { kind: 'trait', trait: 'email', op: 'eq', value: 'jane@example.com' },
      'email is personal data and is never compared',
    ],
    [{ kind: 'trait', trait: 'plan', op: 'gt', value: 3 }, 'plan gold is not gt 3'],
  ])('fails %j: %s', (condition, reason) => {
    const result = check({ kind: 'segment', in: ['churn-risk'] }, condition);
    expect(result).toEqual({ ok: false, index: 1, condition: cond(condition), reason });
  });

  it('reports the first failing condition of several', () => {
    const result = check(
      { kind: 'metric', metric: 'orders', op: 'gt', value: 10 },
      { kind: 'segment', in: ['loyal'] },
    );
    expect(result).toMatchObject({ ok: false, index: 0, reason: 'orders 3 is not gt 10' });
  });

  it('a figure without a value (no orders yet) fails its comparison', () => {
    const prospect = { ...snapshot, metrics: { ...snapshot.metrics, daysSinceLastOrder: null } };
    expect(
      evaluateAudience(
        [cond({ kind: 'metric', metric: 'daysSinceLastOrder', op: 'lt', value: 400 })],
        prospect,
      ),
    ).toMatchObject({ ok: false, reason: 'daysSinceLastOrder has no value' });
  });

  it('a customer without a segment is in no segment', () => {
    const unassigned = { traits: {}, metrics: snapshot.metrics, events: {} };
    expect(evaluateAudience([cond({ kind: 'segment', in: ['new'] })], unassigned)).toMatchObject({
      ok: false,
      reason: 'segment none is not one of new',
    });
  });
});

describe('audienceSnapshot', () => {
  it('reads traits, figures, segment and RFM label from the profile view and the assignment', () => {
    const view = viewWith({
      traits: {
        plan: { v: 'gold', at: '2026-01-01T00:00:00.000Z' },
        email: { v: TOKEN, at: '2026-01-01T00:00:00.000Z' },
      },
      orders: 2,
      netRevenue: 50,
      averageOrderValue: 25,
      daysSinceLastOrder: 3,
      daysSinceLastSeen: null,
    });
    expect(audienceSnapshot(view, { segment: 'loyal', rfm: { segment: 'champions' } }, NOW)).toEqual({
      traits: { plan: 'gold', email: TOKEN },
      segment: 'loyal',
      rfm: 'champions',
      metrics: metrics({
        orders: 2,
        netRevenue: 50,
        averageOrderValue: 25,
        daysSinceLastOrder: 3,
        daysSinceLastSeen: null,
        distinctOrderDays: 0,
        refundedOrders: 0,
        cancellations: 0,
        sessions: 0,
        pageViews: 0,
        productViews: 0,
        cartAdds: 0,
        checkouts: 0,
        shares: 0,
        cartItems: 0,
        cartValue: 0,
      }),
      events: {},
    });
    expect(audienceSnapshot(view, undefined, NOW).segment).toBeUndefined();
  });

  it("reads the models' lifecycle stage and scores, the next purchase in days from now", () => {
    const view = viewWith({
      orders: 4,
      netRevenue: 100,
      averageOrderValue: 25,
      daysSinceLastOrder: 30,
      daysSinceLastSeen: 2,
    });
    const predictions = {
      pAlive: 0.81,
      expectedPurchases: 1.2,
      expectedOrderValue: 26.5,
      clv: 140.2,
      intervalDays: 34,
      nextPurchaseDue: '2026-12-10',
      overdue: 0.88,
      lifecycle: 'active' as const,
      churnRisk: 0.35,
      declines: [],
    };
    const s = audienceSnapshot(view, { segment: 'loyal', predictions }, NOW);
    expect(s.lifecycle).toBe('active');
    expect(s.scores).toEqual({
      pAlive: 0.81,
      churnRisk: 0.35,
      clv: 140.2,
      expectedPurchases: 1.2,
      expectedOrderValue: 26.5,
      overdue: 0.88,
      // NOW is 2026-12-07T15:00Z: the 8th, 9th and 10th are to come.
      daysUntilNextPurchase: 3,
    });
    const replenish = [
      cond({ kind: 'lifecycle', in: ['active', 'at-risk'] }),
      cond({ kind: 'prediction', score: 'daysUntilNextPurchase', op: 'lte', value: 3 }),
      cond({ kind: 'prediction', score: 'churnRisk', op: 'lt', value: 0.5 }),
    ];
    expect(evaluateAudience(replenish, s)).toEqual({ ok: true });
    expect(
      evaluateAudience([cond({ kind: 'prediction', score: 'clv', op: 'gte', value: 500 })], s),
    ).toMatchObject({
      ok: false,
      reason: 'clv 140.2 is not gte 500',
    });
    expect(evaluateAudience([cond({ kind: 'lifecycle', in: ['lost'] })], s)).toMatchObject({
      ok: false,
      reason: 'lifecycle active is not one of lost',
    });
    // Without a published run's predictions, a score condition is not met: it has no value.
    const none = audienceSnapshot(view, { segment: 'loyal' }, NOW);
    expect(
      evaluateAudience([cond({ kind: 'prediction', score: 'pAlive', op: 'gt', value: 0 })], none),
    ).toMatchObject({
      ok: false,
      reason: 'pAlive has no value',
    });
  });
});

describe('audienceIssues', () => {
  it('refuses comparisons on PII traits, whatever their spelling, but allows exists and missing', () => {
    const issues = audienceIssues(
      [
        { kind: 'trait', trait: 'email', op: 'eq', value: 'a@b.c' },
        { kind: 'trait', trait: 'Phone_Number', op: 'in', value: ['1'] },
        { kind: 'trait', trait: 'birthday', op: 'gt', value: '1990-01-01' },
        { kind: 'trait', trait: 'email', op: 'exists' },
        { kind: 'trait', trait: 'address.country', op: 'eq', value: 'FR' },
        { kind: 'trait', trait: 'plan', op: 'eq', value: 'gold' },
      ].map(cond),
    );
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['audience[0].trait', 'pii_trait'],
      ['audience[1].trait', 'pii_trait'],
      ['audience[2].trait', 'pii_trait'],
    ]);
  });

  it('refuses a comparison without a value, a list for one value, one value for in', () => {
    const issues = audienceIssues(
      [
        { kind: 'trait', trait: 'plan', op: 'eq' },
        { kind: 'trait', trait: 'plan', op: 'eq', value: ['a'] },
        { kind: 'trait', trait: 'plan', op: 'in', value: 'a' },
      ].map(cond),
    );
    expect(issues.map((i) => [i.path, i.code])).toEqual([
      ['audience[0].value', 'missing_value'],
      ['audience[1].value', 'not_a_scalar'],
      ['audience[2].value', 'not_a_list'],
    ]);
  });
});
