// Import rows to Segment events: the column aliases, the traits a customer row becomes, the order events a
// file's rows become wherever an order's lines are, the per-row errors, and messageIds that make a
// re-upload the same events.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  customerEvent,
  type MappingOptions,
  OrderCollector,
  orderMessageId,
  parseDate,
  parseNumber,
} from '../../lib/imports/mapping.js';
import type { SpecEventInput } from '../../lib/ingest/spec.js';
import { defaultQuality } from './factories.js';

const SECRET = 'a-test-secret-of-32-characters!!';
const AS_OF = Date.UTC(2026, 0, 15, 8, 0, 0);

const options = (overrides: Partial<MappingOptions> = {}): MappingOptions => ({
  sourceId: 'crm',
  asOf: AS_OF,
  junk: defaultQuality().junkIds,
  emailKey: (email) =>
    createHmac('sha256', SECRET)
      .update(`import-email:${email}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url'),
  ...overrides,
});

/** The anonymousId an e-mail-only row must get, computed here from its definition. */
const anonOf = (email: string) =>
  `import-${createHmac('sha256', SECRET).update(`import-email:${email}`).digest().subarray(0, 16).toString('base64url')}`;

function customer(values: Record<string, unknown>, row = 1, opts = options()): SpecEventInput {
  const mapped = customerEvent(values, row, opts);
  if (!mapped.ok) throw new Error(`row ${row} did not map: ${JSON.stringify(mapped.errors)}`);
  return mapped.value;
}

function customerErrors(values: Record<string, unknown>, row = 1) {
  const mapped = customerEvent(values, row, options());
  if (mapped.ok) throw new Error(`row ${row} mapped, but errors were expected`);
  return mapped.errors;
}

describe('customer rows', () => {
  it('map the usual CRM columns to Segment traits, the address grouped and the rest custom', () => {
    const event = customer({
      customer_id: ' c-1 ',
      e_mail: 'Jane.Doe@Example.COM',
      phone_number: '+33 6 12 34 56 78',
      firstname: 'Jane',
      surname: 'Doe',
      dob: '1984-03-07',
      address: '1 rue de la Paix',
      zip: '75002',
      city: 'Paris',
      state: 'IDF',
      country: 'FR',
      crm_id: 'SF-0042',
      signup_date: '2021-06-30',
      plan: 'gold',
      lifetime_points: '1200',
      vip: 'TRUE',
      newsletter: 'false',
      member_code: '007',
      score: '4.5',
      notes: '',
    });
    expect(event).toEqual({
      type: 'identify',
      messageId: expect.stringMatching(/^import-customer-[0-9a-f]{40}$/),
      userId: 'c-1',
      timestamp: '2021-06-30T00:00:00.000Z',
      traits: {
        email: 'jane.doe@example.com',
        phone: '+33 6 12 34 56 78',
        firstName: 'Jane',
        lastName: 'Doe',
        birthday: '1984-03-07',
        address: {
          street: '1 rue de la Paix',
          city: 'Paris',
          state: 'IDF',
          postalCode: '75002',
          country: 'FR',
        },
        crm_id: 'SF-0042',
        createdAt: '2021-06-30T00:00:00.000Z',
        plan: 'gold',
        lifetime_points: 1200,
        vip: true,
        newsletter: false,
        member_code: '007',
        score: 4.5,
      },
      context: { library: { name: 'precis-import', version: '1' } },
    });
  });

  it('prefers user_id over customer_id over id, row by row', () => {
    expect(customer({ user_id: 'u1', customer_id: 'c1', id: '9' }).userId).toBe('u1');
    expect(customer({ user_id: '', customer_id: 'c1', id: '9' }).userId).toBe('c1');
    expect(customer({ id: 9 }).userId).toBe('9');
  });

  it('times a row by updated_at, else created_at, else the file as-of time (UTC without an offset)', () => {
    expect(customer({ id: '1', updated_at: '2025-02-03 04:05', created_at: '2020-01-01' }).timestamp).toBe(
      '2025-02-03T04:05:00.000Z',
    );
    expect(customer({ id: '1', created_at: '2020-01-01T10:00:00+02:00' }).timestamp).toBe(
      '2020-01-01T08:00:00.000Z',
    );
    expect(customer({ id: '1', name: 'Jane Doe' }).timestamp).toBe(new Date(AS_OF).toISOString());
  });

  it('identifies an e-mail-only row by a keyed anonymousId of the normalized e-mail', () => {
    const event = customer({ email: ' Bob@Example.org ', name: 'Bob' });
    expect(event.userId).toBeUndefined();
    expect(event.anonymousId).toBe(anonOf('bob@example.org'));
    expect(event.traits).toEqual({ email: 'bob@example.org', name: 'Bob' });
    expect(event.anonymousId).not.toContain('bob');
    // Another secret, another id: the id cannot be recomputed from a list of e-mails alone.
    const other = customer({ email: 'bob@example.org' }, 1, options({ emailKey: (e) => `x${e.length}` }));
    expect(other.anonymousId).not.toBe(event.anonymousId);
  });

  it('reports rows that cannot become an event, with the row and the column', () => {
    expect(customerErrors({ name: 'Nobody', plan: 'gold' }, 7)).toEqual([
      { row: 7, field: 'user_id', code: 'required', reason: expect.stringContaining('is required') },
    ]);
    expect(customerErrors({ e_mail: 'not-an-address' }, 8)).toEqual([
      { row: 8, field: 'e_mail', code: 'invalid_email', reason: expect.stringContaining('not an e-mail') },
    ]);
    expect(customerErrors({ email: 'test@test.com' }, 9)).toEqual([
      { row: 9, field: 'email', code: 'junk_email', reason: expect.stringContaining('placeholder') },
    ]);
    expect(customerErrors({ id: 'c1', signup_date: '2024-02-30', updated_at: 'yesterday' }, 10)).toEqual([
      { row: 10, field: 'updated_at', code: 'invalid_date', reason: expect.stringContaining('"yesterday"') },
      {
        row: 10,
        field: 'signup_date',
        code: 'invalid_date',
        reason: expect.stringContaining('"2024-02-30"'),
      },
    ]);
    expect(customerErrors({ id: 'c1', name: { first: 'Jane' } }, 11)).toEqual([
      { row: 11, field: 'name', code: 'invalid_value', reason: expect.stringContaining('not an object') },
    ]);
  });

  it('keeps a user id row with a bad or placeholder e-mail: the e-mail is just not an identifier', () => {
    expect(customer({ id: 'c1', email: 'n/a' }).traits).toEqual({ email: 'n/a' });
  });

  describe('messageIds', () => {
    const row = { customer_id: 'c-1', email: 'jane@example.com', first_name: 'Jane', plan: 'gold' };

    it('are the same for the same row, whatever the column names, order, spacing or upload time', () => {
      const id = customer(row).messageId;
      expect(customer({ ...row }, 99).messageId).toBe(id);
      expect(
        customer({ plan: ' gold', firstname: 'Jane ', e_mail: 'JANE@example.com', user_id: 'c-1' }).messageId,
      ).toBe(id);
      expect(customer(row, 1, options({ asOf: AS_OF + 86_400_000 })).messageId).toBe(id);
      expect(customer({ ...row, notes: '' }).messageId).toBe(id);
    });

    it('change when the row changes, or for another source', () => {
      const id = customer(row).messageId;
      expect(customer({ ...row, plan: 'platinum' }).messageId).not.toBe(id);
      expect(customer({ ...row, updated_at: '2026-01-01' }).messageId).not.toBe(id);
      expect(customer(row, 1, options({ sourceId: 'erp' })).messageId).not.toBe(id);
    });
  });
});

/** Collects rows (numbered from 1) into orders; returns the events, errors and conflicting rows. */
function collect(rows: Record<string, unknown>[], opts = options()) {
  const orders = new OrderCollector(opts);
  const errors = rows.flatMap((values, i) => orders.add(values, i + 1));
  const events = [...orders.events()];
  return { events, errors: [...errors, ...orders.conflicts()], conflicting: orders.conflictingRows() };
}

describe('order rows', () => {
  it('group the lines of an order wherever they are in the file, revenue from the lines', () => {
    const { events, errors } = collect([
      {
        order_id: 'A',
        customer_id: 'c1',
        order_date: '2024-05-01 10:30',
        sku: 'p1',
        price: '10.50',
        qty: '2',
        currency: 'eur',
      },
      {
        order_id: 'B',
        customer_id: 'c2',
        order_date: '2024-05-02',
        product_id: 'p9',
        unit_price: '5',
        quantity: '1',
      },
      {
        order_id: 'A',
        customer_id: 'c1',
        order_date: '2024-05-01 10:30',
        sku: 'p2',
        price: '3',
        category: 'shoes',
        brand: 'Acme',
      },
      {
        order_id: 'B',
        customer_id: 'c2',
        order_date: '2024-05-02',
        product_id: 'p8',
        unit_price: '1,25',
        quantity: '4',
      },
    ]);
    expect(errors).toEqual([]);
    expect(events.map((e) => e.event)).toEqual([
      {
        type: 'track',
        event: 'Order Completed',
        messageId: 'import-order-crm-A-completed',
        userId: 'c1',
        timestamp: '2024-05-01T10:30:00.000Z',
        // 10.50 × 2 + 3 × 1 (no quantity: one)
        properties: {
          order_id: 'A',
          revenue: 24,
          currency: 'eur',
          products: [
            { product_id: 'p1', sku: 'p1', price: 10.5, quantity: 2 },
            { product_id: 'p2', sku: 'p2', price: 3, category: 'shoes', brand: 'Acme' },
          ],
        },
        context: { library: { name: 'precis-import', version: '1' } },
      },
      {
        type: 'track',
        event: 'Order Completed',
        messageId: 'import-order-crm-B-completed',
        userId: 'c2',
        timestamp: '2024-05-02T00:00:00.000Z',
        // 5 × 1 + 1.25 × 4
        properties: {
          order_id: 'B',
          revenue: 10,
          products: [
            { product_id: 'p9', price: 5, quantity: 1 },
            { product_id: 'p8', price: 1.25, quantity: 4 },
          ],
        },
        context: { library: { name: 'precis-import', version: '1' } },
      },
    ]);
    expect(events.map((e) => e.origin)).toEqual([
      { row: 1, lineRows: [1, 3] },
      { row: 2, lineRows: [2, 4] },
    ]);
  });

  it('take the stated total over the lines, once, from one row per order files too', () => {
    const { events } = collect([
      {
        order_id: 7,
        email: 'ann@example.com',
        date: '2023-12-31T23:59:59Z',
        total: '1,234.50',
        currency: 'USD',
      },
      { order_id: 'L', user_id: 'u', date: '2023-01-01', amount: '40', sku: 'a', price: '10', quantity: '2' },
      { order_id: 'L', user_id: 'u', date: '2023-01-01', amount: '40', sku: 'b', price: '20', quantity: '1' },
    ]);
    expect(events.map((e) => e.event.properties)).toEqual([
      { order_id: '7', revenue: 1234.5, currency: 'USD' },
      {
        order_id: 'L',
        revenue: 40,
        products: [
          { product_id: 'a', sku: 'a', price: 10, quantity: 2 },
          { product_id: 'b', sku: 'b', price: 20, quantity: 1 },
        ],
      },
    ]);
    // E-mail only: the keyed anonymousId, and the e-mail in context.traits to link it in the graph.
    expect(events[0]?.event).toMatchObject({
      anonymousId: anonOf('ann@example.com'),
      context: { traits: { email: 'ann@example.com' } },
      timestamp: '2023-12-31T23:59:59.000Z',
    });
    expect(events[0]?.event.userId).toBeUndefined();
  });

  it('map statuses to spec events; a refund brings its order when the file lacks it', () => {
    const base = { customer_id: 'c1', order_date: '2024-03-01', total: '50' };
    const { events, errors } = collect([
      { ...base, order_id: 'paid', status: 'Paid' },
      { ...base, order_id: 'shipped', order_status: 'SHIPPED' },
      { ...base, order_id: 'none' },
      { ...base, order_id: 'ref', status: 'refunded', refunded_at: '2024-03-05 12:00' },
      { ...base, order_id: 'can', status: 'canceled' },
      { ...base, order_id: 'both', status: 'completed' },
      { ...base, order_id: 'both', status: 'Refunded' },
      { ...base, order_id: 'pend', status: 'pending' },
    ]);
    expect(
      events.map((e) => [e.event.event, e.event.messageId, e.event.timestamp, e.event.properties]),
    ).toEqual([
      [
        'Order Completed',
        'import-order-crm-paid-completed',
        '2024-03-01T00:00:00.000Z',
        { order_id: 'paid', revenue: 50 },
      ],
      [
        'Order Completed',
        'import-order-crm-shipped-completed',
        '2024-03-01T00:00:00.000Z',
        { order_id: 'shipped', revenue: 50 },
      ],
      [
        'Order Completed',
        'import-order-crm-none-completed',
        '2024-03-01T00:00:00.000Z',
        { order_id: 'none', revenue: 50 },
      ],
      [
        'Order Completed',
        'import-order-crm-ref-completed',
        '2024-03-01T00:00:00.000Z',
        { order_id: 'ref', revenue: 50 },
      ],
      [
        'Order Refunded',
        'import-order-crm-ref-refunded',
        '2024-03-05T12:00:00.000Z',
        { order_id: 'ref', total: 50 },
      ],
      [
        'Order Cancelled',
        'import-order-crm-can-cancelled',
        '2024-03-01T00:00:00.000Z',
        { order_id: 'can', total: 50 },
      ],
      [
        'Order Completed',
        'import-order-crm-both-completed',
        '2024-03-01T00:00:00.000Z',
        { order_id: 'both', revenue: 50 },
      ],
      [
        'Order Refunded',
        'import-order-crm-both-refunded',
        '2024-03-01T00:00:00.000Z',
        { order_id: 'both', total: 50 },
      ],
    ]);
    expect(errors).toEqual([
      { row: 8, field: 'status', code: 'invalid_status', reason: expect.stringContaining('"pending"') },
    ]);
  });

  it('report rows that cannot become part of an order, with the row and the column', () => {
    const { events, errors } = collect([
      { customer_id: 'c1', order_date: '2024-01-01', total: '5' },
      { order_id: 'x', order_date: '2024-01-01', total: '5' },
      { order_id: 'x', customer_id: 'c1', total: '5' },
      { order_id: 'x', customer_id: 'c1', order_date: '01/02/2024', total: '5' },
      { order_id: 'x', customer_id: 'c1', order_date: '2024-01-01', total: 'five' },
      { order_id: 'x', customer_id: 'c1', order_date: '2024-01-01', sku: 'p', price: '1', qty: '1,5000' },
      { order_id: 'x', email: 'nope', order_date: '2024-01-01' },
    ]);
    expect(events).toEqual([]);
    expect(errors).toEqual([
      { row: 1, field: 'order_id', code: 'required', reason: expect.stringContaining('is required') },
      { row: 2, field: 'user_id', code: 'required', reason: expect.stringContaining('is required') },
      { row: 3, field: 'timestamp', code: 'required', reason: expect.stringContaining('order date') },
      { row: 4, field: 'order_date', code: 'invalid_date', reason: expect.stringContaining('"01/02/2024"') },
      { row: 5, field: 'total', code: 'invalid_number', reason: '"five" is not a number' },
      { row: 6, field: 'qty', code: 'invalid_number', reason: '"1,5000" is not a number' },
      { row: 7, field: 'email', code: 'invalid_email', reason: expect.stringContaining('not an e-mail') },
    ]);
  });

  it('refuse an order whose rows name different customers or totals, on every one of its rows', () => {
    const { events, errors, conflicting } = collect([
      { order_id: 'ok', customer_id: 'c1', date: '2024-01-01', total: '3' },
      { order_id: 'who', customer_id: 'c1', date: '2024-01-01', sku: 'a', price: '1' },
      { order_id: 'who', customer_id: 'c2', date: '2024-01-01', sku: 'b', price: '1' },
      { order_id: 'sum', customer_id: 'c3', date: '2024-01-01', amount: '10', sku: 'a' },
      { order_id: 'sum', customer_id: 'c3', date: '2024-01-01', amount: '12', sku: 'b' },
      { order_id: 'who', customer_id: 'c1', date: '2024-01-01', sku: 'c', price: '1' },
    ]);
    expect(events.map((e) => e.event.messageId)).toEqual(['import-order-crm-ok-completed']);
    expect(conflicting).toBe(5);
    expect(errors.map((e) => [e.row, e.field, e.code])).toEqual([
      [2, 'customer_id', 'conflicting_customer'],
      [3, 'customer_id', 'conflicting_customer'],
      [6, 'customer_id', 'conflicting_customer'],
      [4, 'amount', 'conflicting_total'],
      [5, 'amount', 'conflicting_total'],
    ]);
  });

  it('name the same order the same way on every upload, and hash ids too long for Segment', () => {
    expect(orderMessageId('crm', 'A-1', 'completed')).toBe('import-order-crm-A-1-completed');
    const long = orderMessageId('crm', 'x'.repeat(300), 'refunded');
    expect(long).toMatch(/^import-order-[0-9a-f]{40}-refunded$/);
    expect(orderMessageId('crm', 'x'.repeat(300), 'refunded')).toBe(long);
    expect(orderMessageId('crm', 'x'.repeat(301), 'refunded')).not.toBe(long);
    const twice = [
      ...collect([{ order_id: 'A', user_id: 'u', date: '2024-01-01', total: '1' }]).events,
      ...collect([{ order_id: 'A', user_id: 'u', date: '2024-01-01', total: '1' }]).events,
    ];
    expect(new Set(twice.map((e) => e.event.messageId))).toEqual(new Set(['import-order-crm-A-completed']));
  });
});

describe('cells', () => {
  it('read numbers as spreadsheets write them, refusing the ambiguous', () => {
    const cases: [string, number | undefined][] = [
      ['12', 12],
      [' -3.5 ', -3.5],
      ['.5', 0.5],
      ['1e3', 1000],
      ['1,234.50', 1234.5],
      ['1,234', 1234],
      ['12,5', 12.5],
      ['1.234,56', 1234.56],
      ['1 000', 1000],
      ['12,3456', undefined],
      ['1,2,3', undefined],
      ['€5', undefined],
      ['', undefined],
      ['abc', undefined],
    ];
    for (const [text, expected] of cases) expect(parseNumber(text), text).toBe(expected);
  });

  it('read dates as UTC unless they carry an offset, refusing impossible ones', () => {
    const cases: [string, number | undefined][] = [
      ['2024-05-01', Date.UTC(2024, 4, 1)],
      ['2024-05-01 13:45', Date.UTC(2024, 4, 1, 13, 45)],
      ['2024-05-01 13:45:30', Date.UTC(2024, 4, 1, 13, 45, 30)],
      ['2024-05-01T13:45:30.250Z', Date.UTC(2024, 4, 1, 13, 45, 30, 250)],
      ['2024-05-01T13:45:30+02:00', Date.UTC(2024, 4, 1, 11, 45, 30)],
      ['2024-05-01T13:45-0530', Date.UTC(2024, 4, 1, 19, 15)],
      ['2024-02-29', Date.UTC(2024, 1, 29)],
      ['2023-02-29', undefined],
      ['2024-04-31', undefined],
      ['2024-05-01 24:00', undefined],
      ['2024-05-01T10:00+15:00', undefined],
      ['05/01/2024', undefined],
      ['2024-5-1', undefined],
      ['1714521600', undefined],
    ];
    for (const [text, expected] of cases) expect(parseDate(text), text).toBe(expected);
  });
});
