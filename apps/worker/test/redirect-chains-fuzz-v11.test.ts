import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import type { LookupFunction } from 'node:net';
import fc from 'fast-check';
import { isPrivateAddress } from '@hooklane/core';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { REFUSED_URL_HOSTS } from '../../../test/support/address-forms.js';
import { attemptLog, createWorkerTestEnv, seedDelivery, selfSignedCertificate, waitForFinished, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type ReceivedRequest, type Receiver } from './receiver.js';

/**
 * Fuzzing redirects with the probe's inputs: random chains of up to 5 hops across two http
 * origins and an https one, with credentials in some targets and private addresses in
 * others. What each hop receives, and how the attempt ends, must match the contract's
 * rules ("Security rules (v1.1)") as modelled below.
 */

type Hop = { kind: 'origin'; origin: number } | { kind: 'credentials'; origin: number } | { kind: 'private'; host: string };

const NAMES = ['a.example.test', 'b.example.test', 's.example.test'];
const OWN = { Authorization: 'Bearer T-fuzz', 'X-Api-Key': 'K-fuzz' };

const lookup: LookupFunction = (hostname, options, callback) => {
  if (!NAMES.includes(hostname)) {
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    return;
  }
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

let env: WorkerTestEnv;
let worker: TestWorker;
const receivers: Receiver[] = [];
const chains = new Map<string, string[]>();
let nextChain = 0;

function chainHandler(req: ReceivedRequest, res: import('node:http').ServerResponse): void {
  const match = /^\/hop\/(c\d+)\/(\d+)$/.exec(req.path);
  const urls = match ? chains.get(match[1]!) : undefined;
  const next = urls?.[Number(match![2]) + 1];
  if (next) res.writeHead(307, { Location: next }).end();
  else res.writeHead(200).end('landed');
}

beforeAll(async () => {
  env = await createWorkerTestEnv('wchainsv11');
  worker = await startTestWorker({
    databaseUrl: env.database.url,
    prefix: env.prefix,
    env: { ALLOW_PRIVATE_TARGETS: 'false' },
    lookup,
    // The three test names stand in for public receivers; every other address is judged by core.
    isRefusedAddress: (address, hostname) => !(NAMES.includes(hostname) && address === '127.0.0.1') && isPrivateAddress(address),
  });
  receivers.push(await startReceiver(chainHandler), await startReceiver(chainHandler), await startReceiver(chainHandler, selfSignedCertificate()));
});

afterAll(async () => {
  await worker?.close();
  await Promise.all(receivers.map((r) => r.close()));
  await env?.close();
});

const scheme = (origin: number) => (origin === 2 ? 'https' : 'http');
const originOf = (origin: number) => `${scheme(origin)}://${NAMES[origin]}:${receivers[origin]!.port}`;

function hopUrl(hop: Hop, chain: string, index: number, previousOrigin: number): string {
  const path = `/hop/${chain}/${index}`;
  if (hop.kind === 'origin') return `${originOf(hop.origin)}${path}`;
  if (hop.kind === 'credentials') return `${scheme(hop.origin)}://user:pw@${NAMES[hop.origin]}:${receivers[hop.origin]!.port}${path}`;
  // Same scheme and port as the hop before, so only the address decides.
  return `${scheme(previousOrigin)}://${hop.host}:${receivers[previousOrigin]!.port}${path}`;
}

interface Expected {
  /** For each hop reached, its origin index and whether the webhook's own headers may be on it. */
  reached: Array<{ origin: number; ownHeaders: boolean }>;
  error: string | RegExp | null;
}

/** The contract's redirect rules, hop by hop. */
function model(start: number, hops: Hop[]): Expected {
  const reached = [{ origin: start, ownHeaders: true }];
  let previous = start;
  let stripped = false;
  for (const hop of hops) {
    if (hop.kind === 'credentials') return { reached, error: 'redirect target has credentials' };
    if (hop.kind === 'private') return { reached, error: /^private address refused: / };
    if (scheme(previous) === 'https' && scheme(hop.origin) === 'http') return { reached, error: 'redirect downgrade refused' };
    stripped ||= hop.origin !== previous;
    reached.push({ origin: hop.origin, ownHeaders: !stripped });
    previous = hop.origin;
  }
  return { reached, error: null };
}

const hopArb: fc.Arbitrary<Hop> = fc.oneof(
  { weight: 6, arbitrary: fc.nat(2).map((origin): Hop => ({ kind: 'origin', origin })) },
  { weight: 1, arbitrary: fc.nat(2).map((origin): Hop => ({ kind: 'credentials', origin })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...REFUSED_URL_HOSTS.map((row) => row.address)).map((host): Hop => ({ kind: 'private', host })),
  },
);

describe('redirect chains (fuzz)', () => {
  it('every hop gets what the rules allow, and the attempt ends as they say', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(2), fc.array(hopArb, { maxLength: 5 }), async (start, hops) => {
        const chain = `c${nextChain++}`;
        const urls = [`${originOf(start)}/hop/${chain}/0`];
        hops.forEach((hop, i) => {
          const previous = [...hops.slice(0, i)].reverse().find((h) => h.kind === 'origin') as { origin: number } | undefined;
          urls.push(hopUrl(hop, chain, i + 1, previous?.origin ?? start));
        });
        chains.set(chain, urls);
        const expected = model(start, hops);

        const seeded = await seedDelivery(env, {
          url: urls[0]!,
          webhook: { headers: OWN, rejectUnauthorized: false, followRedirect: true },
        });
        const delivery = await waitForFinished(env.db, seeded.deliveryId);
        const [attempt] = await attemptLog(env.db, seeded.deliveryId);

        if (expected.error === null) {
          expect(delivery.status).toBe('succeeded');
        } else {
          expect(delivery.status).toBe('failed');
          expect(attempt!.error).toEqual(typeof expected.error === 'string' ? expected.error : expect.stringMatching(expected.error));
        }
        const got = receivers.flatMap((r, origin) => r.requests.filter((q) => q.path.startsWith(`/hop/${chain}/`)).map((q) => ({ q, origin })));
        got.sort((x, y) => Number(x.q.path.split('/')[3]) - Number(y.q.path.split('/')[3]));
        expect(got.map(({ origin, q }) => ({ origin, ownHeaders: q.headers['x-api-key'] !== undefined || q.headers.authorization !== undefined }))).toEqual(
          expected.reached,
        );
        for (const { q } of got) {
          expect(q.body.equals(got[0]!.q.body)).toBe(true);
          expect(q.headers['webhook-signature']).toBe(got[0]!.q.headers['webhook-signature']);
        }
      }),
      { numRuns: 60 },
    );
  });
});
