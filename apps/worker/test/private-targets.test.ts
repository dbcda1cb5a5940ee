import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { isPrivateAddress } from '@hooklane/core';
import { PrivateAddressError } from '../src/errors.js';
import { createTargetGuard } from '../src/target-guard.js';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { attemptLog, createWorkerTestEnv, seedDelivery, waitForFinished, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

// Test names resolve here, never through real DNS: nothing leaves the machine.
const HOSTS: Record<string, string[]> = {
  'hooks.example.test': ['127.0.0.1'],
  'internal.example.test': ['10.0.0.1'],
  'ok.example.test': ['127.0.0.1'],
  'evil.example.test': ['127.0.0.2'],
  'split.example.test': ['127.0.0.1', '10.1.2.3'],
  // One name per private range, for the table below.
  'loopback.example.test': ['127.3.4.5'],
  'ten.example.test': ['10.200.0.1'],
  'one-seven-two.example.test': ['172.20.1.1'],
  'one-nine-two.example.test': ['192.168.0.10'],
  'metadata.example.test': ['169.254.169.254'],
  'cgnat.example.test': ['100.64.10.10'],
  'zero.example.test': ['0.0.0.0'],
  'v6-loopback.example.test': ['::1'],
  'v6-ula.example.test': ['fd00:ec2::254'],
  'v6-link-local.example.test': ['fe80::1234'],
  'v6-mapped.example.test': ['::ffff:10.0.0.1'],
};

const testLookup: LookupFunction = (hostname, options, callback) => {
  const addresses = HOSTS[hostname];
  if (!addresses) {
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    return;
  }
  const list: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) }));
  if (options.all) callback(null, list);
  else callback(null, list[0]!.address, list[0]!.family);
};

const STAND_IN_PUBLIC_HOSTS = new Set(['ok.example.test', 'split.example.test']);

let env: WorkerTestEnv;
let worker: TestWorker;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWorkerTestEnv('wprivate');
  worker = await startTestWorker({
    databaseUrl: env.database.url,
    prefix: env.prefix,
    env: { ALLOW_PRIVATE_TARGETS: 'false' },
    lookup: testLookup,
    // 127.0.0.1 stands in for a public address when reached as ok/split.example.test; every other private address is refused.
    isRefusedAddress: (address, hostname) =>
      !(STAND_IN_PUBLIC_HOSTS.has(hostname) && address === '127.0.0.1') && isPrivateAddress(address),
  });
  receiver = await startReceiver((req, res) => {
    const redirect = /^\/redirect\/(.+)$/.exec(req.path);
    if (redirect) {
      res.writeHead(302, { Location: decodeURIComponent(redirect[1]!) }).end();
    } else if (req.path === '/to-evil') {
      res.writeHead(302, { Location: `http://evil.example.test:${receiver.port}/landing` }).end();
    } else if (req.path === '/to-literal') {
      res.writeHead(307, { Location: `http://127.0.0.1:${receiver.port}/landing` }).end();
    } else {
      res.writeHead(200).end('ok');
    }
  });
});

afterAll(async () => {
  await worker?.close();
  await receiver?.close();
  await env?.close();
});

async function firstAttemptError(url: string): Promise<string | null> {
  const seeded = await seedDelivery(env, { url });
  const delivery = await waitForFinished(env.db, seeded.deliveryId);
  expect(delivery.status).toBe('failed');
  const [attempt] = await attemptLog(env.db, seeded.deliveryId);
  expect(attempt!.statusCode).toBeNull();
  return attempt!.error;
}

describe('private-address guard (ALLOW_PRIVATE_TARGETS=false)', () => {
  it('refuses a name that resolves to loopback, before any request', async () => {
    expect(await firstAttemptError(`http://hooks.example.test:${receiver.port}/direct`)).toBe('private address refused: 127.0.0.1');
    expect(receiver.to('/direct')).toHaveLength(0);
  });

  it('refuses a name that resolves to a private network address', async () => {
    expect(await firstAttemptError(`http://internal.example.test:${receiver.port}/internal`)).toBe('private address refused: 10.0.0.1');
  });

  it('refuses a name when any of its addresses is private', async () => {
    expect(await firstAttemptError(`http://split.example.test:${receiver.port}/split`)).toBe('private address refused: 10.1.2.3');
    expect(receiver.to('/split')).toHaveLength(0);
  });

  it('refuses IP-literal and localhost URLs', async () => {
    expect(await firstAttemptError(`http://127.0.0.1:${receiver.port}/literal`)).toBe('private address refused: 127.0.0.1');
    expect(await firstAttemptError(`http://0x7f.1:${receiver.port}/literal`)).toBe('private address refused: 127.0.0.1');
    expect(await firstAttemptError(`http://localhost:${receiver.port}/literal`)).toBe('private address refused: localhost');
    expect(receiver.to('/literal')).toHaveLength(0);
  });

  it('delivers to an allowed address', async () => {
    const seeded = await seedDelivery(env, { url: `http://ok.example.test:${receiver.port}/allowed` });
    expect((await waitForFinished(env.db, seeded.deliveryId)).status).toBe('succeeded');
    expect(receiver.to('/allowed')).toHaveLength(1);
  });

  it('checks every redirect hop: an allowed host redirecting to a private one is refused', async () => {
    expect(await firstAttemptError(`http://ok.example.test:${receiver.port}/to-evil`)).toBe('private address refused: 127.0.0.2');
    expect(await firstAttemptError(`http://ok.example.test:${receiver.port}/to-literal`)).toBe('private address refused: 127.0.0.1');
    expect(receiver.to('/to-evil')).toHaveLength(1);
    expect(receiver.to('/to-literal')).toHaveLength(1);
    expect(receiver.to('/landing')).toHaveLength(0);
  });
});

// Every private range, every spelling: refused through the real worker path with a clear
// attempt error, and no request made. Literal hosts are checked against the guard itself
// first, so a gap in it fails the test before the worker could send anything off the machine.
const LITERALS: Array<[what: string, host: string, refused: string]> = [
  ['loopback', '127.0.0.1', '127.0.0.1'],
  ['loopback, anywhere in 127/8', '127.9.9.9', '127.9.9.9'],
  ['10/8', '10.1.2.3', '10.1.2.3'],
  ['172.16/12, low end', '172.16.0.1', '172.16.0.1'],
  ['172.16/12, high end', '172.31.255.254', '172.31.255.254'],
  ['192.168/16', '192.168.1.1', '192.168.1.1'],
  ['169.254/16 (cloud metadata)', '169.254.169.254', '169.254.169.254'],
  ['100.64/10 (carrier-grade NAT)', '100.64.0.1', '100.64.0.1'],
  ['100.64/10, high end', '100.127.255.254', '100.127.255.254'],
  ['0.0.0.0', '0.0.0.0', '0.0.0.0'],
  ['::1', '[::1]', '::1'],
  ['fc00::/7', '[fc00::1]', 'fc00::1'],
  ['fc00::/7 (fd..)', '[fd12:3456::1]', 'fd12:3456::1'],
  ['fe80::/10', '[fe80::1]', 'fe80::1'],
  ['::ffff:127.0.0.1 (IPv4-mapped)', '[::ffff:127.0.0.1]', '::ffff:7f00:1'],
  ['::ffff:169.254.169.254 (IPv4-mapped metadata)', '[::ffff:169.254.169.254]', '::ffff:a9fe:a9fe'],
  ['decimal 2130706433', '2130706433', '127.0.0.1'],
  ['octal 0177.0.0.1', '0177.0.0.1', '127.0.0.1'],
  ['hex 0x7f000001', '0x7f000001', '127.0.0.1'],
  ['localhost', 'localhost', 'localhost'],
];

const NAMES: Array<[what: string, host: string, refused: string]> = [
  ['a name resolving to loopback', 'loopback.example.test', '127.3.4.5'],
  ['a name resolving into 10/8', 'ten.example.test', '10.200.0.1'],
  ['a name resolving into 172.16/12', 'one-seven-two.example.test', '172.20.1.1'],
  ['a name resolving into 192.168/16', 'one-nine-two.example.test', '192.168.0.10'],
  ['a name resolving to cloud metadata', 'metadata.example.test', '169.254.169.254'],
  ['a name resolving into 100.64/10', 'cgnat.example.test', '100.64.10.10'],
  ['a name resolving to 0.0.0.0', 'zero.example.test', '0.0.0.0'],
  ['a name resolving to ::1', 'v6-loopback.example.test', '::1'],
  ['a name resolving into fc00::/7', 'v6-ula.example.test', 'fd00:ec2::254'],
  ['a name resolving into fe80::/10', 'v6-link-local.example.test', 'fe80::1234'],
  ['a name resolving to an IPv4-mapped private address', 'v6-mapped.example.test', '::ffff:10.0.0.1'],
];

const REDIRECTS: Array<[what: string, location: string, refused: string]> = [
  ['a redirect to cloud metadata', 'http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
  ['a redirect to a decimal loopback', 'http://2130706433/', '127.0.0.1'],
  ['a redirect to [::1]', 'http://[::1]/', '::1'],
  ['a redirect to a name resolving into 10/8', 'http://ten.example.test/', '10.200.0.1'],
  ['a redirect to localhost', 'http://localhost/', 'localhost'],
];

describe('private-address guard: every range and spelling, through the worker', () => {
  const guard = createTargetGuard({ allowPrivateTargets: false });

  it.each(LITERALS)('refuses %s (%s)', async (_what, host, refused) => {
    const url = `http://${host}:${receiver.port}/literal-table`;
    expect(() => guard.checkUrl(new URL(url))).toThrow(PrivateAddressError);
    expect(await firstAttemptError(url)).toBe(`private address refused: ${refused}`);
    expect(receiver.to('/literal-table')).toHaveLength(0);
  });

  it.each(NAMES)('refuses %s (%s)', async (_what, host, refused) => {
    expect(await firstAttemptError(`http://${host}:${receiver.port}/name-table`)).toBe(`private address refused: ${refused}`);
    expect(receiver.to('/name-table')).toHaveLength(0);
  });

  it.each(REDIRECTS)('refuses %s', async (_what, location, refused) => {
    const target = new URL(location);
    if (isIP(target.hostname.replace(/^\[|\]$/g, '')) || target.hostname === 'localhost' || /^\d+$/.test(target.hostname)) {
      expect(() => guard.checkUrl(target)).toThrow(PrivateAddressError);
    }
    const path = `/redirect/${encodeURIComponent(location)}`;
    expect(await firstAttemptError(`http://ok.example.test:${receiver.port}${path}`)).toBe(`private address refused: ${refused}`);
    // The allowed first hop was made; the redirect was not followed.
    expect(receiver.to(path)).toHaveLength(1);
  });
});
