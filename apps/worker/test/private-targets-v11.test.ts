import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { isPrivateAddress } from '@hooklane/core';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { REFUSED_ADDRESSES, REFUSED_URL_HOSTS } from '../../../test/support/address-forms.js';
import { attemptLog, createWorkerTestEnv, seedDelivery, waitForFinished, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

/**
 * Security rules (v1.1), private targets at delivery time: every range of the contract's
 * table as an address DNS returns, and as a redirect hop (literal, and a name resolving
 * into it). Names resolve in-process, so nothing leaves the machine.
 */

const nameOf = (index: number) => `r${index}.example.test`;
const HOSTS = new Map<string, string>(REFUSED_ADDRESSES.map((row, i) => [nameOf(i), row.address]));
HOSTS.set('ok.example.test', '127.0.0.1');

const testLookup: LookupFunction = (hostname, options, callback) => {
  const address = HOSTS.get(hostname);
  if (!address) {
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    return;
  }
  const list: LookupAddress[] = [{ address, family: isIP(address.split('%')[0]!) }];
  if (options.all) callback(null, list);
  else callback(null, address, list[0]!.family);
};

let env: WorkerTestEnv;
let worker: TestWorker;
let receiver: Receiver;

beforeAll(async () => {
  env = await createWorkerTestEnv('wprivatev11');
  worker = await startTestWorker({
    databaseUrl: env.database.url,
    prefix: env.prefix,
    env: { ALLOW_PRIVATE_TARGETS: 'false' },
    lookup: testLookup,
    // ok.example.test's 127.0.0.1 stands in for a public receiver; everything else is judged by core.
    isRefusedAddress: (address, hostname) => !(hostname === 'ok.example.test' && address === '127.0.0.1') && isPrivateAddress(address),
  });
  receiver = await startReceiver((req, res) => {
    const redirect = /^\/redirect\/(.+)$/.exec(req.path);
    if (redirect) res.writeHead(307, { Location: decodeURIComponent(redirect[1]!) }).end();
    else res.writeHead(200).end('ok');
  });
});

afterAll(async () => {
  await worker?.close();
  await receiver?.close();
  await env?.close();
});

/** Seeds every URL at once, then returns each first attempt's error (all must have failed without an answer). */
async function attemptErrors(urls: string[]): Promise<Array<string | null>> {
  const seeded = await Promise.all(urls.map((url) => seedDelivery(env, { url })));
  return Promise.all(
    seeded.map(async ({ deliveryId }) => {
      const delivery = await waitForFinished(env.db, deliveryId, 60_000);
      const [attempt] = await attemptLog(env.db, deliveryId);
      return delivery.status === 'failed' && attempt?.statusCode === null ? attempt.error : `delivered: ${delivery.status}`;
    }),
  );
}

describe('delivery time, ALLOW_PRIVATE_TARGETS=false', () => {
  it('refuses every resolved address of the table, before any request', async () => {
    const errors = await attemptErrors(REFUSED_ADDRESSES.map((_row, i) => `http://${nameOf(i)}:${receiver.port}/resolved`));
    expect(errors).toEqual(REFUSED_ADDRESSES.map((row) => `private address refused: ${row.address}`));
    expect(receiver.to('/resolved')).toHaveLength(0);
  });

  it('refuses a redirect hop to every literal form of the table', async () => {
    const paths = REFUSED_URL_HOSTS.map(({ address }) => `/redirect/${encodeURIComponent(`http://${address}:${receiver.port}/landing-literal`)}`);
    const errors = await attemptErrors(paths.map((path) => `http://ok.example.test:${receiver.port}${path}`));
    errors.forEach((error, i) => expect([REFUSED_URL_HOSTS[i]!.address, error]).toEqual([REFUSED_URL_HOSTS[i]!.address, expect.stringMatching(/^private address refused: /)]));
    for (const path of paths) expect(receiver.to(path)).toHaveLength(1);
    expect(receiver.to('/landing-literal')).toHaveLength(0);
  });

  it('refuses a redirect hop to a name resolving into every range of the table', async () => {
    const paths = REFUSED_ADDRESSES.map((_row, i) => `/redirect/${encodeURIComponent(`http://${nameOf(i)}:${receiver.port}/landing-name`)}`);
    const errors = await attemptErrors(paths.map((path) => `http://ok.example.test:${receiver.port}${path}`));
    expect(errors).toEqual(REFUSED_ADDRESSES.map((row) => `private address refused: ${row.address}`));
    expect(receiver.to('/landing-name')).toHaveLength(0);
  });
});
