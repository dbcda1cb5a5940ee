import { describe, it, expect } from '@jest/globals';
import { isIpLiteral, isPrivateAddress, isPrivateLiteralHost, normalizeHost } from '../src/index.js';
import { PUBLIC_ADDRESSES, REFUSED_ADDRESSES, REFUSED_URL_HOSTS, urlHost } from '../../../test/support/address-forms.js';

describe('isPrivateAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['10.0.0.1', true],
    ['10.255.255.255', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.15.255.255', false],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['192.169.0.1', false],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['100.127.255.255', true],
    ['100.128.0.1', false],
    ['0.0.0.0', true],
    ['0.1.2.3', true],
    ['255.255.255.255', true],
    ['224.0.0.1', true],
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['93.184.216.34', false],
    ['::', true],
    ['::1', true],
    ['[::1]', true],
    ['fc00::1', true],
    ['fd12:3456:789a::1', true],
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['febf::1', true],
    ['ff02::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:10.1.2.3', true],
    ['::ffff:a9fe:a9fe', true],
    ['::127.0.0.1', true],
    ['::7f00:1', true],
    ['0:0:0:0:0:ffff:7f00:1', true],
    ['64:ff9b::7f00:1', true],
    ['::ffff:8.8.8.8', false],
    ['::ffff:808:808', false],
    ['2606:4700::1', false],
    ['2001:4860:4860::8888', false],
    ['', true],
    ['not an ip', true],
    ['example.com', true],
    ['127.1', true],
    ['999.1.1.1', true],
    ['1::2::3', true],
  ])('%s -> %s', (ip, expected) => {
    expect(isPrivateAddress(ip)).toBe(expected);
  });
});

describe('normalizeHost', () => {
  it.each([
    ['2130706433', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['0x7F000001', '127.0.0.1'],
    ['3232235777', '192.168.1.1'],
    ['[::1]', '::1'],
    ['[::FFFF:7F00:1]', '::ffff:7f00:1'],
    ['Example.COM', 'example.com'],
    ['8.8.8.8', '8.8.8.8'],
  ])('%s -> %s', (host, expected) => {
    expect(normalizeHost(host)).toBe(expected);
  });
});

describe('isPrivateLiteralHost', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['localhost.', true],
    ['api.localhost', true],
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['[::1]', true],
    ['[::ffff:127.0.0.1]', true],
    ['[fe80::1]', true],
    ['2130706433', true],
    ['0177.0.0.1', true],
    ['0x7f.1', true],
    ['1.2.3.999', true], // numeric but not a valid address: a parser trick, fail closed
    ['', true],
    ['example.com', false],
    ['hooks.example.com', false],
    ['localhost.example.com', false],
    ['8.8.8.8', false],
    ['134744072', false], // 8.8.8.8 in decimal
    ['[2606:4700::1]', false],
  ])('%s -> %s', (host, expected) => {
    expect(isPrivateLiteralHost(host)).toBe(expected);
  });

  it.each([
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://0x7f.0.0.1/',
    'http://127.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::1]:8080/hook',
    'http://localhost:3000/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1./',
  ])('catches %s through URL parsing', (url) => {
    expect(isPrivateLiteralHost(new URL(url).hostname)).toBe(true);
  });

  it('passes public URLs', () => {
    for (const url of ['https://example.com/hook', 'http://8.8.8.8/', 'https://[2606:4700::1]/x']) {
      expect(isPrivateLiteralHost(new URL(url).hostname)).toBe(false);
    }
  });

  it('tells IP literals from names', () => {
    expect(isIpLiteral('2130706433')).toBe(true);
    expect(isIpLiteral('[::1]')).toBe(true);
    expect(isIpLiteral('example.com')).toBe(false);
  });
});

// The contract's whole table (test/support/address-forms.ts), as DNS answers and as URL hosts.
describe('the v1.1 private-target table', () => {
  it.each(REFUSED_ADDRESSES)('refuses $what ($address)', ({ address }) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(PUBLIC_ADDRESSES)('allows $what ($address)', ({ address }) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it.each(REFUSED_URL_HOSTS)('refuses the URL host of $what ($address)', ({ address }) => {
    expect(isPrivateLiteralHost(new URL(`http://${address}:8080/x`).hostname)).toBe(true);
    expect(isPrivateLiteralHost(address)).toBe(true);
  });

  it.each(PUBLIC_ADDRESSES)('allows the URL host of $what ($address)', ({ address }) => {
    expect(isPrivateLiteralHost(new URL(`http://${urlHost(address)}/x`).hostname)).toBe(false);
  });
});
