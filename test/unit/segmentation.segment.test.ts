import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../lib/clustering/random.js';
import { NO_PURCHASES } from '../../lib/models/purchases.js';
import { type CustomerFeatures, FEATURES, type FeatureValues } from '../../lib/segmentation/features.js';
import { renderAssignment } from '../../lib/segmentation/members.js';
import { RunParameters } from '../../lib/segmentation/model.js';
import { latestMidnight, midnightIn } from '../../lib/segmentation/requests.js';
import { type Segmentation, segmentCustomers } from '../../lib/segmentation/segment.js';
import { NONE, TransitionCounter } from '../../lib/segmentation/transitions.js';

const parameters = RunParameters.parse({ asOf: '2026-11-22T00:00:00.000Z', kMin: 2, kMax: 6 });

function customer(id: string, values: Partial<FeatureValues>): CustomerFeatures {
  const all = Object.fromEntries(FEATURES.map((f) => [f, 0])) as FeatureValues;
  Object.assign(all, values);
  return { customerId: id, buyer: all.frequency > 0, values: all, purchases: NO_PURCHASES };
}

/** Three kinds of buyers the names must tell apart, and browsing prospects. */
function population(): CustomerFeatures[] {
  const random = seededRandom(7);
  const jitter = (x: number) => Math.max(0, Math.round(x * (0.8 + 0.4 * random())));
  const out: CustomerFeatures[] = [];
  for (let i = 0; i < 150; i++) {
    out.push(
      customer(`cus_hv${i}`, {
        recencyDays: jitter(5),
        frequency: jitter(30),
        monetary: jitter(5000),
        tenureDays: jitter(600),
        visitRecencyDays: jitter(3),
      }),
    );
    out.push(
      customer(`cus_lost${i}`, {
        recencyDays: jitter(300),
        frequency: 1,
        monetary: jitter(40),
        tenureDays: jitter(700),
        visitRecencyDays: jitter(300),
      }),
    );
    out.push(
      customer(`cus_mid${i}`, {
        recencyDays: jitter(40),
        frequency: jitter(3),
        monetary: jitter(300),
        tenureDays: jitter(500),
        visitRecencyDays: jitter(30),
      }),
    );
    out.push(
      customer(`cus_p${i}`, {
        visitRecencyDays: jitter(10),
        sessions: jitter(4),
        productViews: jitter(20),
        tenureDays: jitter(30),
      }),
    );
  }
  return out;
}

/** Every assignment, built chunk by chunk as the runner reads them. */
const assignmentsOf = (s: Segmentation) => [...s.chunks(97)].flat();

describe('segmentCustomers', () => {
  const all = population();
  const result = segmentCustomers(all, parameters);
  const assignments = assignmentsOf(result);
  const segmentOf = (id: string) => assignments.find((a) => a.customerId === id)?.segment;

  it('assigns every customer once, buyers with RFM, prospects apart from buyers', () => {
    expect(assignments).toHaveLength(all.length);
    expect(new Set(assignments.map((a) => a.customerId)).size).toBe(all.length);
    expect(assignments.map((_, i) => result.segmentAt(i))).toEqual(assignments.map((a) => a.segment));
    for (const a of assignments) {
      expect(a.population === 'buyers').toBe(a.rfm !== undefined);
      if (a.customerId.startsWith('cus_p')) expect(a.population).toBe('prospects');
    }
    expect(result.prospects.size).toBe(150);
  });

  it('names the clusters from their profiles, with reasons', () => {
    expect(segmentOf('cus_hv1')).toBe('high-value');
    expect(['dormant', 'churn-risk']).toContain(segmentOf('cus_lost1'));
    expect(segmentOf('cus_lost1')).toBe('dormant');
    expect(['growth-potential', 'loyal']).toContain(segmentOf('cus_mid1'));
    const lost = assignments.find((a) => a.customerId === 'cus_lost1');
    const shown = lost && renderAssignment(lost);
    expect(shown?.reasons[0]).toMatch(/^recency \d+(\.\d)?x the median/);
    expect(shown?.reasonCodes[0]).toBe('recencyDays:high');
    const hv = result.buyers.clusters.find((c) => c.segment === 'high-value');
    expect(hv?.reasons.map((r) => r.code)).toContain('monetary:high');
  });

  it('chooses k by silhouette within the range and reports validation', () => {
    const selection = result.buyers.selection;
    expect(result.buyers.k).toBeGreaterThanOrEqual(2);
    expect(result.buyers.k).toBeLessThanOrEqual(6);
    expect(selection?.candidates.map((c) => c.k)).toEqual([2, 3, 4, 5, 6]);
    expect(selection?.validation.silhouette).toBeGreaterThan(0.5);
    expect(selection?.validation.daviesBouldin).toBeGreaterThan(0);
    expect(selection?.validation.calinskiHarabasz).toBeGreaterThan(0);
    expect(selection?.validation.stability).toBeGreaterThan(0.9);
  });

  it('is deterministic and independent of input order', () => {
    const again = segmentCustomers([...all].reverse(), parameters);
    expect(assignmentsOf(again)).toEqual(assignments);
  });

  it('keeps per-segment statistics equal to the assignments', () => {
    for (const [segment, stats] of result.stats) {
      const members = assignments.filter((a) => a.segment === segment);
      expect(stats.size).toBe(members.length);
      const buyers = members.filter((a) => a.rfm);
      expect(stats.buyers).toBe(buyers.length);
      expect(stats.rfmSums.r).toBe(buyers.reduce((n, a) => n + (a.rfm?.r ?? 0), 0));
    }
    const labels = Object.values(result.rfmLabels).reduce((n, c) => n + c, 0);
    expect(labels).toBe(assignments.filter((a) => a.rfm).length);
  });

  it('does not cluster a population too small to, yet still names it', () => {
    const few = segmentCustomers(
      all.filter((c) => c.customerId.startsWith('cus_hv')).slice(0, 10),
      parameters,
    );
    expect(few.buyers.k).toBe(1);
    expect(few.buyers.selection).toBeNull();
    const fewAssignments = assignmentsOf(few);
    expect(fewAssignments.every((a) => a.segment === fewAssignments[0]?.segment)).toBe(true);
  });
});

describe('transitions', () => {
  it('counts who moved where, including customers who appeared and left', () => {
    const previous = new Map([
      ['a', 'loyal' as const],
      ['b', 'dormant' as const],
      ['gone', 'new' as const],
    ]);
    const current = [
      { customerId: 'a', segment: 'loyal' as const },
      { customerId: 'b', segment: 'churn-risk' as const },
      { customerId: 'fresh', segment: 'new' as const },
    ].map((a) => ({
      ...a,
      population: 'buyers' as const,
      cluster: 0,
      distance: 0,
      reasons: [{ feature: 'frequency' as const, value: 7, median: 2, percentile: 0.8 }],
    }));
    const why = 'frequency in the top 20 % (7, median 2)';
    const counter = new TransitionCounter('seg_prev', previous);
    const changes = [
      ...counter.add(current.slice(0, 2)),
      ...counter.add(current.slice(2)),
      ...counter.exits(),
    ];
    const transitions = counter.transitions();
    expect(transitions.matrix).toEqual({
      loyal: { loyal: 1 },
      dormant: { 'churn-risk': 1 },
      [NONE]: { new: 1 },
      new: { [NONE]: 1 },
    });
    expect(transitions.moved).toBe(3);
    expect(transitions.examples).toEqual({
      'dormant -> churn-risk': [{ customerId: 'b', reasons: [why] }],
      [`${NONE} -> new`]: [{ customerId: 'fresh', reasons: [why] }],
      [`new -> ${NONE}`]: [{ customerId: 'gone', reasons: ['no longer a customer of its own'] }],
    });
    expect(transitions.stayed).toBe(1);
    expect(changes.map((c) => [c.customerId, c.from, c.to])).toEqual([
      ['b', 'dormant', 'churn-risk'],
      ['fresh', null, 'new'],
      ['gone', 'new', null],
    ]);
  });
});

describe('as-of times', () => {
  it('takes midnight in the business time zone, across DST changes', () => {
    expect(new Date(midnightIn('2026-11-22', 'UTC')).toISOString()).toBe('2026-11-22T00:00:00.000Z');
    expect(new Date(midnightIn('2026-11-22', 'Asia/Shanghai')).toISOString()).toBe(
      '2026-11-21T16:00:00.000Z',
    );
    expect(new Date(midnightIn('2026-07-01', 'Europe/London')).toISOString()).toBe(
      '2026-06-30T23:00:00.000Z',
    );
    expect(new Date(midnightIn('2026-03-29', 'Europe/London')).toISOString()).toBe(
      '2026-03-29T00:00:00.000Z',
    );
    expect(new Date(midnightIn('2026-11-22', 'America/New_York')).toISOString()).toBe(
      '2026-11-22T05:00:00.000Z',
    );
  });

  it('finds the latest midnight at or before now', () => {
    const now = Date.parse('2026-11-22T15:30:00Z');
    expect(new Date(latestMidnight(now, 'UTC')).toISOString()).toBe('2026-11-22T00:00:00.000Z');
    // 15:30 UTC is 23:30 in Shanghai: still the 22nd there.
    expect(new Date(latestMidnight(now, 'Asia/Shanghai')).toISOString()).toBe('2026-11-21T16:00:00.000Z');
    expect(new Date(latestMidnight(Date.parse('2026-11-22T16:30:00Z'), 'Asia/Shanghai')).toISOString()).toBe(
      '2026-11-22T16:00:00.000Z',
    );
  });
});
