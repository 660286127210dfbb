// Data-quality rules with the default thresholds: well-formed events that cannot be true are held back
// with the field path and a reason; clean events pass without a single issue.
import { describe, expect, it } from 'vitest';
import { checkQuality } from '../../lib/ingest/quality.js';
import { defaultQuality, normalizedEvent, pathsAndCodes, RECEIVED_AT } from './factories.js';

const q = defaultQuality();
const issuesOf = (overrides: Parameters<typeof normalizedEvent>[0]) =>
  pathsAndCodes(checkQuality(normalizedEvent(overrides), q));
const withProps = (properties: Record<string, unknown>) => issuesOf({ properties });

/** The documented defaults of PRECIS_JUNK_IDS (docs and lib/config.ts). */
const DEFAULT_JUNK_IDS = [
  'null',
  'undefined',
  'nil',
  'none',
  'nan',
  '0',
  '-1',
  '[object object]',
  'anonymous',
  'unknown',
  'n/a',
  'na',
  '(null)',
  'false',
  'true',
];
const AMOUNT_KEYS = ['revenue', 'total', 'subtotal', 'value', 'price', 'tax', 'shipping', 'discount'];
const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

describe('clean events', () => {
  it('produce no issues', () => {
    const properties = {
      order_id: 'o-1',
      revenue: 59.9,
      total: 64.9,
      shipping: 5,
      tax: 0,
      discount: 0,
      currency: 'EUR',
      products: [
        { product_id: 'p1', price: 19.95, quantity: 2 },
        { product_id: 'p2', price: 20, quantity: 1 },
      ],
    };
    expect(issuesOf({ properties, anonymousId: 'a-1' })).toEqual([]);
    expect(issuesOf({ type: 'group', event: undefined, properties: undefined, groupId: 'g-1' })).toEqual([]);
    expect(issuesOf({ type: 'alias', event: undefined, properties: undefined, previousId: 'a-1' })).toEqual(
      [],
    );
  });

  it('produce no issues for amounts and quantities exactly at the limits, or absent and null', () => {
    expect(withProps({ revenue: q.maxAmount, price: 0, quantity: q.maxQuantity })).toEqual([]);
    expect(withProps({ revenue: null, quantity: null, currency: undefined })).toEqual([]);
  });

  it('let ids that merely contain a placeholder through', () => {
    expect(issuesOf({ userId: 'nullable' })).toEqual([]);
    expect(issuesOf({ userId: '10' })).toEqual([]);
    expect(issuesOf({ userId: 'anonymous-42' })).toEqual([]);
  });
});

describe('junk ids', () => {
  it('has the documented default placeholders', () => {
    expect([...q.junkIds].sort()).toEqual([...DEFAULT_JUNK_IDS].sort());
  });

  it.each(DEFAULT_JUNK_IDS)('rejects %s as userId in any letter case', (junk) => {
    for (const id of [junk, junk.toUpperCase(), upperFirst(junk)]) {
      expect(issuesOf({ userId: id })).toEqual([['userId', 'junk_id']]);
    }
  });

  it('checks every id field', () => {
    expect(issuesOf({ userId: 'u-1', anonymousId: 'NULL' })).toEqual([['anonymousId', 'junk_id']]);
    expect(issuesOf({ type: 'group', groupId: 'Unknown' })).toEqual([['groupId', 'junk_id']]);
    expect(issuesOf({ type: 'alias', previousId: 'undefined' })).toEqual([['previousId', 'junk_id']]);
    expect(issuesOf({ userId: '0', anonymousId: '[object Object]' })).toEqual([
      ['userId', 'junk_id'],
      ['anonymousId', 'junk_id'],
    ]);
  });

  it('rejects ids made only of control characters, invisible or blank characters, in every id field', () => {
    // Such an id would become a customer nobody can name: NUL from C strings, zero-width joiners.
    for (const blank of ['\u0000', '\u0000\u0000', '\u0007 \u001f', '\u200b', '\ufeff\u00a0', '\u2028']) {
      expect(issuesOf({ userId: blank }), JSON.stringify(blank)).toEqual([['userId', 'blank_id']]);
    }
    expect(issuesOf({ userId: 'u-1', anonymousId: '\u0000' })).toEqual([['anonymousId', 'blank_id']]);
    expect(issuesOf({ type: 'group', groupId: '\u0000' })).toEqual([['groupId', 'blank_id']]);
    expect(issuesOf({ type: 'alias', previousId: '\u200d' })).toEqual([['previousId', 'blank_id']]);
    const [issue] = checkQuality(normalizedEvent({ userId: '\u0000' }), q);
    expect(issue?.message).toBe('is made only of control, invisible or blank characters');
  });

  it('lets ids through that merely contain such characters', () => {
    expect(issuesOf({ userId: 'u-1\u0000' })).toEqual([]);
    expect(issuesOf({ userId: '\u200bjane' })).toEqual([]);
  });

  it('quotes the id in the message', () => {
    const [issue] = checkQuality(normalizedEvent({ userId: 'N/A' }), q);
    expect(issue?.message).toContain('"N/A"');
  });
});

describe('timestamps', () => {
  const at = (ms: number) => issuesOf({ timestamp: new Date(ms).toISOString() });
  const DAY = 24 * 3_600_000;

  it('accepts an event exactly 24 h after it was received and rejects one a millisecond later', () => {
    expect(at(RECEIVED_AT + DAY)).toEqual([]);
    expect(at(RECEIVED_AT + DAY + 1)).toEqual([['timestamp', 'timestamp_in_future']]);
    expect(at(RECEIVED_AT + 30 * DAY)).toEqual([['timestamp', 'timestamp_in_future']]);
  });

  it('accepts the minimum timestamp itself (1971-01-01 by default) and rejects anything before it', () => {
    const min = Date.parse('1971-01-01T00:00:00Z');
    expect(q.minTimestampMs).toBe(min);
    expect(at(min)).toEqual([]);
    expect(at(min - 1)).toEqual([['timestamp', 'timestamp_too_old']]);
  });

  it('admits real order histories of the 1990s and still catches clocks at the Unix epoch or year 1', () => {
    for (const real of ['1990-03-14T10:00:00Z', '1995-08-24T00:00:00Z', '1999-12-31T23:59:59Z']) {
      expect(at(Date.parse(real)), real).toEqual([]);
    }
    // A device whose clock was reset reads the epoch plus its uptime; a zero date reads year 1.
    for (const junk of ['1970-01-01T00:00:00Z', '1970-01-03T07:12:00Z', '0001-01-01T00:00:00Z']) {
      expect(at(Date.parse(junk)), junk).toEqual([['timestamp', 'timestamp_too_old']]);
    }
  });
});

describe('amounts', () => {
  it.each(AMOUNT_KEYS)('rejects a negative, absurd or non-numeric %s at top level', (key) => {
    expect(withProps({ [key]: -0.01 })).toEqual([[`properties.${key}`, 'negative_amount']]);
    expect(withProps({ [key]: q.maxAmount + 1 })).toEqual([[`properties.${key}`, 'absurd_amount']]);
    expect(withProps({ [key]: '12.50' })).toEqual([[`properties.${key}`, 'not_a_number']]);
    expect(withProps({ [key]: true })).toEqual([[`properties.${key}`, 'not_a_number']]);
  });

  it('rejects bad amounts inside products[i] with the index in the path', () => {
    const products = [{ price: 10 }, { price: -1 }, { price: 5, tax: 2e9 }, 'not-a-product'];
    expect(withProps({ products })).toEqual([
      ['properties.products[1].price', 'negative_amount'],
      ['properties.products[2].tax', 'absurd_amount'],
    ]);
  });

  it('names the value and the limit in the message', () => {
    const [issue] = checkQuality(normalizedEvent({ properties: { revenue: 2_000_000 } }), q);
    expect(issue?.message).toContain('2000000');
    expect(issue?.message).toContain(String(q.maxAmount));
  });
});

describe('quantities', () => {
  it('rejects zero, negative, absurd and non-numeric quantities', () => {
    expect(withProps({ quantity: 0 })).toEqual([['properties.quantity', 'non_positive_quantity']]);
    expect(withProps({ quantity: -2 })).toEqual([['properties.quantity', 'non_positive_quantity']]);
    expect(withProps({ quantity: q.maxQuantity + 1 })).toEqual([['properties.quantity', 'absurd_quantity']]);
    expect(withProps({ quantity: 'two' })).toEqual([['properties.quantity', 'not_a_number']]);
  });

  it('checks quantities inside products', () => {
    expect(withProps({ products: [{ quantity: 1 }, { quantity: 0 }] })).toEqual([
      ['properties.products[1].quantity', 'non_positive_quantity'],
    ]);
  });
});

describe('currency', () => {
  it('rejects anything but three upper-case letters, at top level and in products', () => {
    for (const currency of ['eur', 'EURO', 'E1R', '€', '']) {
      expect(withProps({ currency })).toEqual([['properties.currency', 'invalid_currency']]);
    }
    expect(withProps({ products: [{ currency: 'usd' }] })).toEqual([
      ['properties.products[0].currency', 'invalid_currency'],
    ]);
  });
});
