import { describe, it, expect } from '@jest/globals';
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { isPrivateAddress, isPrivateLiteralHost } from '../src/index.js';

/**
 * Fuzzing the private-address rules with the probe's address forms: every IPv4 address,
 * in every spelling and every IPv6 form that embeds it, must get the same answer, and that
 * answer must match an independent oracle (node:net BlockList over the IPv4 ranges the
 * contract and the IANA special-purpose registry list).
 */

const oracle = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
  // Special-purpose blocks ipaddr.js also sets apart (6to4 relay anycast, AS112, AMT): refused too, no receiver lives there.
  ['192.88.99.0', 24], ['192.31.196.0', 24], ['192.175.48.0', 24], ['192.52.193.0', 24],
] as const) oracle.addSubnet(net, bits, 'ipv4');

const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
// Half of the cases land in or next to a special range, where the boundaries are.
const nearRanges = fc.constantFrom(0, 10, 100, 127, 169, 172, 192, 198, 203, 223, 224, 239, 240, 255).chain((a) =>
  fc.tuple(fc.constant(a), fc.nat(255), fc.nat(255), fc.nat(255)),
);
const ipv4 = fc.oneof(octets, nearRanges);

const hex16 = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);

function embeddings([a, b, c, d]: number[]): string[] {
  const high = hex16(a!, b!);
  const low = hex16(c!, d!);
  const dotted = `${a}.${b}.${c}.${d}`;
  const obfuscated = `${(((a! << 8) | b!) ^ 0xffff).toString(16)}:${(((c! << 8) | d!) ^ 0xffff).toString(16)}`;
  return [
    `::ffff:${dotted}`,
    `::ffff:${high}:${low}`,
    `::ffff:0:${high}:${low}`,
    `64:ff9b::${dotted}`,
    `64:ff9b::${high}:${low}`,
    `2002:${high}:${low}::1`,
    `2002:${high}:${low}:ffff::abcd`,
    `2001:0:808:808::${obfuscated}`, // Teredo, public server, this client
    `2001:0:${high}:${low}::f7f7:f7f7`, // Teredo, this server, public client
  ];
}

function spellings([a, b, c, d]: number[]): string[] {
  const n = ((a! << 24) | (b! << 16) | (c! << 8) | d!) >>> 0;
  return [String(n), `0x${n.toString(16)}`, `0${a!.toString(8)}.${b}.${c}.0x${d!.toString(16)}`, `${a}.${(b! << 16) | (c! << 8) | d!}`, `${a}.${b}.${c}.${d}.`];
}

describe('private-address fuzz', () => {
  it('every IPv4 address agrees with the oracle, in every spelling and IPv6 embedding', () => {
    fc.assert(
      fc.property(ipv4, (parts) => {
        const dotted = parts.join('.');
        const refused = oracle.check(dotted, 'ipv4');
        expect([dotted, isPrivateAddress(dotted)]).toEqual([dotted, refused]);
        for (const form of embeddings(parts)) {
          expect([form, isPrivateAddress(form)]).toEqual([form, refused]);
          expect([form, isPrivateLiteralHost(`[${form}]`)]).toEqual([form, refused]);
        }
        for (const host of spellings(parts)) expect([host, isPrivateLiteralHost(host)]).toEqual([host, refused]);
      }),
      { numRuns: 800 },
    );
  });

  it('an IPv6 address outside global unicast 2000::/3 that embeds no IPv4 is refused', () => {
    const groups = fc.array(fc.nat(0xffff), { minLength: 7, maxLength: 7 });
    fc.assert(
      fc.property(fc.nat(0xffff), groups, (first, rest) => {
        const address = [first, ...rest].map((g) => g.toString(16)).join(':');
        const global = (first & 0xe000) === 0x2000;
        const embeds = first === 0 || first === 0x64 || first === 0x2002 || (first === 0x2001 && rest[0] === 0);
        if (!global && !embeds) expect([address, isPrivateAddress(address)]).toEqual([address, true]);
      }),
      { numRuns: 800 },
    );
  });

  it('never throws, and refuses whatever is not an address', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        expect(typeof isPrivateAddress(text)).toBe('boolean');
        expect(typeof isPrivateLiteralHost(text)).toBe('boolean');
        if (!/^[0-9a-fA-F:.[\]%a-zA-Z]*$/.test(text)) expect(isPrivateAddress(text)).toBe(true);
      }),
      { numRuns: 800 },
    );
  });
});
