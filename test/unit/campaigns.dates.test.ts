// Date triggers: yearly dates at a local time in the customer's zone (east and west of UTC, across DST
// changes), Feb 29 in leap and common years, hourly windows that send once per customer per year.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueDateTriggers, nextOccurrence, occurrenceDate, parseMonthDay } from '../../lib/campaigns/dates.js';
import { localDate, localMinutes } from '../../lib/campaigns/localTime.js';
import { CampaignDefinition } from '../../lib/campaigns/model.js';

const HOUR = 3_600_000;
const at = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();

const birthday = CampaignDefinition.parse({
  id: 'birthday',
  name: 'Birthday',
  enabled: true,
  channels: ['email'],
  trigger: { type: 'date', trait: 'birthday', at: '09:00' },
  variants: [{ id: 'a', content: { email: { subject: 's', html: 'h', text: 't' } } }],
});

/** Every hourly window of a span: what the hourly job would see. */
function hourly(customers: Parameters<typeof dueDateTriggers>[1], from: string, hours: number, zone = 'UTC') {
  const found = [];
  for (let h = 0; h < hours; h++) {
    const start = at(from) + h * HOUR;
    found.push(...dueDateTriggers(birthday, customers, start, start + HOUR, zone));
  }
  return found;
}

describe('parseMonthDay', () => {
  it.each([
    ['1990-05-17', { year: 1990, month: 5, day: 17 }],
    ['1990-05-17T00:00:00.000Z', { year: 1990, month: 5, day: 17 }],
    ['05-17', { month: 5, day: 17 }],
    ['--02-29', { month: 2, day: 29 }],
    ['2000-02-29', { year: 2000, month: 2, day: 29 }],
  ])('reads %s', (value, expected) => {
    expect(parseMonthDay(value)).toEqual(expected);
  });

  it.each([
    '1990-02-29',
    '1990-02-30',
    '13-01',
    '1990-00-10',
    'May 17',
    '',
    19900517,
    null,
    'enc:v1:0123456789abcdef:AAAA',
  ])('refuses %j', (value) => {
    expect(parseMonthDay(value)).toBeUndefined();
  });
});

describe('occurrences', () => {
  it('Feb 29 is Feb 28 in a common year and Feb 29 in a leap year (2100 is common, 2000 leap)', () => {
    const leapling = { month: 2, day: 29 };
    expect([2027, 2028, 2100, 2000].map((y) => occurrenceDate(leapling, y))).toEqual([
      '2027-02-28',
      '2028-02-29',
      '2100-02-28',
      '2000-02-29',
    ]);
  });

  it('the next occurrence at 09:00 local, east and west of UTC', () => {
    const md = { month: 12, day: 25 };
    const after = at('2026-12-06T00:00:00Z');
    expect(iso(nextOccurrence(md, '09:00', 'Asia/Shanghai', after))).toBe('2026-12-25T01:00:00.000Z');
    expect(iso(nextOccurrence(md, '09:00', 'America/Los_Angeles', after))).toBe('2026-12-25T17:00:00.000Z');
    // Once passed, the next year's.
    expect(iso(nextOccurrence(md, '09:00', 'Asia/Shanghai', at('2026-12-25T01:00:00Z')))).toBe(
      '2027-12-25T01:00:00.000Z',
    );
  });

  it('follows daylight saving time: 09:00 on the day of the change and either side', () => {
    // Europe/Paris springs forward on 2026-03-29 (UTC+1 -> UTC+2); New York on 2026-03-08 (UTC-5 -> UTC-4).
    const after = at('2026-01-01T00:00:00Z');
    expect(iso(nextOccurrence({ month: 3, day: 28 }, '09:00', 'Europe/Paris', after))).toBe(
      '2026-03-28T08:00:00.000Z',
    );
    expect(iso(nextOccurrence({ month: 3, day: 29 }, '09:00', 'Europe/Paris', after))).toBe(
      '2026-03-29T07:00:00.000Z',
    );
    expect(iso(nextOccurrence({ month: 3, day: 8 }, '09:00', 'America/New_York', after))).toBe(
      '2026-03-08T13:00:00.000Z',
    );
    expect(iso(nextOccurrence({ month: 3, day: 7 }, '09:00', 'America/New_York', after))).toBe(
      '2026-03-07T14:00:00.000Z',
    );
  });
});

describe('dueDateTriggers', () => {
  it('finds each birthday once in the hour its local 09:00 falls in, in every zone', () => {
    const customers = [
      { customerId: 'shanghai', timezone: 'Asia/Shanghai', dates: { birthday: '1990-12-07' } },
      { customerId: 'la', timezone: 'America/Los_Angeles', dates: { birthday: '12-07' } },
      { customerId: 'kiritimati', timezone: 'Pacific/Kiritimati', dates: { birthday: '--12-07' } },
      { customerId: 'default-zone', dates: { birthday: '1985-12-07' } },
      { customerId: 'bad-zone', timezone: 'Mars/Olympus', dates: { birthday: '1985-12-07' } },
      { customerId: 'not-today', timezone: 'UTC', dates: { birthday: '1985-12-08' } },
      { customerId: 'no-birthday', timezone: 'UTC', dates: { createdAt: '2020-12-07' } },
    ];
    // Hourly windows from Dec 5 12:00 to Dec 8 00:00 UTC: every zone's Dec 7, no one's Dec 8 09:00.
    const found = hourly(customers, '2026-12-05T12:00:00Z', 60, 'Europe/Paris');
    expect(found.map((c) => [c.customerId, c.triggeredAt, c.triggerKey])).toEqual([
      ['kiritimati', '2026-12-06T19:00:00.000Z', 'birthday:2026'],
      ['shanghai', '2026-12-07T01:00:00.000Z', 'birthday:2026'],
      ['default-zone', '2026-12-07T08:00:00.000Z', 'birthday:2026'],
      ['bad-zone', '2026-12-07T08:00:00.000Z', 'birthday:2026'],
      ['la', '2026-12-07T17:00:00.000Z', 'birthday:2026'],
    ]);
  });

  it('a re-run of the same window, or an overlapping one, finds the same key (one send a year)', () => {
    const customers = [{ customerId: 'c', timezone: 'Europe/Paris', dates: { birthday: '1990-06-15' } }];
    const first = dueDateTriggers(
      birthday,
      customers,
      at('2026-06-15T07:00:00Z'),
      at('2026-06-15T08:00:00Z'),
      'UTC',
    );
    const rerun = dueDateTriggers(
      birthday,
      customers,
      at('2026-06-15T06:30:00Z'),
      at('2026-06-15T07:30:00Z'),
      'UTC',
    );
    expect(first).toHaveLength(1);
    expect(rerun).toEqual(first);
    const nextYear = dueDateTriggers(
      birthday,
      customers,
      at('2027-06-15T07:00:00Z'),
      at('2027-06-15T08:00:00Z'),
      'UTC',
    );
    expect(nextYear.map((c) => c.triggerKey)).toEqual(['birthday:2027']);
  });

  it('Feb 29 birthdays: Feb 28 in a common year, Feb 29 in a leap year, once each', () => {
    const customers = [
      { customerId: 'leapling', timezone: 'America/New_York', dates: { birthday: '2000-02-29' } },
    ];
    const common = hourly(customers, '2027-02-27T00:00:00Z', 72);
    const leap = hourly(customers, '2028-02-27T00:00:00Z', 96);
    expect(common.map((c) => [c.triggeredAt, c.triggerKey, c.context.date])).toEqual([
      ['2027-02-28T14:00:00.000Z', 'birthday:2027', '2027-02-28'],
    ]);
    expect(leap.map((c) => [c.triggeredAt, c.triggerKey, c.context.date])).toEqual([
      ['2028-02-29T14:00:00.000Z', 'birthday:2028', '2028-02-29'],
    ]);
  });

  it('a DST day: 09:00 local is found in the right hour on the day clocks change', () => {
    const customers = [
      { customerId: 'paris', timezone: 'Europe/Paris', dates: { birthday: '1990-03-29' } },
      { customerId: 'sydney', timezone: 'Australia/Sydney', dates: { birthday: '1990-04-05' } },
    ];
    // Paris: UTC+2 from 2026-03-29 01:00 UTC. Sydney: back to UTC+10 on 2026-04-05 at 03:00 local.
    expect(hourly(customers, '2026-03-28T00:00:00Z', 48).map((c) => c.triggeredAt)).toEqual([
      '2026-03-29T07:00:00.000Z',
    ]);
    expect(hourly(customers, '2026-04-04T00:00:00Z', 48).map((c) => c.triggeredAt)).toEqual([
      '2026-04-04T23:00:00.000Z',
    ]);
  });

  it('no anniversary in the date’s own year', () => {
    const anniversary = {
      ...birthday,
      trigger: { type: 'date' as const, trait: 'createdAt' as const, at: '10:00' },
    };
    const customers = [{ customerId: 'joined', timezone: 'UTC', dates: { createdAt: '2026-12-07' } }];
    const window = [at('2026-12-07T10:00:00Z'), at('2026-12-07T11:00:00Z')] as const;
    expect(dueDateTriggers(anniversary, customers, ...window, 'UTC')).toEqual([]);
    const nextYear = [at('2027-12-07T10:00:00Z'), at('2027-12-07T11:00:00Z')] as const;
    expect(dueDateTriggers(anniversary, customers, ...nextYear, 'UTC').map((c) => c.triggerKey)).toEqual([
      'createdAt:2027',
    ]);
  });
});

describe('dueDateTriggers over a whole year (property)', () => {
  const ZONES = [
    'UTC',
    'Europe/Paris',
    'America/New_York',
    'America/St_Johns',
    'Asia/Kolkata',
    'Australia/Lord_Howe',
    'Pacific/Chatham',
    'Pacific/Kiritimati',
    'Pacific/Pago_Pago',
    'America/Santiago',
  ];
  const customer = fc.record({
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 31 }),
    zone: fc.constantFrom(...ZONES),
    at: fc.constantFrom('00:30', '02:30', '09:00', '23:45'),
  });

  it('every customer is found exactly once a year, at its local time on its date (or Feb 28)', () => {
    fc.assert(
      fc.property(
        fc.array(customer, { minLength: 1, maxLength: 8 }),
        fc.constantFrom(2027, 2028),
        (drawn, year) => {
          const valid = drawn.filter((c) => c.day <= new Date(Date.UTC(2028, c.month, 0)).getUTCDate());
          const customers = valid.map((c, i) => ({
            customerId: `c${i}`,
            timezone: c.zone,
            dates: { birthday: `${String(c.month).padStart(2, '0')}-${String(c.day).padStart(2, '0')}` },
          }));
          // Windows of a day from a day before the local year to a day after it: every zone's whole year.
          const found = [];
          for (let t = Date.UTC(year, 0, 0); t < Date.UTC(year + 1, 0, 2); t += 24 * HOUR)
            for (const [i, c] of valid.entries()) {
              const campaign = {
                id: 'birthday',
                trigger: { type: 'date' as const, trait: 'birthday' as const, at: c.at },
              };
              found.push(
                ...dueDateTriggers(
                  campaign,
                  [customers[i] as (typeof customers)[number]],
                  t,
                  t + 24 * HOUR,
                  'UTC',
                ),
              );
            }
          const ofYear = found.filter((c) => c.triggerKey === `birthday:${year}`);
          expect(ofYear.map((c) => c.customerId).sort()).toEqual(customers.map((c) => c.customerId).sort());
          for (const c of ofYear) {
            const drawnOne = valid[Number(c.customerId.slice(1))];
            if (drawnOne === undefined) throw new Error('unknown customer');
            const when = Date.parse(c.triggeredAt);
            const leapDay = drawnOne.month === 2 && drawnOne.day === 29 && year % 4 !== 0;
            const date = `${year}-${String(drawnOne.month).padStart(2, '0')}-${leapDay ? '28' : String(drawnOne.day).padStart(2, '0')}`;
            expect(localDate(when, drawnOne.zone)).toBe(date);
            // 02:30 may fall in a spring-forward gap: it is then read as the first instant after the gap.
            const minutes = localMinutes(when, drawnOne.zone);
            const wanted = Number(drawnOne.at.slice(0, 2)) * 60 + Number(drawnOne.at.slice(3));
            expect(minutes >= wanted && minutes <= wanted + 60).toBe(true);
          }
        },
      ),
      { numRuns: 20 },
    );
  });
});
