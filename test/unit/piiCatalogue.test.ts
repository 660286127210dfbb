// The catalogue of PII trait names (lib/pii/catalogue.ts): every documented alias of a kind is found in
// any casing and separator style (camelCase, snake_case, kebab-case, spaces, dots), with the person's own
// qualifiers (contact_email, work_phone) and others' (emergency_contact_phone: protected, not an
// identifier), and names that only look alike (iphone, company_name, ip_address) are not.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, normalizeKey, OWN_QUALIFIERS, type PiiKind, traitKind } from '../../lib/pii/catalogue.js';

const KINDS = Object.keys(CATALOGUE) as PiiKind[];
const aliases = KINDS.flatMap((kind) => CATALOGUE[kind].map((alias) => ({ kind, alias })));

/** The words of a snake_case alias written in one of the styles clients use. */
const STYLES: Record<string, (words: string[]) => string> = {
  snake: (w) => w.join('_'),
  camel: (w) => w.map((x, i) => (i === 0 ? x : x.charAt(0).toUpperCase() + x.slice(1))).join(''),
  pascal: (w) => w.map((x) => x.charAt(0).toUpperCase() + x.slice(1)).join(''),
  kebab: (w) => w.join('-'),
  spaced: (w) => w.join(' '),
  upper: (w) => w.join('_').toUpperCase(),
  dotted: (w) => w.join('.'),
  title: (w) => w.map((x) => x.charAt(0).toUpperCase() + x.slice(1)).join(' '),
};

describe('traitKind', () => {
  it('finds the names the issue found in clear', () => {
    expect(traitKind('contact_email')).toEqual({ kind: 'email', own: true });
    expect(traitKind('emailAddress')).toEqual({ kind: 'email', own: true });
    expect(traitKind('mobile')).toEqual({ kind: 'phone', own: true });
    expect(traitKind('phone_number')).toEqual({ kind: 'phone', own: true });
    expect(traitKind('full_name')).toEqual({ kind: 'name', own: true });
  });

  it('finds every alias of the catalogue in any style, with or without an own qualifier', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...aliases),
        fc.constantFrom(...Object.values(STYLES)),
        fc.option(fc.constantFrom(...OWN_QUALIFIERS), { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        ({ kind, alias }, style, qualifier, n) => {
          const words = [...(qualifier ? qualifier.split('_') : []), ...alias.split('_')];
          const key = style(words) + (n === undefined ? '' : String(n));
          expect(traitKind(key)?.kind, key).toBe(kind);
          expect(traitKind(key)?.own, key).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is insensitive to case and separators inserted anywhere', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...aliases),
        fc.array(fc.tuple(fc.boolean(), fc.constantFrom('', '_', '-', ' ', '.')), {
          minLength: 40,
          maxLength: 40,
        }),
        ({ alias }, edits) => {
          const bare = alias.replace(/_/g, '');
          const key = Array.from(bare)
            .map((c, i) => {
              const [upper, sep] = edits[i % edits.length] ?? [false, ''];
              return (upper ? c.toUpperCase() : c) + sep;
            })
            .join('');
          expect(normalizeKey(key)).toBe(normalizeKey(bare));
          expect(traitKind(key)).toEqual(traitKind(bare));
        },
      ),
    );
  });

  it('strips accents: téléphone, prénom', () => {
    expect(traitKind('téléphone')?.kind).toBe('phone');
    expect(traitKind('Prénom')?.kind).toBe('name');
  });

  it('protects what names someone else, without making it the customer’s identifier', () => {
    expect(traitKind('emergency_contact_phone')).toEqual({ kind: 'phone', own: false });
    expect(traitKind('referrerEmail')).toEqual({ kind: 'email', own: false });
    expect(traitKind('spouse_name')).toEqual({ kind: 'name', own: false });
  });

  it('covers address parts, birthdays and names', () => {
    for (const key of [
      'street',
      'postalCode',
      'zip',
      'address_line_1',
      'shippingAddress',
      'billing_address',
    ]) {
      expect(traitKind(key)?.kind, key).toBe('address');
    }
    for (const key of ['dob', 'dateOfBirth', 'birth_date'])
      expect(traitKind(key)?.kind, key).toBe('birthday');
    for (const key of ['firstName', 'last_name', 'surname', 'givenName'])
      expect(traitKind(key)?.kind, key).toBe('name');
  });

  it('leaves alone names that only look alike', () => {
    for (const key of [
      'plan',
      'logins',
      'iphone',
      'smartphone',
      'company_name',
      'product_name',
      'ip_address',
      'city',
      'country',
      'state',
      'email_verified',
      'emailOptIn',
      'phone_type',
      'order_id',
      'createdAt',
      '',
      '__proto__',
      'constructor',
    ]) {
      expect(traitKind(key), key).toBeUndefined();
    }
  });
});
