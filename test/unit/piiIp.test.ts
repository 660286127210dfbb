// IP addresses are truncated as Google Analytics does (lib/pii/ip.ts): IPv4 to its /24, IPv6 to its /48.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { truncateIp } from '../../lib/pii/ip.js';

describe('truncateIp', () => {
  it('keeps the network, drops the host', () => {
    expect(truncateIp('203.0.113.7')).toBe('203.0.113.0');
    expect(truncateIp(' 10.1.2.255 ')).toBe('10.1.2.0');
    expect(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(truncateIp('2001:db8::1')).toBe('2001:db8:0::');
    expect(truncateIp('::1')).toBe('0:0:0::');
    expect(truncateIp('fe80::1%eth0')).toBe('fe80:0:0::');
    expect(truncateIp('::ffff:203.0.113.7')).toBe('::ffff:203.0.113.0');
  });

  it('refuses what is not an IP address', () => {
    for (const v of ['', 'localhost', '1.2.3', '256.1.1.1', 'jane@example.com', '2001:db8:::1']) {
      expect(truncateIp(v), v).toBeUndefined();
    }
  });

  it('is idempotent and never keeps the last octet or the interface id', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
        const once = truncateIp(ip);
        expect(once).toBeDefined();
        expect(truncateIp(once ?? '')).toBe(once);
        if (!ip.includes(':')) expect(once?.endsWith('.0')).toBe(true);
      }),
    );
  });
});
