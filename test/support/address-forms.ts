/**
 * The contract's private-target table ("Security rules (v1.1)"), one row per form, shared by
 * the core unit test, the API's create-time test, the worker's resolved-address and
 * redirect-hop tests and the fuzz suite, so every layer is held to the same list.
 * `address` is as DNS would return it; `host` as a URL would carry it.
 */
export interface AddressForm {
  what: string;
  address: string;
}

export const REFUSED_ADDRESSES: readonly AddressForm[] = [
  { what: '0.0.0.0/8 this network', address: '0.0.0.0' },
  { what: '0.0.0.0/8, not the first', address: '0.1.2.3' },
  { what: '10/8', address: '10.1.2.3' },
  { what: '100.64/10 carrier-grade NAT', address: '100.64.0.1' },
  { what: '100.64/10, high end', address: '100.127.255.254' },
  { what: '127/8 loopback', address: '127.0.0.1' },
  { what: '127/8, anywhere', address: '127.9.9.9' },
  { what: '169.254/16 link-local (cloud metadata)', address: '169.254.169.254' },
  { what: '172.16/12', address: '172.16.0.1' },
  { what: '172.16/12, high end', address: '172.31.255.254' },
  { what: '192.0.0.0/24 IETF protocol assignments', address: '192.0.0.1' },
  { what: '192.0.0.0/24, high end', address: '192.0.0.254' },
  { what: '192.0.2.0/24 TEST-NET-1', address: '192.0.2.1' },
  { what: '192.168/16', address: '192.168.1.1' },
  { what: '198.18.0.0/15 benchmarking', address: '198.18.0.1' },
  { what: '198.18.0.0/15, high end', address: '198.19.255.254' },
  { what: '198.51.100.0/24 TEST-NET-2', address: '198.51.100.7' },
  { what: '203.0.113.0/24 TEST-NET-3', address: '203.0.113.9' },
  { what: '224/4 multicast', address: '224.0.0.1' },
  { what: '240/4 reserved', address: '240.0.0.1' },
  { what: '255.255.255.255 broadcast', address: '255.255.255.255' },
  { what: ':: unspecified', address: '::' },
  { what: '::1 loopback', address: '::1' },
  { what: 'fc00::/7 unique local', address: 'fc00::1' },
  { what: 'fc00::/7 (fd..)', address: 'fd12:3456::1' },
  { what: 'fe80::/10 link-local', address: 'fe80::1' },
  { what: 'fe80::/10 with a zone', address: 'fe80::1%eth0' },
  { what: 'fec0::/10 old site-local', address: 'fec0::1' },
  { what: 'ff00::/8 multicast', address: 'ff02::1' },
  { what: '100::/64 discard-only', address: '100::1' },
  { what: '100::/64, high end', address: '100::ffff:ffff:ffff:ffff' },
  { what: '2001:db8::/32 documentation', address: '2001:db8::1' },
  { what: '2001:db8::/32, high end', address: '2001:db8:ffff:ffff::1' },
  { what: '2001:2::/48 benchmarking', address: '2001:2::1' },
  { what: '3fff::/20 documentation', address: '3fff::1' },
  { what: '64:ff9b:1::/48 local-use NAT64', address: '64:ff9b:1::808:808' },
  { what: 'outside 2000::/3 global unicast', address: '4000::1' },
  { what: 'IPv4-mapped loopback', address: '::ffff:127.0.0.1' },
  { what: 'IPv4-mapped loopback, hex', address: '::ffff:7f00:1' },
  { what: 'IPv4-mapped metadata', address: '::ffff:a9fe:a9fe' },
  { what: 'IPv4-mapped 198.18/15', address: '::ffff:198.18.0.1' },
  { what: 'IPv4-compatible loopback', address: '::127.0.0.1' },
  { what: 'IPv4-compatible loopback, hex', address: '::7f00:1' },
  { what: 'IPv4-translated (SIIT) loopback', address: '::ffff:0:7f00:1' },
  { what: 'NAT64 64:ff9b::/96 loopback', address: '64:ff9b::7f00:1' },
  { what: 'NAT64 metadata', address: '64:ff9b::169.254.169.254' },
  { what: 'NAT64 192.0.2/24', address: '64:ff9b::c000:201' },
  { what: '6to4 metadata (2002:a9fe:a9fe::)', address: '2002:a9fe:a9fe::' },
  { what: '6to4 loopback', address: '2002:7f00:1::1' },
  { what: '6to4 192.168/16', address: '2002:c0a8:101::1' },
  { what: '6to4 198.18/15', address: '2002:c612:1::1' },
  { what: 'Teredo, server in 169.254/16', address: '2001:0:a9fe:a9fe::' },
  { what: 'Teredo, public server, client 10.0.0.1', address: '2001:0:808:808::f5ff:fffe' },
  { what: 'Teredo, RFC 4380 example (client 192.0.2.45)', address: '2001:0:4136:e378:8000:63bf:3fff:fdd2' },
];

export const PUBLIC_ADDRESSES: readonly AddressForm[] = [
  { what: 'public IPv4', address: '8.8.8.8' },
  { what: 'public IPv4', address: '93.184.216.34' },
  { what: 'just below 100.64/10', address: '100.63.255.255' },
  { what: 'just above 100.64/10', address: '100.128.0.1' },
  { what: 'just below 172.16/12', address: '172.15.255.255' },
  { what: 'just above 172.16/12', address: '172.32.0.1' },
  { what: 'just above 192.0.0/24', address: '192.0.1.1' },
  { what: 'just above 192.0.2/24', address: '192.0.3.1' },
  { what: 'just above 192.168/16', address: '192.169.0.1' },
  { what: 'just below 198.18/15', address: '198.17.255.255' },
  { what: 'just above 198.18/15', address: '198.20.0.1' },
  { what: 'just below 224/4', address: '223.255.255.254' },
  { what: 'public IPv6', address: '2606:4700::1' },
  { what: 'public IPv6', address: '2001:4860:4860::8888' },
  { what: 'IPv4-mapped public', address: '::ffff:8.8.8.8' },
  { what: 'IPv4-mapped public, hex', address: '::ffff:808:808' },
  { what: 'NAT64 public', address: '64:ff9b::808:808' },
  { what: '6to4 public', address: '2002:808:808::1' },
  { what: 'Teredo, public server and client 8.8.8.8', address: '2001:0:808:808::f7f7:f7f7' },
];

/** An address as the host of an http URL: IPv6 in brackets, zone ids cannot be written. */
export function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** Refused rows a URL can carry (a zone id cannot appear in a URL host). */
export const REFUSED_URL_HOSTS: readonly AddressForm[] = [
  ...REFUSED_ADDRESSES.filter((row) => !row.address.includes('%')).map((row) => ({ ...row, address: urlHost(row.address) })),
  { what: 'decimal loopback', address: '2130706433' },
  { what: 'octal loopback', address: '0177.0.0.1' },
  { what: 'hex loopback, short', address: '0x7f.1' },
  { what: 'decimal 198.18.0.1', address: '3323068417' },
  { what: 'trailing dot', address: '10.0.0.1.' },
  { what: 'localhost', address: 'localhost' },
  { what: 'a localhost subdomain', address: 'api.localhost' },
];
