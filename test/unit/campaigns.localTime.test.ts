// Local calendar arithmetic of the send decision in zones with and without DST (New York: 1 h at 02:00;
// Lord Howe: 30 min; Santiago: midnight skipped; Shanghai: none). Intl's own formatToParts is the
// reference the cached offsets are checked against.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  inQuietHours,
  instantAt,
  localDate,
  localHour,
  localMinutes,
  nextLocalMidnight,
  offsetAt,
  quietHoursEnd,
  zoneOr,
} from '../../lib/campaigns/localTime.js';

const at = (iso: string) => Date.parse(iso);
const ZONES = [
  'America/New_York',
  'Australia/Lord_Howe',
  'America/Santiago',
  'Asia/Shanghai',
  'Europe/London',
];

const formats = new Map(
  ZONES.map((zone) => [
    zone,
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }),
  ]),
);

/** Wall time of `ms` in `zone` straight from Intl (no offset cache): YYYY-MM-DD HH:MM. */
function reference(ms: number, zone: string): string {
  const parts = formats.get(zone)?.formatToParts(ms) ?? [];
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '?';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

const wall = (ms: number, zone: string) => {
  const m = localMinutes(ms, zone);
  return `${localDate(ms, zone)} ${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
};

describe('local wall time', () => {
  it('agrees with Intl at random instants, transition days included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2040-01-01T00:00:00Z') }),
        fc.constantFrom(...ZONES),
        (ms, zone) => {
          expect(wall(ms, zone)).toBe(reference(ms, zone));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('agrees with Intl minute by minute around transitions', () => {
    const days = [
      ['America/New_York', '2026-03-08T04:00:00Z'],
      ['America/New_York', '2026-11-01T04:00:00Z'],
      ['Australia/Lord_Howe', '2026-10-03T13:00:00Z'],
      ['Australia/Lord_Howe', '2026-04-04T13:00:00Z'],
      ['America/Santiago', '2026-09-06T02:00:00Z'],
    ] as const;
    for (const [zone, from] of days) {
      for (let ms = at(from); ms < at(from) + 6 * 3_600_000; ms += 60_000) {
        expect(wall(ms, zone), `${zone} ${new Date(ms).toISOString()}`).toBe(reference(ms, zone));
      }
    }
  });

  it('counts calendar days in the zone: 23:30 and 00:30 local are different days', () => {
    // Shanghai is UTC+8: 23:30 local on June 15 is 15:30Z, 00:30 on June 16 is 16:30Z.
    expect(localDate(at('2026-06-15T15:30:00Z'), 'Asia/Shanghai')).toBe('2026-06-15');
    expect(localDate(at('2026-06-15T16:30:00Z'), 'Asia/Shanghai')).toBe('2026-06-16');
    expect(localHour(at('2026-06-15T16:30:00Z'), 'Asia/Shanghai')).toBe(0);
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-01-01', -6)).toBe('2025-12-26');
  });

  it('falls back to the default zone for a missing or invalid zone, and to UTC past that', () => {
    expect(zoneOr(undefined, 'Asia/Shanghai')).toBe('Asia/Shanghai');
    expect(zoneOr('Mars/Olympus', 'America/New_York')).toBe('America/New_York');
    expect(zoneOr('asia/shanghai', 'UTC')).toBe('Asia/Shanghai');
    expect(zoneOr('nope', 'nope either')).toBe('UTC');
    expect(offsetAt(at('2026-06-15T00:00:00Z'), 'UTC')).toBe(0);
  });
});

describe('instantAt', () => {
  it('round-trips every wall time that exists once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at('2000-01-01T00:00:00Z') / 60_000, max: at('2040-01-01T00:00:00Z') / 60_000 }),
        fc.constantFrom(...ZONES),
        (minute, zone) => {
          const ms = minute * 60_000;
          const back = instantAt(localDate(ms, zone), localMinutes(ms, zone), zone);
          // The same wall time; earlier only for the second occurrence in a fall-back overlap.
          expect(wall(back, zone)).toBe(wall(ms, zone));
          expect(back).toBeLessThanOrEqual(ms);
          expect(ms - back).toBeLessThanOrEqual(3_600_000);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('maps a wall time in a spring-forward gap to the first valid instant after it', () => {
    // New York 2026-03-08: 02:00 EST -> 03:00 EDT at 07:00Z; 02:30 never happens.
    expect(instantAt('2026-03-08', 150, 'America/New_York')).toBe(at('2026-03-08T07:00:00Z'));
    // Lord Howe 2026-10-04: 02:00 +10:30 -> 02:30 +11 at 15:30Z (Oct 3).
    expect(instantAt('2026-10-04', 135, 'Australia/Lord_Howe')).toBe(at('2026-10-03T15:30:00Z'));
    // Santiago 2026-09-06: midnight is skipped (00:00 -04 -> 01:00 -03): the day starts at 01:00.
    const start = instantAt('2026-09-06', 0, 'America/Santiago');
    expect(wall(start, 'America/Santiago')).toBe('2026-09-06 01:00');
    expect(nextLocalMidnight(at('2026-09-05T20:00:00Z'), 'America/Santiago')).toBe(start);
  });

  it('maps a wall time in a fall-back overlap to its first occurrence (or, asked, the second)', () => {
    // New York 2026-11-01: 01:30 EDT (05:30Z) and 01:30 EST (06:30Z).
    expect(instantAt('2026-11-01', 90, 'America/New_York')).toBe(at('2026-11-01T05:30:00Z'));
    expect(instantAt('2026-11-01', 90, 'America/New_York', true)).toBe(at('2026-11-01T06:30:00Z'));
    // Lord Howe 2026-04-05: 01:45 at +11 (14:45Z) and at +10:30 (15:15Z).
    expect(instantAt('2026-04-05', 105, 'Australia/Lord_Howe')).toBe(at('2026-04-04T14:45:00Z'));
    expect(instantAt('2026-04-05', 105, 'Australia/Lord_Howe', true)).toBe(at('2026-04-04T15:15:00Z'));
  });
});

describe('quiet hours', () => {
  const night = { start: '21:00', end: '08:00' };

  it('cross midnight: inside from start to end, in local time', () => {
    const zone = 'Asia/Shanghai';
    expect(inQuietHours(at('2026-06-15T12:59:00Z'), night, zone)).toBe(false); // 20:59
    expect(inQuietHours(at('2026-06-15T13:00:00Z'), night, zone)).toBe(true); // 21:00
    expect(inQuietHours(at('2026-06-15T19:00:00Z'), night, zone)).toBe(true); // 03:00
    expect(inQuietHours(at('2026-06-15T23:59:00Z'), night, zone)).toBe(true); // 07:59
    expect(inQuietHours(at('2026-06-16T00:00:00Z'), night, zone)).toBe(false); // 08:00
    expect(inQuietHours(at('2026-06-15T19:00:00Z'), { start: '09:00', end: '09:00' }, zone)).toBe(false);
  });

  it('end at their end: tomorrow after the start, today after midnight; outside, now', () => {
    const zone = 'Asia/Shanghai';
    expect(quietHoursEnd(at('2026-06-15T14:00:00Z'), night, zone)).toBe(at('2026-06-16T00:00:00Z'));
    expect(quietHoursEnd(at('2026-06-15T19:00:00Z'), night, zone)).toBe(at('2026-06-16T00:00:00Z'));
    expect(quietHoursEnd(at('2026-06-16T04:00:00Z'), night, zone)).toBe(at('2026-06-16T04:00:00Z'));
    const day = { start: '12:00', end: '14:00' };
    expect(quietHoursEnd(at('2026-06-16T04:30:00Z'), day, zone)).toBe(at('2026-06-16T06:00:00Z'));
  });

  it('on DST days end at the first valid instant (gap) or the next occurrence (overlap)', () => {
    const ny = 'America/New_York';
    // Quiet 22:00-02:30 on spring-forward night: 02:30 does not exist, they end at 03:00 EDT.
    const spring = { start: '22:00', end: '02:30' };
    expect(quietHoursEnd(at('2026-03-08T04:00:00Z'), spring, ny)).toBe(at('2026-03-08T07:00:00Z'));
    // Quiet 22:00-01:30 on fall-back night, asked in the repeated hour (01:15 EST): 01:30 EST.
    const autumn = { start: '22:00', end: '01:30' };
    expect(quietHoursEnd(at('2026-11-01T06:15:00Z'), autumn, ny)).toBe(at('2026-11-01T06:30:00Z'));
    expect(quietHoursEnd(at('2026-11-01T05:15:00Z'), autumn, ny)).toBe(at('2026-11-01T05:30:00Z'));
    // Lord Howe, quiet 21:00-02:15 on its spring-forward night: 02:15 does not exist, 02:30 +11.
    const lh = { start: '21:00', end: '02:15' };
    expect(quietHoursEnd(at('2026-10-03T12:00:00Z'), lh, 'Australia/Lord_Howe')).toBe(
      at('2026-10-03T15:30:00Z'),
    );
  });

  it('never end inside quiet hours, nor before the instant asked', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at('2026-01-01T00:00:00Z'), max: at('2028-01-01T00:00:00Z') }),
        fc.constantFrom(...ZONES),
        fc.integer({ min: 0, max: 95 }),
        fc.integer({ min: 0, max: 95 }),
        (ms, zone, s, e) => {
          const hhmm = (q: number) =>
            `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`;
          const quiet = { start: hhmm(s), end: hhmm(e) };
          const end = quietHoursEnd(ms, quiet, zone);
          expect(end).toBeGreaterThanOrEqual(ms);
          expect(end - ms).toBeLessThanOrEqual(25 * 3_600_000);
          expect(inQuietHours(end, quiet, zone)).toBe(false);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
