import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isPrivateAddress } from '@hooklane/core';
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
};

const testLookup: LookupFunction = (hostname, options, callback) => {
  const addresses = HOSTS[hostname];
  if (!addresses) {
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    return;
  }
  const list: LookupAddress[] = addresses.map((address) => ({ address, family: 4 }));
  if (options.all) callback(null, list);
  else callback(null, list[0]!.address, 4);
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
    if (req.path === '/to-evil') {
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
