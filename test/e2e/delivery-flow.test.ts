import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import request from 'supertest';
import { startTestApi, type TestApi } from '../support/api.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

/**
 * The whole path a user relies on: API in, real worker, real HTTP receiver on 127.0.0.1,
 * and back through the API to inspect, replay and recover.
 */

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let api: TestApi;
let worker: TestWorker;
let server: Server;
let origin: string;
const received: Received[] = [];
// Per path: the status the receiver answers with (default 200).
const statusFor = new Map<string, number>();
const failOnceLeft = new Map<string, number>();

// Each test works in a team of its own, so its events reach only its own webhooks.
let team = 20;
const JOB_DATA = {
  job_id: 789,
  job_name: 'Labeling Job #1',
  project_id: 456,
  dataset_id: 234,
  status: 'completed',
  completed_by: { user_id: 7, user_login: 'annotator' },
};

beforeAll(async () => {
  api = await startTestApi('e2eflow');
  worker = await startTestWorker({ databaseUrl: api.database.url, prefix: api.prefix });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const left = failOnceLeft.get(path) ?? 0;
      if (left > 0) failOnceLeft.set(path, left - 1);
      const status = left > 0 ? 500 : (statusFor.get(path) ?? 200);
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status < 300 ? `thanks from ${path}` : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  team += 1;
});

afterAll(async () => {
  await worker?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await api?.close();
});

async function createWebhook(body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await request(api.app)
    .post('/v1/webhooks')
    .set(api.admin)
    .send({ team_id: team, events: ['labeling_job.completed'], ...body });
  expect(res.status).toBe(201);
  return { id: res.body.id, secret: res.body.secret };
}

async function emit(extra: Record<string, unknown> = {}): Promise<string> {
  const res = await request(api.app)
    .post('/v1/events')
    .set(api.admin)
    .send({ event: 'labeling_job.completed', team_id: team, data: JOB_DATA, ...extra });
  expect(res.status).toBe(202);
  return res.body.event_id as string;
}

async function deliveryOf(eventId: string, webhookId: string): Promise<string> {
  const res = await request(api.app).get(`/v1/events/${eventId}`).set(api.admin);
  const found = (res.body.deliveries as Array<{ id: string; webhook_id: string }>).find((d) => d.webhook_id === webhookId);
  if (!found) throw new Error(`no delivery of ${eventId} to ${webhookId}`);
  return found.id;
}

/** Polls the API until the delivery is no longer pending. */
async function settled(deliveryId: string, timeoutMs = 20_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(api.app).get(`/v1/deliveries/${deliveryId}`).set(api.admin);
    expect(res.status).toBe(200);
    if (res.body.status !== 'pending') return res.body;
    if (Date.now() > deadline) throw new Error(`delivery ${deliveryId} still pending`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function to(path: string): Received[] {
  return received.filter((r) => r.path === path);
}

function standardHeaders(req: Received): Record<string, string> {
  return {
    'webhook-id': String(req.headers['webhook-id']),
    'webhook-timestamp': String(req.headers['webhook-timestamp']),
    'webhook-signature': String(req.headers['webhook-signature']),
  };
}

describe('an emitted event', () => {
  it('reaches its receiver signed, and the delivery shows the attempt', async () => {
    const hook = await createWebhook({ url: `${origin}/signed` });
    const eventId = await emit({ project_id: 456, sender: { login: 'annotator' } });
    const delivery = await settled(await deliveryOf(eventId, hook.id));

    expect(delivery).toMatchObject({
      webhook_id: hook.id,
      event_id: eventId,
      event: 'labeling_job.completed',
      status: 'succeeded',
      attempts: 1,
      last_status_code: 200,
    });
    expect(delivery.attempt_log).toEqual([
      {
        attempt: 1,
        started_at: expect.any(String),
        duration_ms: expect.any(Number),
        status_code: 200,
        response_body: 'thanks from /signed',
        error: null,
      },
    ]);

    const [got] = to('/signed');
    expect(got).toBeDefined();
    const verified = new StandardWebhook(hook.secret).verify(got!.body, standardHeaders(got!));
    expect(verified).toEqual({
      id: eventId,
      event: 'labeling_job.completed',
      timestamp: expect.any(String),
      team_id: team,
      project_id: 456,
      webhook_id: hook.id,
      data: JOB_DATA,
      sender: { login: 'annotator' },
    });
    expect(got!.headers['x-webhook-delivery']).toBe(delivery.id);
    expect(() => new StandardWebhook(hook.secret).verify(got!.body.replace('789', '780'), standardHeaders(got!))).toThrow();
  });

  it('can be redelivered as a new delivery that arrives again', async () => {
    const hook = await createWebhook({ url: `${origin}/again` });
    const eventId = await emit();
    const original = await settled(await deliveryOf(eventId, hook.id));

    const res = await request(api.app).post(`/v1/deliveries/${original.id}/redeliver`).set(api.admin);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ webhook_id: hook.id, event_id: eventId, event: 'labeling_job.completed', status: 'pending', attempts: 0 });
    expect(res.body.id).not.toBe(original.id);

    const again = await settled(res.body.id);
    expect(again.status).toBe('succeeded');
    const requests = to('/again');
    expect(requests).toHaveLength(2);
    expect(requests.map((r) => r.headers['webhook-id'])).toEqual([eventId, eventId]);
    expect(requests[1]!.headers['x-webhook-delivery']).toBe(res.body.id);
    // The original is untouched.
    expect((await settled(original.id)).attempts).toBe(1);
    const event = await request(api.app).get(`/v1/events/${eventId}`).set(api.admin);
    expect(event.body.deliveries.map((d: { id: string }) => d.id)).toEqual([original.id, res.body.id]);
  });

  it('keeps every attempt of a retried delivery in its attempt_log, in order', async () => {
    failOnceLeft.set('/flaky', 1);
    const hook = await createWebhook({ url: `${origin}/flaky`, retries_count: 2, retries_delay: 0 });
    const delivery = await settled(await deliveryOf(await emit(), hook.id));
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2, last_status_code: 200 });
    expect(delivery.attempt_log.map((a: { attempt: number; status_code: number; response_body: string }) => [a.attempt, a.status_code, a.response_body])).toEqual([
      [1, 500, 'nope'],
      [2, 200, 'thanks from /flaky'],
    ]);
  });
});

describe('POST /v1/webhooks/:id/test', () => {
  it('pings with {"webhook": ...} by default, signed, and reports the answer', async () => {
    // Subscribed to another type only: a ping is always allowed.
    const hook = await createWebhook({ url: `${origin}/ping` });
    const res = await request(api.app).post(`/v1/webhooks/${hook.id}/test`).set(api.admin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      delivery_id: expect.stringMatching(/^dlv_/),
      success: true,
      status_code: 200,
      response_body: 'thanks from /ping',
      duration_ms: expect.any(Number),
      error: null,
    });
    const [got] = to('/ping');
    const body = new StandardWebhook(hook.secret).verify(got!.body, standardHeaders(got!)) as Record<string, any>;
    expect(body.event).toBe('ping');
    expect(body.data.webhook).toMatchObject({ id: hook.id, url: `${origin}/ping`, team_id: team });
    expect(body.data.webhook).not.toHaveProperty('secret');
    expect(got!.headers['x-webhook-event']).toBe('ping');
    expect(got!.headers['x-webhook-delivery']).toBe(res.body.delivery_id);
  });

  it('sends the payload given as data', async () => {
    const hook = await createWebhook({ url: `${origin}/ping-payload` });
    const res = await request(api.app)
      .post(`/v1/webhooks/${hook.id}/test`)
      .set(api.admin)
      .send({ payload: { hello: 'world', n: [1, 2] } });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    const [got] = to('/ping-payload');
    expect(JSON.parse(got!.body).data).toEqual({ hello: 'world', n: [1, 2] });
  });

  it('reports a failing receiver as success false, once, without retries', async () => {
    statusFor.set('/broken', 500);
    const hook = await createWebhook({ url: `${origin}/broken`, retries_count: 5, retries_delay: 0 });
    const res = await request(api.app).post(`/v1/webhooks/${hook.id}/test`).set(api.admin).send({});
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: false, status_code: 500, response_body: 'nope' });
    const delivery = await settled(res.body.delivery_id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1 });
    expect(to('/broken')).toHaveLength(1);
  });

  it('reports a refused connection with its error and no status code', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const hook = await createWebhook({ url: `http://127.0.0.1:${port}/gone` });
    const res = await request(api.app).post(`/v1/webhooks/${hook.id}/test`).set(api.admin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: false, status_code: null, response_body: null });
    expect(res.body.error).toMatch(/ECONNREFUSED/);
  });
});

describe('POST /v1/webhooks/:id/recover', () => {
  it('sends again the deliveries that failed since the given time, once', async () => {
    statusFor.set('/recover', 503);
    const hook = await createWebhook({ url: `${origin}/recover`, retries_count: 0 });
    const since = new Date(Date.now() - 1000).toISOString();
    const events = [await emit({ data: { ...JOB_DATA, job_id: 1 } }), await emit({ data: { ...JOB_DATA, job_id: 2 } })];
    const failed = await Promise.all(events.map(async (e) => settled(await deliveryOf(e, hook.id))));
    expect(failed.map((d) => d.status)).toEqual(['failed', 'failed']);

    statusFor.set('/recover', 200);
    const res = await request(api.app).post(`/v1/webhooks/${hook.id}/recover`).set(api.admin).send({ since });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ count: 2 });

    for (const eventId of events) {
      const event = await request(api.app).get(`/v1/events/${eventId}`).set(api.admin);
      const statuses = await Promise.all(event.body.deliveries.map(async (d: { id: string }) => (await settled(d.id)).status));
      expect(statuses).toEqual(['failed', 'succeeded']);
    }
    const delivered = to('/recover').slice(-2).map((r) => JSON.parse(r.body).data.job_id as number);
    expect(delivered.sort()).toEqual([1, 2]);

    // Nothing is left to recover: a second call sends nothing twice.
    const second = await request(api.app).post(`/v1/webhooks/${hook.id}/recover`).set(api.admin).send({ since });
    expect(second.body).toEqual({ count: 0 });
  });
});

describe('GET /v1/webhooks/:id/deliveries', () => {
  it('pages through deliveries newest first, and filters by status', async () => {
    const hook = await createWebhook({ url: `${origin}/list` });
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push(await deliveryOf(await emit({ data: { ...JOB_DATA, job_id: n } }), hook.id));
    await Promise.all(ids.map((id) => settled(id)));

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await request(api.app)
        .get(`/v1/webhooks/${hook.id}/deliveries`)
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(api.admin);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((d: { id: string }) => d.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());

    const succeeded = await request(api.app).get(`/v1/webhooks/${hook.id}/deliveries?status=succeeded`).set(api.admin);
    expect(succeeded.body.data).toHaveLength(5);
    expect(succeeded.body.data[0]).toMatchObject({ id: ids[4], status: 'succeeded', attempts: 1, last_status_code: 200 });
    const failed = await request(api.app).get(`/v1/webhooks/${hook.id}/deliveries?status=failed`).set(api.admin);
    expect(failed.body).toEqual({ data: [], next_cursor: null });
  });
});
