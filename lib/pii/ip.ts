// IP addresses cut to their network, as Google Analytics' IP anonymization does: an IPv4 address keeps its
// /24 (203.0.113.7 -> 203.0.113.0), an IPv6 address its /48 (2001:db8:85a3:8d3:… -> 2001:db8:85a3::).
// Enough for a region or a network, not for a household. An IPv4-mapped IPv6 address is cut as IPv4.
import { isIPv4, isIPv6 } from 'node:net';

export type IpPolicy = 'truncate' | 'encrypt' | 'keep';
export const IP_POLICIES = ['truncate', 'encrypt', 'keep'] as const satisfies readonly IpPolicy[];

const truncateV4 = (ip: string) => `${ip.split('.').slice(0, 3).join('.')}.0`;

/** The eight hextets of an IPv6 address (without its zone), or undefined when it is not one. */
function hextets(ip: string): string[] | undefined {
  const [head = '', tail] = ip.split('::');
  const part = (s: string) => (s === '' ? [] : s.split(':'));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const last = right.at(-1) ?? left.at(-1);
  // A trailing dotted IPv4 (::ffff:1.2.3.4) counts as two hextets.
  const width = left.length + right.length + (last?.includes('.') ? 1 : 0);
  const zeros = tail === undefined ? 0 : 8 - width;
  if (zeros < 0) return undefined;
  return [...left, ...Array.from({ length: zeros }, () => '0'), ...right];
}

/** The address cut to its network, or undefined when the text is not an IP address. */
export function truncateIp(text: string): string | undefined {
  const ip = text.trim();
  if (isIPv4(ip)) return truncateV4(ip);
  if (!isIPv6(ip)) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped !== undefined) return `::ffff:${truncateV4(mapped)}`;
  const groups = hextets(ip.replace(/%.*$/, ''));
  if (groups === undefined) return undefined;
  return `${groups
    .slice(0, 3)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(':')}::`;
}
