// The member CSV a marketer opens in a spreadsheet or loads into a CRM: ids in their columns, and no cell
// a spreadsheet would run as a formula.
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, toCsvRow } from '../../lib/segmentation/exports.js';
import type { Assignment } from '../../lib/segmentation/model.js';

const member = (over: Partial<Assignment>): Assignment => ({
  customerId: 'cus_x',
  segment: 'loyal',
  population: 'buyers',
  cluster: 1,
  distance: 0.5,
  reasons: ['frequency in the top 20 %'],
  reasonCodes: ['frequency:high'],
  ...over,
});

const cells = (row: string) => Object.fromEntries(row.split(',').map((c, i) => [CSV_COLUMNS[i], c]));

describe('member CSV rows', () => {
  it('carry userIds and CRM ids, several joined by ;', () => {
    const row = cells(toCsvRow(member({ userIds: ['u-1', 'u-2'], crmIds: ['CRM-42'] })));
    expect(row).toMatchObject({
      customerId: 'cus_x',
      userIds: 'u-1;u-2',
      crmIds: 'CRM-42',
      segment: 'loyal',
    });
    expect(cells(toCsvRow(member({})))).toMatchObject({ userIds: '', crmIds: '' });
  });

  it('defuse ids a spreadsheet would run as formulas, and keep negative numbers', () => {
    for (const id of ['=HYPERLINK("x")', '+1+1', '@SUM(A1)', '-cmd']) {
      const row = toCsvRow(member({ userIds: [id] }));
      expect(row.split(',')[1]?.replace(/^"/, '')).toMatch(/^'/);
    }
    expect(cells(toCsvRow(member({ crmIds: ['-12'] }))).crmIds).toBe('-12');
  });
});
