// Masks for display (lib/pii/mask.ts), and the identifiers the edge extracts and hashes
// (lib/pii/identifiers.ts, lib/pii/hmac.ts): normalization, junk, sources, dedup, keyed hashes.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.js';
import type { NormalizedEvent } from '../../lib/ingest/normalized.js';
import { identifierHash, loadHmacSecret } from '../../lib/pii/hmac.js';
import {
  extractIdentifiers,
  normalizeEmail,
  normalizeId,
  normalizePhone,
} from '../../lib/pii/identifiers.js';
import {
  maskAddress,
  maskBirthday,
  maskEmail,
  maskId,
  maskName,
  maskPhone,
  maskTrait,
} from '../../lib/pii/mask.js';
import { normalizedEvent } from './factories.js';

const SECRET = 'unit-test-hmac-secret-0123456789';
const junk = parseConfig({}).quality.junkIds;

const identify = (traits: Record<string, unknown>, context?: Record<string, unknown>): NormalizedEvent =>
  normalizedEvent({ type: 'identify', event: undefined, properties: undefined, traits, context });

describe('masks', () => {
  it('keep just enough to recognize a value', () => {
    expect(maskEmail('jane.doe@example.com')).toBe('j***@example.com');
    expect(maskEmail('  Jane.Doe@Example.COM ')).toBe('J***@example.com');
    expect(maskPhone('+33 6 12 34 56 78')).toBe('+*********78');
    expect(maskPhone('06 12 34 56 78')).toBe('********78');
    expect(maskPhone(4915112345678)).toBe('***********78');
    expect(maskPhone('123')).toBe('***');
    expect(maskName('Jane van Doe')).toBe('J*** v*** D***');
    expect(maskName('Zoë')).toBe('Z***');
    expect(maskName('王小明')).toBe('王***');
    expect(maskName('👩‍💻 Ada')).toBe('👩*** A***');
    expect(maskBirthday('1984-03-07')).toBe('****-**-**');
    expect(maskAddress({ street: '1 rue de la Paix', city: 'Paris', country: 'FR', state: 'IDF' })).toEqual({
      street: '***',
      city: '***',
      country: 'FR',
      state: 'IDF',
    });
    expect(maskAddress('1 rue de la Paix, Paris')).toBe('***');
    expect(maskId('38400000-8cf0-11bd-b23e-10b96e40000d')).toBe('38***0d');
    expect(maskId('ab12')).toBe('***');
    expect(maskTrait('firstName', 'Jane')).toBe('J***');
    expect(maskTrait('EMAIL', 'jane@example.com')).toBe('j***@example.com');
    expect(maskTrait('phone', null)).toBeNull();
  });
});

describe('normalization', () => {
  it('reads e-mails, phones and ids the way the identity graph compares them', () => {
    expect(normalizeEmail('  Jane.Doe@Example.COM ')).toBe('jane.doe@example.com');
    for (const bad of ['jane', 'jane@', '@example.com', 'jane@example', 'ja ne@example.com', 42]) {
      expect(normalizeEmail(bad)).toBeUndefined();
    }
    expect(normalizePhone('+33 (0)6-12.34.56.78')).toBe('+330612345678');
    expect(normalizePhone('06 12 34 56 78')).toBe('0612345678');
    expect(normalizePhone(4915112345678)).toBe('4915112345678');
    expect(normalizePhone('123456')).toBeUndefined();
    expect(normalizePhone('1'.repeat(16))).toBeUndefined();
    expect(normalizeId(' CRM-001 ')).toBe('CRM-001');
    expect(normalizeId('38400000-8CF0-11BD-B23E-10B96E40000D')).toBe('38400000-8cf0-11bd-b23e-10b96e40000d');
    expect(normalizeId(12345)).toBe('12345');
    expect(normalizeId('')).toBeUndefined();
    expect(normalizeId({ id: 1 })).toBeUndefined();
  });
});

describe('identifier hashes', () => {
  it('are keyed: 22 base64url characters, different per secret and per type', () => {
    const h = identifierHash(SECRET, 'email', 'jane.doe@example.com');
    expect(h).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(identifierHash(SECRET, 'email', 'jane.doe@example.com')).toBe(h);
    expect(identifierHash('another-secret-0123456789', 'email', 'jane.doe@example.com')).not.toBe(h);
    expect(identifierHash(SECRET, 'crm', 'jane.doe@example.com')).not.toBe(h);
  });

  it('load their secret from the environment, else from Secrets Manager once, else say what to set', async () => {
    expect(await loadHmacSecret({ hmacSecret: SECRET })).toBe(SECRET);
    await expect(loadHmacSecret({ hmacSecret: 'short' })).rejects.toThrow(/at least 16 characters/);
    await expect(loadHmacSecret({})).rejects.toThrow(/PRECIS_HMAC_SECRET_ARN.*PRECIS_HMAC_SECRET/);

    const arn = `arn:aws:secretsmanager:eu-west-1:000000000000:secret:precis-${randomBytes(4).toString('hex')}`;
    const fromAws = randomBytes(32).toString('base64url');
    let fetches = 0;
    const fetchSecret = async (a: string) => {
      fetches++;
      if (fetches === 1) throw new Error('throttled');
      return a === arn ? fromAws : '';
    };
    await expect(loadHmacSecret({ hmacSecretArn: arn }, fetchSecret)).rejects.toThrow('throttled');
    const [a, b] = await Promise.all([
      loadHmacSecret({ hmacSecretArn: arn }, fetchSecret),
      loadHmacSecret({ hmacSecretArn: arn }, fetchSecret),
    ]);
    expect([a, b]).toEqual([fromAws, fromAws]);
    expect(await loadHmacSecret({ hmacSecretArn: arn }, fetchSecret)).toBe(fromAws);
    expect(fetches).toBe(2);
  });
});

describe('extractIdentifiers', () => {
  const byType = (ids: { type: string }[]) => ids.map((i) => i.type);

  it('finds e-mail, phone, CRM and open ids in traits, device ids and external ids in context', () => {
    const ids = extractIdentifiers(
      identify(
        {
          email: 'Jane.Doe@Example.com',
          phone: '+33 6 12 34 56 78',
          crm_id: 'SF-00912',
          openid: 'oWx_abc123',
        },
        {
          device: {
            id: 'B5A7C1D0-0F6E-4F2A-9C51-3D2E1F0A9B8C',
            advertisingId: 'a1b2c3d4-e5f6-4a1b-8c2d-3e4f5a6b7c8d',
          },
          externalIds: [
            { id: 'hub-778', type: 'hubspot_contact_id', collection: 'users', encoding: 'none' },
            { id: 'mini-o-42x', type: 'miniprogram_openid' },
            { id: 'ignored', type: 'ga_client_id' },
          ],
        },
      ),
      SECRET,
      junk,
    );
    expect(byType(ids)).toEqual(['email', 'phone', 'crm', 'openid', 'device', 'device', 'crm', 'openid']);
    expect(ids[0]).toEqual({
      type: 'email',
      hash: identifierHash(SECRET, 'email', 'jane.doe@example.com'),
      mask: 'j***@example.com',
    });
    expect(ids[1]).toEqual({
      type: 'phone',
      hash: identifierHash(SECRET, 'phone', '+33612345678'),
      mask: '+*********78',
    });
    expect(ids[4]?.hash).toBe(identifierHash(SECRET, 'device', 'b5a7c1d0-0f6e-4f2a-9c51-3d2e1f0a9b8c'));
    expect(JSON.stringify(ids)).not.toMatch(/jane|12 34|SF-00912|hub-778/i);
  });

  it('gives one hash to case and space variants of one e-mail, and dedupes across sources', () => {
    const variants = ['jane.doe@example.com', ' JANE.DOE@EXAMPLE.COM', 'Jane.Doe@example.com  '];
    const hashes = variants.map((email) => extractIdentifiers(identify({ email }), SECRET, junk)[0]?.hash);
    expect(new Set(hashes).size).toBe(1);
    const both = extractIdentifiers(
      identify({ email: variants[0] }, { traits: { email: variants[1] } }),
      SECRET,
      junk,
    );
    expect(both).toHaveLength(1);
    const other = extractIdentifiers(identify({ email: variants[0] }), 'a-different-secret-0123456789', junk);
    expect(other[0]?.hash).not.toBe(hashes[0]);
  });

  it('reads every trait spelling of CRM and open ids', () => {
    for (const key of ['crm_id', 'crmId', 'external_id']) {
      expect(byType(extractIdentifiers(identify({ [key]: 'C-1001' }), SECRET, junk))).toEqual(['crm']);
    }
    for (const key of ['openid', 'open_id', 'openId', 'wechat_openid']) {
      expect(byType(extractIdentifiers(identify({ [key]: 'oWx_77ab' }), SECRET, junk))).toEqual(['openid']);
    }
    const salesforce = identify({}, { externalIds: [{ id: '0035g00000XyZ', type: 'Salesforce_Contact' }] });
    expect(byType(extractIdentifiers(salesforce, SECRET, junk))).toEqual(['crm']);
  });

  it('skips junk and placeholders', () => {
    const junkTraits = [
      { email: 'test@test.com' },
      { email: 'noemail@shop.fr' },
      { email: 'no-reply@brand.com' },
      { email: 'not an email' },
      { phone: '0000000' },
      { phone: '1234567' },
      { phone: '+1 111 111 1111' },
      { crm_id: 'null' },
      { crm_id: 'undefined' },
      { openid: '0' },
      { openid: '   ' },
    ];
    for (const traits of junkTraits) expect(extractIdentifiers(identify(traits), SECRET, junk)).toEqual([]);
    const zeroAd = identify({}, { device: { advertisingId: '00000000-0000-0000-0000-000000000000' } });
    expect(extractIdentifiers(zeroAd, SECRET, junk)).toEqual([]);
  });

  it("reads a group call's traits as the group's, not the user's; context.traits on every call", () => {
    const group = normalizedEvent({ type: 'group', groupId: 'g1', traits: { email: 'sales@acme.com' } });
    expect(extractIdentifiers(group, SECRET, junk)).toEqual([]);
    const track = normalizedEvent({ context: { traits: { email: 'jane@example.com' } } });
    expect(byType(extractIdentifiers(track, SECRET, junk))).toEqual(['email']);
  });

  it('reads the catalogue’s aliases of e-mail and phone (issue 7), not someone else’s', () => {
    const ids = extractIdentifiers(
      identify({
        contact_email: 'Contact.Jane@example.com',
        emailAddress: 'addr.jane@example.com',
        'E-Mail': 'dash.jane@example.com',
        mobile: '06 12 34 56 78',
        phone_number: '(415) 555-0100',
        cellPhone: 4915112345678,
        emergency_contact_phone: '+44 20 7946 0958',
        referrer_email: 'friend@example.com',
      }),
      SECRET,
      junk,
    );
    expect(ids.map((i) => i.hash)).toEqual([
      identifierHash(SECRET, 'email', 'contact.jane@example.com'),
      identifierHash(SECRET, 'email', 'addr.jane@example.com'),
      identifierHash(SECRET, 'email', 'dash.jane@example.com'),
      identifierHash(SECRET, 'phone', '0612345678'),
      identifierHash(SECRET, 'phone', '4155550100'),
      identifierHash(SECRET, 'phone', '4915112345678'),
    ]);
  });

  it('takes an e-mail or phone userId as that identifier too', () => {
    const byEmail = normalizedEvent({ userId: 'Jane.Doe@Example.com' });
    expect(extractIdentifiers(byEmail, SECRET, junk)).toEqual([
      {
        type: 'email',
        hash: identifierHash(SECRET, 'email', 'jane.doe@example.com'),
        mask: 'j***@example.com',
      },
    ]);
    const byPhone = normalizedEvent({ userId: '+33 6 12 34 56 78' });
    expect(byType(extractIdentifiers(byPhone, SECRET, junk))).toEqual(['phone']);
    expect(extractIdentifiers(normalizedEvent({ userId: '12347' }), SECRET, junk)).toEqual([]);
  });

  it('skips tokens: an event protected before yields no identifiers from its ciphertext', () => {
    const token = `enc:v1:0123456789abcdef:${Buffer.from('1234567890123456789').toString('base64url')}`;
    expect(extractIdentifiers(identify({ phone: token, crm_id: token }), SECRET, junk)).toEqual([]);
  });
});
