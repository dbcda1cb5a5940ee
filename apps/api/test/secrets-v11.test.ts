import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { startReceiver, type Receiver } from '../../worker/test/receiver.js';

/** Security rules (v1.1): a `whsec_` secret is standard base64 of 16 to 64 bytes, so Standard Webhooks receivers can verify it. */

let api: TestApi;
let worker: TestWorker;
let receiver: Receiver;

beforeAll(async () => {
  api = await startTestApi('secretsv11');
  worker = await startTestWorker({ databaseUrl: api.database.url, prefix: api.prefix });
  receiver = await startReceiver();
});

afterAll(async () => {
  await worker?.close();
  await receiver?.close();
  await api?.close();
});

const whsec = (bytes: number) => `whsec_${randomBytes(bytes).toString('base64')}`;
const create = (secret: string, path = '/hook') =>
  request(api.app).post('/v1/webhooks').set(api.admin).send({ team_id: 4, url: `${receiver.origin}${path}`, events: ['*'], secret });

const MALFORMED: Array<[what: string, secret: string]> = [
  ['the probe\'s "whsec_!!!!****"', 'whsec_!!!!****'],
  ['the probe\'s "whsec_AA" (1 byte)', 'whsec_AA'],
  ['15 bytes', whsec(15)],
  ['65 bytes', whsec(65)],
  ['base64url alphabet', `whsec_${'-_'.repeat(12)}`],
  ['missing padding', whsec(16).replace(/=+$/, '')],
  ['whitespace inside', `whsec_${randomBytes(12).toString('base64')} ${randomBytes(12).toString('base64')}`],
  ['nothing after the prefix, padded to 8 characters', 'whsec_=='],
];

describe('whsec_ secrets', () => {
  it.each(MALFORMED)('refuses %s with a 400 naming secret, on create, PATCH and rotate', async (_what, secret) => {
    const res = await create(secret);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'secret', message: expect.stringContaining('base64') }]);

    const ok = await create(whsec(32));
    expect(ok.status).toBe(201);
    const patch = await request(api.app).patch(`/v1/webhooks/${ok.body.id}`).set(api.admin).send({ secret });
    expect(patch.status).toBe(400);
    const rotate = await request(api.app).post(`/v1/webhooks/${ok.body.id}/secret/rotate`).set(api.admin).send({ secret });
    expect(rotate.status).toBe(400);
    const stored = await request(api.app).get(`/v1/webhooks/${ok.body.id}/secret`).set(api.admin);
    expect(stored.body.secret).toBe(ok.body.secret);
  });

  it.each([16, 24, 32, 64])('accepts %i bytes', async (bytes) => {
    expect((await create(whsec(bytes))).status).toBe(201);
  });

  it('still accepts a plain secret that does not start with whsec_', async () => {
    expect((await create('a plain shared secret')).status).toBe(201);
  });

  it('a valid whsec_ secret verifies with the standardwebhooks package on a real delivery', async () => {
    const secret = whsec(32);
    const path = '/verify-standard';
    expect((await create(secret, path)).status).toBe(201);
    const emitted = await request(api.app).post('/v1/events').set(api.admin).send({ event: 'ping', team_id: 4, data: {} });
    expect(emitted.status).toBe(202);
    const deadline = Date.now() + 20_000;
    while (receiver.to(path).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const [delivery] = receiver.to(path);
    expect(delivery).toBeDefined();
    const headers = Object.fromEntries(Object.entries(delivery!.headers).map(([k, v]) => [k, String(v)]));
    const verified = new StandardWebhook(secret).verify(delivery!.body.toString('utf8'), headers) as { id: string };
    expect(verified.id).toBe(emitted.body.event_id);
    // And a different key does not verify it.
    expect(() => new StandardWebhook(whsec(32)).verify(delivery!.body.toString('utf8'), headers)).toThrow();
  });
});
