// Report assembly from counter rows: totals, groups, slices by segment, channel and variant, the
// baseline the treated are compared with, and the shape the API promises (its zod schema).
import { describe, expect, it } from 'vitest';
import { assembleReport, CampaignReport } from '../../lib/campaigns/report.js';
import { type CounterRow, type Counters, ZERO } from '../../lib/campaigns/reportStore.js';
import { newcombe } from '../../lib/campaigns/uplift.js';

const NOW = Date.parse('2026-12-06T12:00:00.000Z');
const row = (
  group: CounterRow['group'],
  dimension: CounterRow['dimension'],
  c: Partial<Counters>,
): CounterRow => ({
  group,
  dimension,
  counters: { ...ZERO, ...c },
});

const ROWS: CounterRow[] = [
  row('treated', 'all', {
    candidates: 700,
    members: 700,
    sent: 700,
    delivered: 690,
    converted: 84,
    revenue: 4200.1,
    revenueSq: 300_000,
  }),
  row('control', 'all', { candidates: 200, members: 200, converted: 16, revenue: 800.2, revenueSq: 50_000 }),
  row('holdout', 'all', { candidates: 100, members: 100, converted: 7, revenue: 300, revenueSq: 20_000 }),
  row('skipped', 'all', { candidates: 60, skipped: { no_consent: 40, quiet_hours: 20 } }),
  row('treated', 'channel#email', {
    candidates: 500,
    members: 500,
    sent: 500,
    delivered: 495,
    converted: 70,
    revenue: 3000,
    revenueSq: 200_000,
  }),
  row('treated', 'channel#sms', {
    candidates: 200,
    members: 200,
    sent: 200,
    delivered: 195,
    converted: 14,
    revenue: 1200.1,
    revenueSq: 100_000,
  }),
  row('skipped', 'segment#loyal', { candidates: 5, skipped: { no_consent: 5 } }),
  row('holdout', 'segment#loyal', { candidates: 10, members: 10, converted: 1, revenue: 30, revenueSq: 900 }),
  row('treated', 'variant#a', { candidates: 350, members: 350, sent: 350, converted: 40 }),
];

describe('campaign report', () => {
  const report = assembleReport(
    'abandoned-cart',
    { rows: ROWS, firstAt: '2026-12-01T09:00:00.000Z' },
    { baseline: 'pooled', now: NOW, version: 2 },
  );

  it('matches the schema the API documents', () => {
    expect(CampaignReport.parse(report)).toEqual(report);
  });

  it('totals: every candidate, the sends and their attributed conversions, skips by reason', () => {
    expect(report.totals).toEqual({
      candidates: 1060,
      sent: 700,
      skipped: { no_consent: 40, quiet_hours: 20 },
      delivered: 690,
      converted: 84,
      revenue: 4200.1,
    });
    expect(report.period).toEqual({ from: '2026-12-01T09:00:00.000Z', to: '2026-12-06T12:00:00.000Z' });
    expect(report.version).toBe(2);
  });

  it('groups: rates and revenue per member', () => {
    expect(report.byGroup.treated).toMatchObject({ members: 700, conversionRate: 0.12 });
    expect(report.byGroup.control).toMatchObject({ members: 200, conversionRate: 0.08, revenue: 800.2 });
    expect(report.byGroup.holdout.revenuePerMember).toBe(3);
  });

  it('uplift against the pooled control and holdout, or either alone', () => {
    expect(report.uplift.baseline).toBe('pooled');
    expect(report.uplift.rates).toEqual({ treated: 0.12, control: 23 / 300 });
    expect(report.uplift.absolute?.ci95).toEqual(newcombe(84, 700, 23, 300));
    const holdout = assembleReport('abandoned-cart', { rows: ROWS }, { baseline: 'holdout', now: NOW });
    expect(holdout.uplift.absolute?.ci95).toEqual(newcombe(84, 700, 7, 100));
    const control = assembleReport('abandoned-cart', { rows: ROWS }, { baseline: 'control', now: NOW });
    expect(control.uplift.absolute?.ci95).toEqual(newcombe(84, 700, 16, 200));
    expect(holdout.period.from).toBeNull();
  });

  it('slices by channel, segment and variant, each with its own groups and uplift', () => {
    expect(Object.keys(report.byChannel).sort()).toEqual(['email', 'sms']);
    expect(report.byChannel.email?.totals).toMatchObject({ sent: 500, delivered: 495, converted: 70 });
    // No control member was reached through a channel: that slice's uplift cannot be told.
    expect(report.byChannel.email?.uplift).toMatchObject({
      neededPerGroup: 'cannot tell',
      verdict: 'not significant yet',
    });
    expect(report.bySegment.loyal?.totals).toMatchObject({
      candidates: 15,
      skipped: { no_consent: 5 },
      sent: 0,
    });
    expect(report.bySegment.loyal?.byGroup.holdout).toMatchObject({ members: 10, converted: 1 });
    expect(report.byVariant.a?.byGroup.treated).toMatchObject({ members: 350, converted: 40 });
  });

  it('a campaign with nothing counted: zeros, and nothing to tell yet', () => {
    const empty = assembleReport('birthday', { rows: [] }, { baseline: 'pooled', now: NOW });
    expect(CampaignReport.parse(empty)).toEqual(empty);
    expect(empty.totals).toEqual({
      candidates: 0,
      sent: 0,
      skipped: {},
      delivered: 0,
      converted: 0,
      revenue: 0,
    });
    expect(empty.uplift).toMatchObject({
      absolute: null,
      significant: false,
      verdict: 'not significant yet',
    });
  });
});
