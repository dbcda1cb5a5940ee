import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../support/api.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

/**
 * "One signed delivery of event ping now": a test ping waits in no line. Here the webhook's
 * slots are all held by a slow receiver with a backlog that would take minutes to drain; a
 * ping queued behind it would time out (504), a ping outside the line is answered at once.
 */

const TEAM = 71;
const BACKLOG = 2_000;
const SLOW_MS = 2_000;
const WEBHOOK_TIMEOUT_S = 5;
const JOB_DATA = {
  job_id: 789,
  job_name: 'Labeling Job #1',
  project_id: 456,
  dataset_id: 234,
  status: 'completed',
  completed_by: { user_id: 7, user_login: 'annotator' },
};

let api: TestApi;
let worker: TestWorker;
let server: Server;
let origin: string;
let slowSeen = 0;
let pingSeen = 0;
const pending = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  api = await startTestApi('e2epingline');
  worker = await startTestWorker({
    databaseUrl: api.database.url,
    prefix: api.prefix,
    env: { MAX_IN_FLIGHT_PER_WEBHOOK: '4', WORKER_CONCURRENCY: '10', SHUTDOWN_GRACE_MS: '1000' },
  });
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.headers['x-webhook-event'] === 'ping') {
        pingSeen++;
        res.writeHead(200).end('pong');
        return;
      }
      slowSeen++;
      const timer = setTimeout(() => {
        pending.delete(timer);
        res.writeHead(200).end('slow ok');
      }, SLOW_MS);
      pending.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await worker?.close();
  for (const timer of pending) clearTimeout(timer);
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await api?.close();
});

describe('a test ping to a webhook with a large backlog held by a slow receiver', () => {
  it('is answered within the webhook timeout, outside the line', async () => {
    const hook = await request(api.app)
      .post('/v1/webhooks')
      .set(api.admin)
      .send({ team_id: TEAM, url: `${origin}/hook`, events: ['labeling_job.completed'], timeout: WEBHOOK_TIMEOUT_S });
    expect({ status: hook.status, body: hook.status === 201 ? null : hook.body }).toEqual({ status: 201, body: null });
    for (let sent = 0; sent < BACKLOG; sent += 1000) {
      const events = Array.from({ length: 1000 }, (_, i) => ({ event: 'labeling_job.completed', team_id: TEAM, data: { ...JOB_DATA, job_id: sent + i } }));
      const res = await request(api.app).post('/v1/events/batch').set(api.admin).send({ events });
      expect(res.status).toBe(202);
      expect(res.body.results.filter((r: { deliveries?: number }) => r.deliveries === 1)).toHaveLength(1000);
    }
    // The slow receiver now holds every slot of the webhook.
    const deadline = Date.now() + 20_000;
    while (slowSeen === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(slowSeen).toBeGreaterThan(0);

    const started = Date.now();
    const res = await request(api.app).post(`/v1/webhooks/${hook.body.id}/test`).set(api.admin);
    const tookMs = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, status_code: 200, response_body: 'pong' });
    expect(pingSeen).toBe(1);
    expect(tookMs).toBeLessThan(WEBHOOK_TIMEOUT_S * 1000);
    // The backlog is still there: the ping went past it, not after it.
    const left = await api.deps.db.delivery.count({ where: { webhookId: hook.body.id, status: 'pending' } });
    expect(left).toBeGreaterThan(BACKLOG / 2);
  }, 60_000);
});
