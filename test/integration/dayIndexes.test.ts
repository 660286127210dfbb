// The day indexes on the DynamoDB emulator (the messaging table). The date index: a birthday set, moved,
// replayed out of order and raced; `confirm` trusts the customer's current date over any index row left
// behind. The lapse index (the same adapter): a customer's last order day moves forward only.
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { datesTable, lapsesTable } from '../../lib/adapters/dynamodb/dayIndexTable.js';
import { createDynamoDb } from '../../lib/aws/clients.js';
import { type DatedEntry, datesOf } from '../../lib/campaigns/dateIndex.js';
import { lapsesOf } from '../../lib/campaigns/lapseIndex.js';
import { testConfig } from '../support/provided.js';

const config = testConfig();
const db = createDynamoDb(config);
const index = datesTable(db, config.tables.messaging);
afterAll(() => db.destroy());

// Month-days no other test uses, one per test run (the table is shared): a random pair in month 13+ would
// be refused by no one here, but real dates keep the test honest; the customer ids are unique anyway.
const customer = () => `c-dates-${randomUUID()}`;
const entry = (customerId: string, monthDay: string, at: string, zone?: string): DatedEntry => ({
  customerId,
  monthDay,
  at,
  ...(zone ? { zone } : {}),
});
const idsOn = async (monthDay: string, ids: readonly string[]) =>
  (await index.on('birthday', monthDay)).filter((e) => ids.includes(e.customerId)).map((e) => e.customerId);

describe('datesTable', () => {
  it('indexes a date, moves it when it changes, and ignores an older value replayed later', async () => {
    const c = customer();
    expect(await index.set('birthday', entry(c, '03-07', '2026-01-01T00:00:00.000Z', 'Europe/Paris'))).toBe(
      'set',
    );
    expect(await idsOn('03-07', [c])).toEqual([c]);
    // Redelivered: nothing changes.
    expect(await index.set('birthday', entry(c, '03-07', '2026-01-01T00:00:00.000Z', 'Europe/Paris'))).toBe(
      'set',
    );
    expect(await index.set('birthday', entry(c, '07-03', '2026-02-01T00:00:00.000Z'))).toBe('set');
    expect(await idsOn('03-07', [c])).toEqual([]);
    expect(await idsOn('07-03', [c])).toEqual([c]);
    // The January value again (a replay): older than the stored one, so refused, and the index unchanged.
    expect(await index.set('birthday', entry(c, '03-07', '2026-01-01T00:00:00.000Z'))).toBe('stale');
    expect(await idsOn('03-07', [c])).toEqual([]);
    expect(await idsOn('07-03', [c])).toEqual([c]);
  });

  it('ends with the latest value and one index row when many changes race', async () => {
    const c = customer();
    const days = ['01-10', '01-11', '01-12', '01-13', '01-14', '01-15', '01-16', '01-17'];
    await Promise.all(
      days.map((d, i) => index.set('birthday', entry(c, d, `2026-03-0${i + 1}T00:00:00.000Z`))),
    );
    const rows = (await Promise.all(days.map((d) => idsOn(d, [c])))).flat();
    // The newest value is indexed; a losing writer's row may remain, and confirm removes it.
    const last = days.at(-1) as string;
    expect(await idsOn(last, [c])).toEqual([c]);
    const listed = (await Promise.all(days.map((d) => index.on('birthday', d))))
      .flat()
      .filter((e) => e.customerId === c);
    expect(listed.length).toBe(rows.length);
    const confirmed = await index.confirm('birthday', listed);
    expect(confirmed.map((e) => e.monthDay)).toEqual([last]);
    expect((await Promise.all(days.map((d) => idsOn(d, [c])))).flat()).toEqual([c]);
  });

  it('confirm drops and removes an index row the current date contradicts, and returns the current zone', async () => {
    const c = customer();
    await index.set('birthday', entry(c, '05-20', '2026-01-01T00:00:00.000Z', 'Asia/Tokyo'));
    // A row a crash left behind (written before the current row moved away).
    await db.send(
      new PutCommand({
        TableName: config.tables.messaging,
        Item: { pk: 'date#birthday#05-21', sk: c, monthDay: '05-21', at: '2025-01-01T00:00:00.000Z' },
      }),
    );
    const listed = [
      ...(await index.on('birthday', '05-20')),
      ...(await index.on('birthday', '05-21')),
    ].filter((e) => e.customerId === c);
    expect(listed.map((e) => e.monthDay).sort()).toEqual(['05-20', '05-21']);
    expect(await index.confirm('birthday', listed)).toEqual([
      { customerId: c, monthDay: '05-20', at: '2026-01-01T00:00:00.000Z', zone: 'Asia/Tokyo' },
    ]);
    expect(await idsOn('05-21', [c])).toEqual([]);
    expect(await index.confirm('birthday', [])).toEqual([]);
  });
});

describe('lapsesTable', () => {
  const lapses = lapsesTable(db, config.tables.messaging);
  // Days far in the past no other test orders on.
  const orderOn = (customerId: string, day: string) => {
    const order = lapsesOf({ customerId, timestamp: `${day}T15:00:00.000Z`, event: 'Order Completed' });
    expect(order.map((l) => l.kind)).toEqual(['visit', 'order']);
    return lapses.set('order', order[1]?.entry as never);
  };
  const idsOn = async (day: string, ids: readonly string[]) =>
    (await lapses.on('order', day)).filter((e) => ids.includes(e.customerId)).map((e) => e.customerId);

  it("moves a customer's last order day forward only, one index row per customer, and leaves visits apart", async () => {
    const c = customer();
    expect(await orderOn(c, '1999-03-01')).toBe('set');
    expect(await orderOn(c, '1999-03-01')).toBe('set'); // the same day again: nothing to write
    expect(await orderOn(c, '1999-03-04')).toBe('set');
    expect(await orderOn(c, '1999-03-02')).toBe('stale'); // a backfilled older order
    expect(await idsOn('1999-03-01', [c])).toEqual([]);
    expect(await idsOn('1999-03-02', [c])).toEqual([]);
    const listed = (await lapses.on('order', '1999-03-04')).filter((e) => e.customerId === c);
    expect(await lapses.confirm('order', listed)).toEqual([
      { customerId: c, day: '1999-03-04', at: '1999-03-04T00:00:00.000Z' },
    ]);
    expect((await lapses.on('visit', '1999-03-04')).filter((e) => e.customerId === c)).toEqual([]);
  });
});

describe('datesOf', () => {
  const at = '2026-05-01T10:00:00.000Z';
  it('reads the birthday and account-creation spellings from traits, then context.traits, with the zone', () => {
    expect(
      datesOf({
        timestamp: at,
        traits: { date_of_birth: 'enc:v1:token', firstName: 'Ada' },
        context: {
          timezone: 'Europe/Paris',
          traits: { birthday: 'ignored: traits came first', memberSince: '2020-02-29' },
        },
      }),
    ).toEqual([
      { trait: 'birthday', value: 'enc:v1:token', at, zone: 'Europe/Paris' },
      { trait: 'createdAt', value: '2020-02-29', at, zone: 'Europe/Paris' },
    ]);
  });

  it('ignores what is no date text, an invalid zone and a bad timestamp', () => {
    expect(
      datesOf({
        timestamp: at,
        traits: { birthday: 19900307, createdAt: '' },
        context: { timezone: 'Mars/Base' },
      }),
    ).toEqual([]);
    expect(
      datesOf({ timestamp: at, traits: { birthday: '03-07' }, context: { timezone: 'Mars/Base' } }),
    ).toEqual([{ trait: 'birthday', value: '03-07', at }]);
    expect(datesOf({ timestamp: 'yesterday', traits: { birthday: '03-07' } })).toEqual([]);
    expect(datesOf({ timestamp: at, traits: ['birthday'] })).toEqual([]);
  });
});
