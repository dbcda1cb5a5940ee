import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../support/api.js';
import { startTestWorker, type TestWorker } from '../support/worker.js';

/**
 * The contract's test ping is "one signed delivery now" and waits in no line: a webhook whose
 * slots are all held by a slow backlog still answers its ping before that backlog drains.
 */

const TEAM = 61;
const BACKLOG = 12;
const SLOW_MS = 1_500;
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
let backlogAnswered = 0;

beforeAll(async () => {
  api = await startTestApi('pingbacklog');
  worker = await startTestWorker({ databaseUrl: api.database.url, prefix: api.prefix, env: { MAX_IN_FLIGHT_PER_WEBHOOK: '2' } });
  // Pings are answered at once; every other delivery holds its slot for SLOW_MS.
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.headers['x-webhook-event'] === 'ping') return res.writeHead(200).end('pong');
      setTimeout(() => {
        backlogAnswered += 1;
        res.writeHead(200).end('ok');
      }, SLOW_MS);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await worker?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await api?.close();
});

describe('POST /v1/webhooks/:id/test behind a backlog', () => {
  it('is attempted at once, not after the deliveries waiting in its webhook line', async () => {
    const created = await request(api.app)
      .post('/v1/webhooks')
      .set(api.admin)
      .send({ team_id: TEAM, url: `${origin}/slow`, events: ['labeling_job.completed'] });
    expect(created.status).toBe(201);
    const batch = await request(api.app)
      .post('/v1/events/batch')
      .set(api.admin)
      .send({ events: Array.from({ length: BACKLOG }, () => ({ event: 'labeling_job.completed', team_id: TEAM, data: JOB_DATA })) });
    expect(batch.status).toBe(202);

    const ping = await request(api.app).post(`/v1/webhooks/${created.body.id}/test`).set(api.admin).send({});
    expect(ping.status).toBe(200);
    expect(ping.body).toMatchObject({ success: true, status_code: 200, response_body: 'pong' });
    // Two slots, each held SLOW_MS per delivery: the backlog takes BACKLOG / 2 rounds, and the
    // ping came back while most of it was still waiting in line.
    expect(backlogAnswered).toBeLessThan(BACKLOG / 2);
  }, 60_000);
});
