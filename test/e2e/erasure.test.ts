import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../support/api.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

/**
 * Erasure against a real worker delivering to a real receiver: nothing reaches a receiver
 * after the erasure answers, nothing of the erased event or team is left in any table, and
 * other teams carry on untouched.
 */

interface Arrival {
  path: string;
  /** When the request's headers reached the receiver (before its body, so the earliest moment). */
  at: number;
}

let api: TestApi;
let worker: TestWorker;
let server: Server;
let origin: string;
const arrivals: Arrival[] = [];
// Paths answered 500 (their deliveries stay pending and retry); the rest 200 after a short wait.
const failing = new Set<string>();

const DATA = { job_id: 1, job_name: 'J', project_id: 2, dataset_id: 3, status: 'completed', completed_by: { user_id: 7, user_login: 'a' } };

beforeAll(async () => {
  api = await startTestApi('erasure');
  worker = await startTestWorker({ databaseUrl: api.database.url, prefix: api.prefix, env: { WORKER_CONCURRENCY: '20' } });
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    arrivals.push({ path, at: Date.now() });
    req.resume();
    req.on('end', () => {
      // A few milliseconds of "work", so attempts are in flight when the erasure lands.
      setTimeout(() => res.writeHead(failing.has(path) ? 500 : 200).end('ok'), 5 + Math.random() * 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await api?.close();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(50);
  }
}

async function webhook(team: number, path: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await request(api.app)
    .post('/v1/webhooks')
    .set(api.admin)
    .send({ team_id: team, url: `${origin}${path}`, events: ['labeling_job.completed'], ...extra });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function teamKey(team: number): Promise<{ Authorization: string }> {
  const res = await request(api.app).post('/v1/api-keys').set(api.admin).send({ team_id: team });
  expect(res.status).toBe(201);
  return { Authorization: `Bearer ${res.body.key}` };
}

async function emitBatch(team: number, n: number, auth = api.admin): Promise<string[]> {
  const events = Array.from({ length: n }, () => ({ event: 'labeling_job.completed', team_id: team, data: DATA }));
  const res = await request(api.app).post('/v1/events/batch').set(auth).send({ events });
  expect(res.status).toBe(202);
  return (res.body.results as Array<{ event_id: string }>).map((r) => r.event_id);
}

async function rowsOf(sql: string, params: unknown[]): Promise<number> {
  const rows = await api.deps.db.$queryRawUnsafe<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM (${sql}) x`, ...params);
  return rows[0]?.n ?? -1;
}

describe('DELETE /v1/events/:id', () => {
  it('cancels a retrying delivery, erases event, deliveries and attempt logs; nothing is sent afterwards', async () => {
    const team = 501;
    failing.add('/retrying');
    const hook = await webhook(team, '/retrying', { retries_delay: 1, retries_count: 10 });
    const [eventId] = await emitBatch(team, 1);
    await waitFor(() => arrivals.filter((a) => a.path === '/retrying').length >= 2);
    const event = await request(api.app).get(`/v1/events/${eventId}`).set(api.admin);
    const deliveryId = event.body.deliveries[0].id as string;
    expect(await rowsOf(`SELECT 1 FROM attempts WHERE delivery_id = $1`, [deliveryId])).toBeGreaterThan(0);

    const erased = await request(api.app).delete(`/v1/events/${eventId}`).set(api.admin);
    expect(erased.status).toBe(204);
    const answeredAt = Date.now();

    expect((await request(api.app).get(`/v1/events/${eventId}`).set(api.admin)).status).toBe(404);
    expect((await request(api.app).get(`/v1/deliveries/${deliveryId}`).set(api.admin)).status).toBe(404);
    expect((await request(api.app).delete(`/v1/events/${eventId}`).set(api.admin)).status).toBe(404);
    expect(await rowsOf(`SELECT 1 FROM events WHERE id = $1`, [eventId])).toBe(0);
    expect(await rowsOf(`SELECT 1 FROM deliveries WHERE event_id = $1`, [eventId])).toBe(0);
    expect(await rowsOf(`SELECT 1 FROM attempts WHERE delivery_id = $1`, [deliveryId])).toBe(0);
    // The retry was due every second: two more seconds would have brought two more.
    await sleep(2_500);
    expect(arrivals.filter((a) => a.path === '/retrying' && a.at > answeredAt)).toEqual([]);
    expect(hook).toMatch(/^wh_/);
  });

  it("is 404 for another team's event and for malformed ids; a team key erases its own", async () => {
    await webhook(502, '/own');
    const [own] = await emitBatch(502, 1);
    const [other] = await emitBatch(503, 1);
    const key = await teamKey(502);
    expect((await request(api.app).delete(`/v1/events/${other}`).set(key)).status).toBe(404);
    expect((await request(api.app).get(`/v1/events/${other}`).set(api.admin)).status).toBe(200);
    expect((await request(api.app).delete('/v1/events/nope').set(key)).status).toBe(404);
    expect((await request(api.app).delete(`/v1/events/${own}`).set(key)).status).toBe(204);
    expect((await request(api.app).get(`/v1/events/${own}`).set(key)).status).toBe(404);
    const res = await request(api.app).delete(`/v1/events/${own}`);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });
});

describe('DELETE /v1/teams/:team_id', () => {
  it('is admin only and checks team_id', async () => {
    const key = await teamKey(601);
    const forbidden = await request(api.app).delete('/v1/teams/601').set(key);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('forbidden');
    for (const bad of ['abc', '0', '-3', '1.5', '99999999999']) {
      const res = await request(api.app).delete(`/v1/teams/${bad}`).set(api.admin);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
    expect((await request(api.app).delete('/v1/teams/777777').set(api.admin)).body).toEqual({
      webhooks: 0, events: 0, deliveries: 0, api_keys: 0,
    });
  });

  it('under load: nothing arrives after the answer, nothing of the team is left, the other team is untouched', async () => {
    const [erased, kept] = [701, 702];
    const erasedPaths = ['/a1', '/a2', '/a3'];
    failing.add('/a3'); // a webhook with retries pending at erasure time
    const erasedHooks = await Promise.all(erasedPaths.map((p) => webhook(erased, p, { retries_delay: 1 })));
    const keptHook = await webhook(kept, '/b1');
    const erasedKey = await teamKey(erased);
    const keptKey = await teamKey(kept);
    await request(api.app).delete(`/v1/webhooks/${erasedHooks[1]}`).set(api.admin); // soft-deleted ones go too

    // A backlog for the erased team, and the kept team emitting all along.
    for (let i = 0; i < 6; i++) await emitBatch(erased, 100, erasedKey);
    let keepEmitting = true;
    const keptEvents: string[] = [];
    const keptLoop = (async () => {
      while (keepEmitting) {
        keptEvents.push(...(await emitBatch(kept, 20, keptKey)));
        await sleep(20);
      }
    })();
    let res: request.Response;
    let startedAt: number;
    let answeredAt: number;
    let inFlightBefore: number;
    try {
      await waitFor(() => arrivals.filter((a) => erasedPaths.includes(a.path)).length >= 100);
      inFlightBefore = arrivals.filter((a) => erasedPaths.includes(a.path)).length;
      startedAt = Date.now();
      res = await request(api.app).delete(`/v1/teams/${erased}`).set(api.admin);
      answeredAt = Date.now();
      await sleep(2_000);
    } finally {
      keepEmitting = false;
      await keptLoop;
    }
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ webhooks: 3, events: 600, deliveries: expect.any(Number), api_keys: 1 });
    // The deleted webhook's deliveries were cancelled with it, so it made none; all of it is counted.
    expect(res.body.deliveries).toBe(1200);

    const late = arrivals.filter((a) => erasedPaths.includes(a.path) && a.at > answeredAt);
    console.log(`team erasure: answered in ${answeredAt - startedAt} ms; ${inFlightBefore} of 1200 deliveries had reached receivers; ${late.length} arrived after the answer`);
    expect(late).toEqual([]);
    expect(inFlightBefore).toBeLessThan(1200);

    // Nothing of the team in any table; no attempt left without its delivery.
    expect(await rowsOf(`SELECT 1 FROM webhooks WHERE team_id = $1`, [erased])).toBe(0);
    expect(await rowsOf(`SELECT 1 FROM events WHERE team_id = $1`, [erased])).toBe(0);
    expect(await rowsOf(`SELECT 1 FROM deliveries WHERE team_id = $1 OR webhook_id = ANY($2::text[])`, [erased, erasedHooks])).toBe(0);
    expect(await rowsOf(`SELECT 1 FROM api_keys WHERE team_id = $1`, [erased])).toBe(0);
    expect(await rowsOf(`SELECT 1 FROM attempts a LEFT JOIN deliveries d ON d.id = a.delivery_id WHERE d.id IS NULL`, [])).toBe(0);
    expect((await request(api.app).get('/v1/webhooks').set(erasedKey)).status).toBe(401);
    for (const id of erasedHooks) expect((await request(api.app).get(`/v1/webhooks/${id}`).set(api.admin)).status).toBe(404);

    // The kept team: its key works and every one of its events is delivered.
    expect((await request(api.app).get(`/v1/webhooks/${keptHook}`).set(keptKey)).status).toBe(200);
    await waitFor(async () => (await rowsOf(`SELECT 1 FROM deliveries WHERE webhook_id = $1 AND status = 'succeeded'`, [keptHook])) === keptEvents.length, 30_000);
    expect(await rowsOf(`SELECT 1 FROM events WHERE team_id = $1`, [kept])).toBe(keptEvents.length);

    expect((await request(api.app).delete(`/v1/teams/${erased}`).set(api.admin)).body).toEqual({
      webhooks: 0, events: 0, deliveries: 0, api_keys: 0,
    });
  }, 90_000);
});
