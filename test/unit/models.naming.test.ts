// Absolute, not only relative: the CDNOW customers as of the end of their history are a mix of active
// and lapsed buyers; the same customers seen years later are all gone, and the run names them so, in
// their segment, their RFM label and their first reason, although their top quintile is as "top" as ever.
import { describe, expect, it } from 'vitest';
import { fitModels } from '../../lib/models/nightly.js';
import { purchaseDaysOf } from '../../lib/models/purchases.js';
import {
  type CustomerFeatures,
  FEATURES,
  type FeatureValues,
  holdoutDayOf,
} from '../../lib/segmentation/features.js';
import { renderAssignment } from '../../lib/segmentation/members.js';
import { RunParameters } from '../../lib/segmentation/model.js';
import { segmentCustomers } from '../../lib/segmentation/segment.js';
import { cdnowPurchases } from '../support/cdnow.js';

const DAY = 24 * 60 * 60 * 1000;

/** The CDNOW buyers as a run as of `asOfIso` sees them: RFM and tenure from their paid records. */
function customersAsOf(asOfIso: string): CustomerFeatures[] {
  const asOf = Date.parse(asOfIso);
  const orders = new Map<string, { at: number; milli: number }[]>();
  for (const p of cdnowPurchases()) {
    const at = Date.parse(`${p.date}T12:00:00Z`);
    if (at >= asOf || p.dollars === 0) continue;
    const list = orders.get(p.customer) ?? [];
    list.push({ at, milli: Math.round(p.dollars * 1000) });
    orders.set(p.customer, list);
  }
  return [...orders].map(([customer, list]) => {
    const values = Object.fromEntries(FEATURES.map((f) => [f, 0])) as FeatureValues;
    const first = Math.min(...list.map((o) => o.at));
    const last = Math.max(...list.map((o) => o.at));
    values.recencyDays = Math.floor((asOf - last) / DAY);
    values.visitRecencyDays = values.recencyDays;
    values.tenureDays = Math.floor((asOf - first) / DAY);
    values.frequency = list.length;
    values.monetary = list.reduce((s, o) => s + o.milli, 0) / 1000;
    values.averageOrderValue = values.monetary / values.frequency;
    return {
      customerId: `cus_${customer}`,
      buyer: true,
      values,
      purchases: purchaseDaysOf(list, holdoutDayOf(asOf, 90)),
    };
  });
}

function run(asOfIso: string) {
  const customers = customersAsOf(asOfIso);
  const parameters = RunParameters.parse({ asOf: asOfIso, kMin: 3, kMax: 5 });
  const asOf = Date.parse(asOfIso);
  const models = fitModels(customers, { ...parameters, asOf });
  const result = segmentCustomers(customers, parameters, models);
  const assignments = [...result.chunks(1000)].flat();
  return { models, result, assignments };
}

const ACTIVE_NAMES = ['high-value', 'loyal', 'growth-potential', 'new'];

describe('a customer base gone for years', () => {
  it('at the end of its history: active and lapsed buyers, named by their clusters', () => {
    const { models, assignments } = run('1998-07-01T00:00:00.000Z');
    expect(models.report.lifecycle.active).toBeGreaterThan(100);
    expect(assignments.some((a) => ACTIVE_NAMES.includes(a.segment))).toBe(true);
    expect(assignments.some((a) => a.rfm?.segment === 'champions')).toBe(true);
  });

  it('seven years later: every buyer lost, in the dormant segment and an RFM label that says so', () => {
    const { models, result, assignments } = run('2005-07-01T00:00:00.000Z');
    expect(models.report.lifecycle).toMatchObject({ lost: 2349, active: 0, new: 0, 'at-risk': 0 });
    expect(assignments.filter((a) => ACTIVE_NAMES.includes(a.segment))).toEqual([]);
    expect(new Set(assignments.map((a) => a.segment))).toEqual(new Set(['dormant']));
    expect(result.rfmLabels.champions).toBe(0);
    expect(result.rfmLabels.lost).toBe(2349);
    // The first reason says it with the customer's own figures.
    const rendered = renderAssignment(assignments[0] as (typeof assignments)[number]);
    expect(rendered.reasonCodes[0]).toBe('lifecycle:lost');
    expect(rendered.reasons[0]).toMatch(/^lost: last order \d+ days ago, [\d.]+x (their|the) usual interval/);
  });
});
