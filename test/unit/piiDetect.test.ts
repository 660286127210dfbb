// E-mail and phone VALUES in free text (lib/pii/detect.ts): found in any common format wherever they sit
// in a string or a URL's query (percent-encoded included), replaced by their masks; and what only looks
// numeric — order ids, amounts, dates, times, IPs, UUIDs, card numbers — is left alone.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findPii, redactText, wholePii } from '../../lib/pii/detect.js';

const EMAILS = [
  'jane.doe+tag@sub.example.co.uk',
  'jane.doe@example.com',
  'JANE_DOE@Example.ORG',
  "o'brien@example.ie",
  'x@y.io',
  'zoé.müller@exemple.fr',
];
const PHONES = [
  '+33 6 12 34 56 78',
  '(415) 555-0100',
  '+86 138 0013 8000',
  '+33612345678',
  '+1 (415) 555-0100',
  '+44 20 7946 0958',
  '+44 (0)20 7946 0958',
  '415-555-0100',
  '415.555.0100',
  '06 12 34 56 78',
  '06-12-34-56-78',
  '020 7946 0958',
  '1 800 555 0100',
  '+49 151 23456789',
  '+91-98765-43210',
  '+7 912 345-67-89',
];
const NOT_PII = [
  'o-1',
  'ORD-2024-000123',
  'ORD-2024-0001-2345',
  'INV 2024/00017',
  '12345678',
  '123456789012',
  '1234567.89',
  '1234.5678',
  '1,234,567.89',
  '12 345 678,90',
  '12.345.678',
  '39.00',
  '2024-01-15',
  '2024-01-15T10:30:00Z',
  '2024-01-15 10:30:00',
  '15.01.2024',
  '15-01-2024',
  '10:30:45',
  '192.168.100.200',
  '10.100.200.150',
  '2001:db8::1',
  '123e4567-e89b-12d3-a456-426614174000',
  '12345678-1234-1234-1234-123456789012',
  '4111 1111 1111 1111',
  'Mozilla/5.0 (Linux; Android 10; SM-G973F) AppleWebKit/537.36 Chrome/83.0.4103.106 Mobile Safari/537.36',
  'https://shop.example.com/p/12345678?ref=2024-01-15&qty=3',
  'v1.2.3.4',
  '1 2 3 4 5 6 7 8',
  '@handle',
  'user@localhost',
];

/** E-mail addresses of common shapes (fast-check's own generator follows RFC 1123/5322). */
const email = fc
  .emailAddress({ size: 'small' })
  .filter((e) => /^[a-z0-9._%+'-]+@/i.test(e) && /\.[a-z]{2,}$/i.test(e));
/** International numbers: a + and 8–15 digits, grouped as people write them. */
const intlPhone = fc
  .tuple(
    fc.integer({ min: 1, max: 999 }),
    fc.array(fc.integer({ min: 10, max: 9999 }), { minLength: 2, maxLength: 4 }),
    fc.constantFrom(' ', '-', '.', ''),
  )
  .map(([cc, groups, sep]) => `+${cc}${sep === '' ? '' : ' '}${groups.join(sep)}`)
  .filter((p) => {
    const digits = p.replace(/\D/g, '').length;
    return digits >= 8 && digits <= 15;
  });
/** National numbers written with a trunk 0 and groups: 06 12 34 56 78, 020 7946 0958. */
const nationalPhone = fc
  .tuple(
    fc.integer({ min: 1, max: 99 }),
    fc.array(fc.integer({ min: 10, max: 99 }), { minLength: 3, maxLength: 5 }),
    fc.constantFrom(' ', '-', '.'),
  )
  .map(([area, groups, sep]) => `0${area}${sep}${groups.join(sep)}`)
  .filter((p) => p.replace(/\D/g, '').length >= 8);
const usPhone = fc
  .tuple(
    fc.integer({ min: 200, max: 999 }),
    fc.integer({ min: 200, max: 999 }),
    fc.integer({ min: 0, max: 9999 }),
  )
  .map(([a, b, c]) => `(${a}) ${b}-${String(c).padStart(4, '0')}`);
/** Text around a value: words, punctuation, nothing. */
const around = fc.constantFrom(
  ['', ''],
  ['Call me at ', '.'],
  ['contact: ', ', thanks'],
  ['(', ')'],
  ['"', '"'],
  ['<', '>'],
);

describe('findPii', () => {
  it('finds the formats the issue names, and other common ones, whole', () => {
    for (const e of EMAILS)
      expect(
        findPii(`write to ${e}, please`).map((m) => m.text),
        e,
      ).toEqual([e]);
    for (const p of PHONES)
      expect(
        findPii(`tel: ${p}.`).map((m) => [m.kind, m.text]),
        p,
      ).toEqual([['phone', p]]);
    for (const e of EMAILS) expect(wholePii(` ${e} `), e).toBe('email');
    for (const p of PHONES) expect(wholePii(p), p).toBe('phone');
  });

  it('finds every generated e-mail and phone number wherever it sits in text', () => {
    fc.assert(
      fc.property(fc.oneof(email, intlPhone, nationalPhone, usPhone), around, (value, [before, after]) => {
        const found = findPii(`${before}${value}${after}`);
        expect(found.map((m) => m.text)).toEqual([value]);
        expect(redactText(`${before}${value}${after}`)).not.toContain(value);
      }),
      { numRuns: 3000 },
    );
  });

  it('does not take order ids, amounts, dates, IPs, UUIDs or card numbers for phone numbers', () => {
    for (const text of NOT_PII) expect(findPii(text), text).toEqual([]);
    for (const text of NOT_PII) expect(redactText(text), text).toBe(text);
  });

  it('does not flag generated numbers, amounts, dates and ids', () => {
    const notPii = fc.oneof(
      fc.integer().map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.double({ min: 0, max: 1e9, noNaN: true }).map((n) => n.toFixed(2)),
      fc.uuid(),
      fc
        .date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      fc
        .date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10)),
      fc.integer({ min: 0, max: 99_999_999 }).map((n) => `ORD-${n}`),
      fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.')),
    );
    fc.assert(
      fc.property(notPii, (text) => {
        expect(findPii(text)).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });

  it('needs the whole value to call it e-mail or phone', () => {
    expect(wholePii('call +33 6 12 34 56 78')).toBeUndefined();
    expect(wholePii('jane@example.com and more')).toBeUndefined();
    expect(wholePii('12345678')).toBeUndefined();
    expect(wholePii('plain text')).toBeUndefined();
  });
});

describe('redactText', () => {
  it('replaces each value by its mask and keeps the rest', () => {
    expect(redactText('Hi, I am jane.doe@example.com, call +33 6 12 34 56 78 after 6pm')).toBe(
      'Hi, I am j***@example.com, call +*********78 after 6pm',
    );
  });

  it('redacts values in URL query strings, percent-encoded or not, by value and by parameter name', () => {
    const url =
      'https://shop.example.com/signup?email=jane.doe%2Btag%40sub.example.co.uk&utm_source=news&Phone_Number=0612345678&to=x@y.io#top';
    const out = redactText(url);
    for (const clear of ['jane.doe', 'jane.doe%2Btag', '0612345678', 'x@y.io'])
      expect(out).not.toContain(clear);
    expect(out).toContain('https://shop.example.com/signup?');
    expect(out).toContain('utm_source=news');
    expect(out).toContain('#top');
    expect(decodeURIComponent(out)).toContain('j***@sub.example.co.uk');
    expect(redactText('?tel=%2B33%206%2012%2034%2056%2078&q=shoes')).not.toMatch(/12%2034/);
    expect(redactText('/users/jane%40example.com/orders')).not.toContain('jane');
  });

  it('is idempotent: a redacted text has nothing left to find', () => {
    fc.assert(
      fc.property(fc.oneof(email, intlPhone, usPhone), around, (value, [before, after]) => {
        const once = redactText(`${before}${value}${after}`);
        expect(findPii(once)).toEqual([]);
        expect(redactText(once)).toBe(once);
      }),
    );
  });
});
