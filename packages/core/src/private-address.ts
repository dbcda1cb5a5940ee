import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Server-side request forgery guard: which addresses a webhook may not be delivered to
 * unless ALLOW_PRIVATE_TARGETS is set. Pure logic; the API applies it to literal hosts,
 * the worker to every address DNS returns and every redirect hop.
 *
 * The special-purpose ranges come from ipaddr.js (a maintained copy of the IANA registries):
 * only what it calls ordinary `unicast` may be reached, and for IPv6 only inside global
 * unicast 2000::/3. IPv6 forms that carry an IPv4 address are judged by that address.
 * Anything that cannot be read counts as private, because a parser disagreement is exactly
 * how such guards get bypassed.
 */

type Address = ipaddr.IPv4 | ipaddr.IPv6;

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96'); // deprecated, but :: and ::1 live here too
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

function ipv4FromParts(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** The IPv4 addresses an IPv6 address carries, when it is one of the forms that route to them. */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4[] | null {
  const p = address.parts;
  const last = () => ipv4FromParts(p[6] ?? 0, p[7] ?? 0);
  switch (address.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d (SIIT)
      return [last()];
    case '6to4': // 2002:AABB:CCDD::/48
      return [ipv4FromParts(p[1] ?? 0, p[2] ?? 0)];
    case 'teredo': // 2001:0:<server>:<flags>:<port>:<client XOR ffff:ffff>
      return [ipv4FromParts(p[2] ?? 0, p[3] ?? 0), ipv4FromParts((p[6] ?? 0) ^ 0xffff, (p[7] ?? 0) ^ 0xffff)];
  }
  if (address.match(NAT64_WELL_KNOWN) || address.match(IPV4_COMPATIBLE)) return [last()];
  return null;
}

function isGlobal(address: Address): boolean {
  if (address instanceof ipaddr.IPv4) return address.range() === 'unicast';
  const embedded = embeddedIpv4(address);
  if (embedded) return embedded.every(isGlobal);
  return address.range() === 'unicast' && address.match(GLOBAL_UNICAST_V6);
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** True for loopback, private, link-local and every other non-global address, and for anything unparseable. */
export function isPrivateAddress(ip: string): boolean {
  if (typeof ip !== 'string') return true;
  // A zone id ("fe80::1%eth0") only scopes the address; the address decides.
  const text = stripBrackets(ip.trim()).split('%', 1)[0] ?? '';
  // isIP is strict (dotted-quad decimal, RFC 4291 text); ipaddr.js would also read "127.1".
  if (isIP(text) === 0) return true;
  return !isGlobal(ipaddr.parse(text));
}

// Characters that would make a URL parser read part of the input as something other than a host.
const NOT_A_HOST = /[\s/?#@\\%]/;

/** The host as the WHATWG URL parser canonicalises it (IPv4 in any spelling to a dotted quad), or null. */
function canonicalHost(hostname: string): string | null {
  const host = hostname.trim();
  if (host === '' || NOT_A_HOST.test(host)) return null;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  try {
    const url = new URL(`http://${bracketed}/`);
    return url.port === '' ? stripBrackets(url.hostname) : null;
  } catch {
    return null;
  }
}

/**
 * A hostname as it will be connected to: lower-cased, IPv6 brackets removed and compressed,
 * and IPv4 literals in any WHATWG form ("2130706433", "0177.0.0.1", "0x7f.1") as a dotted
 * quad. What a URL parser refuses comes back lower-cased and otherwise unchanged.
 */
export function normalizeHost(hostname: string): string {
  return canonicalHost(hostname) ?? stripBrackets(hostname.trim().toLowerCase());
}

/**
 * True when a URL's hostname is private without a DNS lookup: `localhost` and its
 * subdomains, a private IP literal, or anything a URL parser would not accept as a host
 * (such as a numeric-looking host that is not a valid IPv4 address: a parser trick).
 */
export function isPrivateLiteralHost(hostname: string): boolean {
  const host = canonicalHost(hostname);
  if (host === null) return true;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && isPrivateAddress(host);
}

/** True when `hostname` is an IP literal (after normalisation), so no DNS lookup is needed. */
export function isIpLiteral(hostname: string): boolean {
  return isIP(normalizeHost(hostname)) !== 0;
}
