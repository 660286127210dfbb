// The customer API's business rules, in lib/customers: only admin keys may reveal personal data, a
// timeline cursor must be one the API made, and ids are bounded in bytes; each refusal is an outcome
// decided before any store is read.
import { describe, expect, it } from 'vitest';
import { CustomerIdPath, MAX_CUSTOMER_ID_BYTES } from '../../lib/customers/api.js';
import { type CustomerReadDeps, customerEvents, customerProfile } from '../../lib/customers/read.js';
import { expectRejection } from '../support/outcome.js';

/** Deps that fail the test if a refusal reads anything. */
const untouched = new Proxy({} as CustomerReadDeps, {
  get: (_, name) => {
    throw new Error(`a refused request read deps.${String(name)}`);
  },
});

describe('customer API rules', () => {
  it('refuses to reveal personal data to a read key, whoever the customer is', async () => {
    const refused = await expectRejection(
      customerProfile('anyone', { reveal: true, role: 'read' }, untouched),
    );
    expect(refused).toMatchObject({ reason: 'forbidden', message: expect.stringContaining('admin') });
  });

  it('refuses a timeline cursor it did not make', async () => {
    for (const cursor of ['garbage', Buffer.from('not a key').toString('base64url')]) {
      const refused = await expectRejection(customerEvents('anyone', { limit: 5, cursor }, untouched));
      expect(refused.reason).toBe('invalid');
      // The fuzz suite found this refusal without the path of what was wrong.
      expect(refused).toMatchObject({ issues: [{ path: 'cursor', code: 'invalid_cursor' }] });
    }
  });

  it('bounds ids in bytes: any 1,024-character ASCII userId with a prefix fits, 5,000 characters do not', () => {
    expect(CustomerIdPath.safeParse({ id: `user:${'u'.repeat(1_024)}` }).success).toBe(true);
    expect(CustomerIdPath.safeParse({ id: 'x'.repeat(5_000) }).success).toBe(false);
    expect(CustomerIdPath.safeParse({ id: '€'.repeat(MAX_CUSTOMER_ID_BYTES / 2) }).success).toBe(false);
  });
});
