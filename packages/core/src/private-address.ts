import { isIP } from 'node:net';

/**
 * Server-side request forgery guard: which addresses a webhook may not be delivered to
 * unless ALLOW_PRIVATE_TARGETS is set. Pure logic; the API applies it to literal hosts,
 * the worker to every address DNS returns. Anything it cannot read counts as private,
 * because a parser disagreement is exactly how such guards get bypassed.
 */

type Cidr4 = readonly [base: number, prefixLength: number];

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

const PRIVATE_V4: readonly Cidr4[] = [
  [ipv4(0, 0, 0, 0), 8], // "this network"; 0.0.0.0 reaches the local host on Linux
  [ipv4(10, 0, 0, 0), 8],
  [ipv4(100, 64, 0, 0), 10], // carrier-grade NAT
  [ipv4(127, 0, 0, 0), 8],
  [ipv4(169, 254, 0, 0), 16], // link-local, where cloud metadata services live
  [ipv4(172, 16, 0, 0), 12],
  [ipv4(192, 168, 0, 0), 16],
  [ipv4(224, 0, 0, 0), 4], // multicast: never a web server
  [ipv4(240, 0, 0, 0), 4], // reserved, including 255.255.255.255 broadcast
];

function inCidr4(address: number, [base, prefixLength]: Cidr4): boolean {
  const mask = prefixLength === 0 ? 0 : (~0 << (32 - prefixLength)) >>> 0;
  return ((address & mask) >>> 0) === base;
}

function isPrivateV4Number(address: number): boolean {
  return PRIVATE_V4.some((cidr) => inCidr4(address, cidr));
}

/** Dotted-quad decimal only (already checked by `isIP`). */
function dottedQuadToNumber(text: string): number | null {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return null;
  const [a = 0, b = 0, c = 0, d = 0] = parts;
  return ipv4(a, b, c, d);
}

/** 16 bytes of an IPv6 address already accepted by `isIP`, or null. */
function ipv6ToBytes(text: string): number[] | null {
  let groupsText = text;
  const tail: number[] = [];
  const lastColon = groupsText.lastIndexOf(':');
  const last = groupsText.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = dottedQuadToNumber(last);
    if (v4 === null) return null;
    tail.push(v4 >>> 16, v4 & 0xffff);
    groupsText = groupsText.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::"; "1::2:1.2.3.4" leaves "1::2:" whose trailing colon is a separator.
    if (groupsText.endsWith(':') && !groupsText.endsWith('::')) groupsText = groupsText.slice(0, -1);
  }

  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const groups = s.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN));
    return groups.some(Number.isNaN) ? null : groups;
  };

  let groups: number[];
  const doubleColon = groupsText.indexOf('::');
  if (doubleColon >= 0) {
    const head = parseGroups(groupsText.slice(0, doubleColon));
    const rest = parseGroups(groupsText.slice(doubleColon + 2));
    if (!head || !rest) return null;
    const missing = 8 - head.length - rest.length - tail.length;
    if (missing < 0) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest, ...tail];
  } else {
    const all = parseGroups(groupsText);
    if (!all) return null;
    groups = [...all, ...tail];
  }
  if (groups.length !== 8) return null;
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function embeddedV4(bytes: readonly number[]): number {
  const [a = 0, b = 0, c = 0, d = 0] = bytes.slice(12);
  return ipv4(a, b, c, d);
}

function allZero(bytes: readonly number[]): boolean {
  return bytes.every((b) => b === 0);
}

function isPrivateV6Bytes(bytes: readonly number[]): boolean {
  const [b0 = 0, b1 = 0] = bytes;
  const first10 = bytes.slice(0, 10);
  // Addresses that carry an IPv4 address are judged by it: ::a.b.c.d (compatible, which
  // also covers :: and ::1), ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (SIIT) and the
  // NAT64 prefix 64:ff9b::/96.
  if (allZero(bytes.slice(0, 12))) return isPrivateV4Number(embeddedV4(bytes));
  if (allZero(first10) && bytes[10] === 0xff && bytes[11] === 0xff) return isPrivateV4Number(embeddedV4(bytes));
  if (allZero(bytes.slice(0, 8)) && bytes[8] === 0xff && bytes[9] === 0xff && bytes[10] === 0 && bytes[11] === 0) {
    return isPrivateV4Number(embeddedV4(bytes));
  }
  if (b0 === 0x00 && b1 === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && allZero(bytes.slice(4, 12))) {
    return isPrivateV4Number(embeddedV4(bytes));
  }
  if ((b0 & 0xfe) === 0xfc) return true; // fc00::/7 unique local
  if (b0 === 0xfe && (b1 & 0xc0) === 0x80) return true; // fe80::/10 link-local
  if (b0 === 0xfe && (b1 & 0xc0) === 0xc0) return true; // fec0::/10 old site-local
  if (b0 === 0xff) return true; // ff00::/8 multicast
  return false;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** True for loopback, private, link-local and other non-public addresses, and for anything unparseable. */
export function isPrivateAddress(ip: string): boolean {
  if (typeof ip !== 'string') return true;
  let text = stripBrackets(ip.trim());
  // A zone id ("fe80::1%eth0") only scopes the address; the address decides.
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  switch (isIP(text)) {
    case 4: {
      const n = dottedQuadToNumber(text);
      return n === null || isPrivateV4Number(n);
    }
    case 6: {
      const bytes = ipv6ToBytes(text);
      return bytes === null || isPrivateV6Bytes(bytes);
    }
    default:
      return true;
  }
}

// WHATWG URL host parsing reads a host whose last label is a number as IPv4, accepting
// decimal, octal (leading 0) and hex (0x) parts and shorthand like "127.1". It is
// reproduced here so a raw hostname is judged the way a URL parser would connect to it.
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/i;

function endsInNumber(host: string): boolean {
  const labels = host.split('.');
  if (labels[labels.length - 1] === '' && labels.length > 1) labels.pop();
  return NUMERIC_LABEL.test(labels[labels.length - 1] ?? '');
}

function parseIpv4Part(part: string): number | null {
  if (part === '') return null;
  let digits = part;
  let radix = 10;
  if (/^0x/i.test(digits)) {
    digits = digits.slice(2);
    radix = 16;
  } else if (digits.length > 1 && digits.startsWith('0')) {
    digits = digits.slice(1);
    radix = 8;
  }
  if (digits === '') return 0;
  const valid = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  if (!valid.test(digits)) return null;
  // Parts may exceed 2^53 in hostile input; anything that large is rejected below anyway.
  const value = parseInt(digits, radix);
  return Number.isFinite(value) ? value : null;
}

function parseWhatwgIpv4(host: string): string | null {
  const parts = host.split('.');
  if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
  if (parts.length > 4 || parts.length === 0) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = parseIpv4Part(part);
    if (n === null) return null;
    numbers.push(n);
  }
  const last = numbers.pop() ?? 0;
  if (numbers.some((n) => n > 255)) return null;
  if (last >= 256 ** (4 - numbers.length)) return null;
  let address = last;
  numbers.forEach((n, i) => {
    address += n * 256 ** (3 - i);
  });
  return [address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff].join('.');
}

/**
 * A hostname as it will be connected to: lower-cased, IPv6 brackets removed, and IPv4
 * literals in any WHATWG form ("2130706433", "0177.0.0.1", "0x7f.1") as a dotted quad.
 * Other names come back lower-cased and otherwise unchanged.
 */
export function normalizeHost(hostname: string): string {
  const host = stripBrackets(hostname.trim().toLowerCase());
  if (host.includes(':')) return host;
  if (endsInNumber(host)) return parseWhatwgIpv4(host) ?? host;
  return host;
}

/**
 * True when a URL's hostname is private without a DNS lookup: `localhost` and its
 * subdomains, a private IP literal, or a numeric-looking host that is not a valid IPv4
 * address (no public DNS name ends in a number, so it can only be a parser trick).
 */
export function isPrivateLiteralHost(hostname: string): boolean {
  const host = normalizeHost(hostname);
  if (host === '') return true;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(host) !== 0) return isPrivateAddress(host);
  if (host.includes(':') || endsInNumber(host)) return true;
  return false;
}

/** True when `hostname` is an IP literal (after normalisation), so no DNS lookup is needed. */
export function isIpLiteral(hostname: string): boolean {
  return isIP(normalizeHost(hostname)) !== 0;
}
