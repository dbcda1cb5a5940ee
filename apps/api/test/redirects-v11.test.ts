import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { selfSignedCertificate } from '../../worker/test/fixtures.js';
import { startReceiver, type Receiver } from '../../worker/test/receiver.js';

/**
 * Security rules (v1.1), redirects, with a real receiver pair: the first answers with a
 * redirect, the second (another origin: another port, or another scheme) records what it got.
 */

let api: TestApi;
let worker: TestWorker;
let first: Receiver;
let second: Receiver;
let secure: Receiver;
let team = 100;

const OWN_HEADERS = { Authorization: 'Bearer T-receiver-token', 'X-Api-Key': 'K-api-key-value', Cookie: 'session=C-cookie', 'X-Custom': 'anything' };
const OWN_VALUES = Object.values(OWN_HEADERS);
const SERVICE_HEADERS = [
  'content-type',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-signature-256',
  'x-hub-signature',
  'x-webhook-event',
  'x-webhook-delivery',
  'x-webhook-attempt',
];

/** `/to?<url>` answers 307 to that URL; anything else 200. */
const redirecting = (req: { path: string }, res: import('node:http').ServerResponse) => {
  const at = req.path.indexOf('?');
  if (req.path.startsWith('/to?')) res.writeHead(307, { Location: decodeURIComponent(req.path.slice(at + 1)) }).end();
  else res.writeHead(200).end('landed');
};

beforeAll(async () => {
  api = await startTestApi('redirectsv11');
  worker = await startTestWorker({ databaseUrl: api.database.url, prefix: api.prefix });
  first = await startReceiver(redirecting);
  second = await startReceiver(redirecting);
  secure = await startReceiver(redirecting, selfSignedCertificate());
});

afterAll(async () => {
  await worker?.close();
  await Promise.all([first?.close(), second?.close(), secure?.close()]);
  await api?.close();
});

const via = (receiver: Receiver, target: string) => `${receiver.origin}/to?${encodeURIComponent(target)}`;

async function ping(url: string, payload?: object) {
  team += 1;
  const created = await request(api.app)
    .post('/v1/webhooks')
    .set(api.admin)
    .send({ team_id: team, url, events: ['*'], headers: OWN_HEADERS, reject_unauthorized: false });
  expect(created.status).toBe(201);
  const res = await request(api.app).post(`/v1/webhooks/${created.body.id}/test`).set(api.admin).send(payload ? { payload } : {});
  expect(res.status).toBe(200);
  return res.body as { success: boolean; status_code: number | null; error: string | null };
}

describe('a redirect to another origin', () => {
  it('carries the body and the service headers, and none of the webhook\'s own headers', async () => {
    const result = await ping(via(first, `${second.origin}/cross-origin`), { n: 1 });
    expect(result).toMatchObject({ success: true, status_code: 200, error: null });
    const [hop] = first.requests.slice(-1);
    const [landed] = second.to('/cross-origin');
    expect(hop!.headers['x-api-key']).toBe('K-api-key-value');
    expect(landed!.body.equals(hop!.body)).toBe(true);
    for (const name of SERVICE_HEADERS) expect([name, landed!.headers[name]]).toEqual([name, hop!.headers[name]]);
    for (const name of Object.keys(OWN_HEADERS)) expect([name, landed!.headers[name.toLowerCase()]]).toEqual([name, undefined]);
    expect(JSON.stringify(landed!.headers)).not.toMatch(/T-receiver-token|K-api-key-value|C-cookie/);
  });

  it('and back again: once stripped, the own headers stay off for the rest of the chain', async () => {
    const back = `${first.origin}/back-home`;
    const result = await ping(via(first, via(second, back)), { n: 2 });
    expect(result.success).toBe(true);
    const [landed] = first.to('/back-home');
    for (const name of Object.keys(OWN_HEADERS)) expect(landed!.headers[name.toLowerCase()]).toBeUndefined();
  });

  it('a redirect within the same origin keeps them', async () => {
    const result = await ping(via(first, `${first.origin}/same-origin`), { n: 3 });
    expect(result.success).toBe(true);
    expect(first.to('/same-origin')[0]!.headers['x-api-key']).toBe('K-api-key-value');
  });

  it('an https to http redirect is not followed: "redirect downgrade refused"', async () => {
    const result = await ping(via(secure, `${second.origin}/downgraded`), { n: 4 });
    expect(result).toMatchObject({ success: false, status_code: null, error: 'redirect downgrade refused' });
    expect(second.to('/downgraded')).toHaveLength(0);
  });

  it.each([
    ['another origin', () => `http://user:pass@127.0.0.1:${second.port}/with-credentials`],
    ['the same origin', () => `http://user:pass@127.0.0.1:${first.port}/with-credentials`],
    ['a user name only', () => `http://user@127.0.0.1:${second.port}/with-credentials`],
  ])('a redirect target with credentials (%s) is refused: "redirect target has credentials"', async (_what, target) => {
    const result = await ping(via(first, target()), { n: 5 });
    expect(result).toMatchObject({ success: false, status_code: null, error: 'redirect target has credentials' });
    expect(first.to('/with-credentials')).toHaveLength(0);
    expect(second.to('/with-credentials')).toHaveLength(0);
  });
});

describe('the test ping\'s default data', () => {
  it('names the webhook\'s headers with null values, so a redirect target never reads them', async () => {
    const result = await ping(via(first, `${second.origin}/ping-default`));
    expect(result.success).toBe(true);
    const [landed] = second.to('/ping-default');
    const body = JSON.parse(landed!.body.toString('utf8'));
    expect(body.event).toBe('ping');
    expect(body.data.webhook.headers).toEqual({ Authorization: null, 'X-Api-Key': null, Cookie: null, 'X-Custom': null });
    expect(body.data.webhook.url).toBe(via(first, `${second.origin}/ping-default`));
    for (const value of OWN_VALUES) {
      expect(landed!.body.toString('utf8')).not.toContain(value);
      expect(first.requests.at(-1)!.body.toString('utf8')).not.toContain(value);
    }
  });
});
