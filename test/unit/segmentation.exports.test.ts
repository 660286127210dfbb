// The member CSV a marketer opens in a spreadsheet or loads into a CRM: ids in their columns, and no cell
// a spreadsheet would run as a formula.
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, RunFilesBuilder, toCsvRow } from '../../lib/segmentation/exports.js';
import {
  bufferFile,
  membersMetadata,
  ROW_GROUP_ROWS,
  readCustomerIds,
  readMembers,
  renderAssignment,
} from '../../lib/segmentation/members.js';
import type { AssignmentRecord } from '../../lib/segmentation/model.js';
import type { ReasonFigures } from '../../lib/segmentation/naming.js';
import { SEGMENT_IDS, type SegmentId } from '../../lib/segmentation/segments.js';

const member = (over: Partial<AssignmentRecord>): AssignmentRecord => ({
  customerId: 'cus_x',
  segment: 'loyal',
  population: 'buyers',
  cluster: 1,
  distance: 0.5,
  reasons: [{ feature: 'frequency', value: 7, median: 2, percentile: 0.8 }],
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

// The members' Parquet files: what a run stores is what the API pages and the next run's transitions read.
describe('members Parquet files', () => {
  const reasons: ReasonFigures[] = [
    { feature: 'recencyDays', value: 34, median: 11, percentile: 0.9 },
    { feature: 'frequency', value: 7, median: 2, percentile: 0.8 },
    { feature: 'monetary', value: 12.5, median: 60.25, percentile: 0.3 },
  ];
  /** Buyers with every optional field in turn, and prospects without R/F/M; 0 to 3 reasons each. */
  const record = (i: number, segment: SegmentId): AssignmentRecord => ({
    customerId: `cus_${String(i).padStart(6, '0')}`,
    ...(i % 3 === 0 ? {} : { userIds: i % 3 === 1 ? [`u-${i}`] : [`u-${i}`, `=u-${i}`] }),
    ...(i % 4 === 0 ? { crmIds: [`CRM-${i}`] } : i % 4 === 1 ? { crmIds: [] } : {}),
    segment,
    population: segment.endsWith('prospect') ? 'prospects' : 'buyers',
    cluster: i % 5,
    distance: i / 7,
    ...(segment.endsWith('prospect')
      ? {}
      : {
          rfm: {
            recencyDays: i % 300,
            frequency: 1 + (i % 9),
            monetary: i * 1.25,
            r: 1 + (i % 5),
            f: 2,
            m: 3,
            segment: 'champions',
          },
        }),
    reasons: reasons.slice(0, i % 4),
  });
  const loyal = Array.from({ length: ROW_GROUP_ROWS + 57 }, (_, i) => record(i, 'loyal'));
  const prospects = Array.from({ length: 40 }, (_, i) => record(i + 100_000, 'cold-prospect'));

  const build = () => {
    const builder = new RunFilesBuilder();
    // Chunks that mix segments, as a run's chunks do.
    const all = [...loyal, ...prospects];
    for (let i = 0; i < all.length; i += 3_000) builder.add(all.slice(i, i + 3_000));
    return new Map(builder.files().map((f) => [f.name, f.body]));
  };
  const files = build();
  const parquet = (segment: SegmentId) =>
    bufferFile(files.get(`members/${segment}.parquet`) ?? Buffer.alloc(0));

  it('hold every segment, empty ones included, as Parquet and CSV', () => {
    expect([...files.keys()].sort()).toEqual(
      SEGMENT_IDS.flatMap((s) => [`members/${s}.csv`, `members/${s}.parquet`]).sort(),
    );
  });

  it('give back exactly the records written, in order, across row groups', async () => {
    const file = parquet('loyal');
    const metadata = await membersMetadata(file);
    expect(Number(metadata.num_rows)).toBe(loyal.length);
    expect(metadata.row_groups.length).toBeGreaterThan(1);
    expect(await readMembers(file, metadata, 0, loyal.length)).toEqual(loyal);
    // A page across the row-group boundary, and one past the end.
    const around = ROW_GROUP_ROWS - 5;
    expect(await readMembers(file, metadata, around, around + 10)).toEqual(loyal.slice(around, around + 10));
    expect(await readMembers(file, metadata, loyal.length, loyal.length + 10)).toEqual([]);
    const cold = parquet('cold-prospect');
    expect(await readMembers(cold, await membersMetadata(cold), 0, 100)).toEqual(prospects);
    expect(await readCustomerIds(parquet('loyal'))).toEqual(loyal.map((r) => r.customerId));
  });

  it('of an empty segment read as no rows', async () => {
    const file = parquet('dormant');
    const metadata = await membersMetadata(file);
    expect(Number(metadata.num_rows)).toBe(0);
    expect(await readMembers(file, metadata, 0, 50)).toEqual([]);
    expect(await readCustomerIds(file)).toEqual([]);
  });

  it('render the reasons in words on read, and the CSV carries the same words', () => {
    const shown = renderAssignment(record(3, 'loyal'));
    expect(shown.reasons).toEqual([
      'recency 3.1x the median (34 vs 11 days)',
      'frequency in the top 20 % (7, median 2)',
      'monetary in the bottom 30 % (12.5, median 60.3)',
    ]);
    expect(shown.reasonCodes).toEqual(['recencyDays:high', 'frequency:high', 'monetary:low']);
    const csv = files.get('members/loyal.csv')?.toString('utf8').split('\n') ?? [];
    expect(csv[0]).toBe(CSV_COLUMNS.join(','));
    expect(csv[4]).toBe(toCsvRow(record(3, 'loyal')));
    expect(csv[4]).toContain('recency 3.1x the median (34 vs 11 days); frequency in the top 20 %');
  });
});
