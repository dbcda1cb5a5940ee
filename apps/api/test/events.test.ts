import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb } from '@hooklane/db';
import { createDeliveryQueues, createRedisConnection, deliverJobId } from '@hooklane/queue';
import request from 'supertest';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.js';
import { buildAppDeps, type ServiceDeps } from '../src/deps.js';
import { startTestApi, type TestApi } from '../../../test/support/api.js';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';

let api: TestApi;
const keys: Record<number, { Authorization: string }> = {};
const NOWHERE = 'http://127.0.0.1:9/hook'; // no worker runs in this file: nothing is sent

const JOB_DATA = {
  job_id: 789,
  job_name: 'Labeling Job #1',
  project_id: 456,
  dataset_id: 234,
  status: 'completed',
  completed_by: { user_id: 7, user_login: 'annotator' },
};

async function teamKey(team: number) {
  if (!keys[team]) {
    const res = await request(api.app).post('/v1/api-keys').set(api.admin).send({ team_id: team });
    expect(res.status).toBe(201);
    keys[team] = { Authorization: `Bearer ${res.body.key}` };
  }
  return keys[team];
}

async function webhook(body: Record<string, unknown>): Promise<string> {
  const res = await request(api.app).post('/v1/webhooks').set(api.admin).send({ url: NOWHERE, events: ['*'], ...body });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

function emit(body: Record<string, unknown>, auth = api.admin, headers: Record<string, string> = {}) {
  return request(api.app).post('/v1/events').set(auth).set(headers).send(body);
}

async function deliveredTo(eventId: string): Promise<string[]> {
  const res = await request(api.app).get(`/v1/events/${eventId}`).set(api.admin);
  expect(res.status).toBe(200);
  return (res.body.deliveries as Array<{ webhook_id: string }>).map((d) => d.webhook_id).sort();
}

beforeAll(async () => {
  api = await startTestApi('events');
});

afterAll(async () => {
  await api.close();
});

describe('POST /v1/events fan-out', () => {
  const TEAM = 61;
  const hooks: Record<string, string> = {};

  beforeAll(async () => {
    hooks.all = await webhook({ team_id: TEAM });
    hooks.job = await webhook({ team_id: TEAM, events: ['labeling_job.completed', 'create:task'] });
    hooks.project5 = await webhook({ team_id: TEAM, events: ['labeling_job.completed'], project_id: 5 });
    hooks.project6All = await webhook({ team_id: TEAM, project_id: 6 });
    hooks.inactive = await webhook({ team_id: TEAM, is_active: false });
    hooks.otherType = await webhook({ team_id: TEAM, events: ['delete:task'] });
    hooks.otherTeam = await webhook({ team_id: TEAM + 1 });
    hooks.deleted = await webhook({ team_id: TEAM });
    expect((await request(api.app).delete(`/v1/webhooks/${hooks.deleted}`).set(api.admin)).status).toBe(204);
  });

  it('without project_id reaches only the team-wide webhooks subscribed to the type or "*"', async () => {
    const res = await emit({ event: 'labeling_job.completed', team_id: TEAM, data: JOB_DATA });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ event_id: expect.stringMatching(/^evt_[0-9A-Z]{26}$/), deliveries: 2 });
    expect(await deliveredTo(res.body.event_id)).toEqual([hooks.all, hooks.job].sort());
  });

  it('with project_id also reaches the webhooks of that project, and no other project', async () => {
    const five = await emit({ event: 'labeling_job.completed', team_id: TEAM, project_id: 5, data: JOB_DATA });
    expect(five.body.deliveries).toBe(3);
    expect(await deliveredTo(five.body.event_id)).toEqual([hooks.all, hooks.job, hooks.project5].sort());

    const six = await emit({ event: 'labeling_job.completed', team_id: TEAM, project_id: 6, data: JOB_DATA });
    expect(six.body.deliveries).toBe(3);
    expect(await deliveredTo(six.body.event_id)).toEqual([hooks.all, hooks.job, hooks.project6All].sort());
  });

  it('another type reaches "*" and that type only', async () => {
    const res = await emit({ event: 'create:task', team_id: TEAM, data: { task: { id: 15, name: 'Batch 3' } } });
    expect(res.body.deliveries).toBe(2);
    expect(await deliveredTo(res.body.event_id)).toEqual([hooks.all, hooks.job].sort());
  });

  it('stores the event as sent, with pending deliveries, and queues one job per delivery', async () => {
    const sender = { id: 3, login: 'admin1' };
    const res = await emit({
      event: 'labeling_job.completed',
      team_id: TEAM,
      project_id: 5,
      data: { ...JOB_DATA, extra: [1, 'two'] },
      timestamp: '2026-02-06T12:34:56.789+01:00',
      sender,
    });
    expect(res.status).toBe(202);
    const got = await request(api.app).get(`/v1/events/${res.body.event_id}`).set(api.admin);
    expect(got.body).toEqual({
      id: res.body.event_id,
      event: 'labeling_job.completed',
      team_id: TEAM,
      project_id: 5,
      timestamp: '2026-02-06T11:34:56.789Z',
      data: { ...JOB_DATA, extra: [1, 'two'] },
      sender,
      ordering_key: null,
      created_at: expect.any(String),
      deliveries: expect.any(Array),
    });
    expect(got.body.deliveries).toHaveLength(3);
    for (const delivery of got.body.deliveries) {
      expect(delivery).toEqual({ id: expect.stringMatching(/^dlv_/), webhook_id: expect.any(String), status: 'pending' });
      const job = await api.deps.queues.all[0]!.getJob(deliverJobId(delivery.id, 1));
      // Ids only; a job exists once its webhook's line granted it a slot (docs/delivery-path.md).
      expect(job?.data).toEqual({ deliveryId: delivery.id, attempt: 1, webhookId: delivery.webhook_id, leased: 1 });
    }
    const rows = await api.deps.db.delivery.findMany({ where: { eventId: res.body.event_id } });
    for (const row of rows) {
      expect(row).toMatchObject({ teamId: TEAM, eventType: 'labeling_job.completed', attempts: 0, isTest: false });
      expect(row.nextAttemptAt).not.toBeNull();
    }
  });

  it('defaults timestamp to now and sender to null', async () => {
    const before = Date.now();
    const res = await emit({ event: 'ping', team_id: TEAM, data: {} });
    const got = await request(api.app).get(`/v1/events/${res.body.event_id}`).set(api.admin);
    expect(got.body).toMatchObject({ project_id: null, sender: null, data: {} });
    expect(new Date(got.body.timestamp).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('an event nobody subscribes to is still stored, with no deliveries', async () => {
    const res = await emit({ event: 'label.deleted', team_id: TEAM + 100, data: { id: 'l1', data_row: { id: 'r1' } } });
    expect(res.body.deliveries).toBe(0);
    expect(await deliveredTo(res.body.event_id)).toEqual([]);
  });

  it('counts events and deliveries in /metrics', async () => {
    await emit({ event: 'labeling_job.completed', team_id: TEAM, data: JOB_DATA });
    const text = (await request(api.app).get('/metrics')).text;
    const events = /webhook_events_received_total\{event="labeling_job.completed"\} (\d+)/.exec(text);
    const deliveries = /webhook_deliveries_created_total (\d+)/.exec(text);
    expect(Number(events?.[1])).toBeGreaterThanOrEqual(4);
    expect(Number(deliveries?.[1])).toBeGreaterThanOrEqual(10);
  });
});

describe('POST /v1/events validation', () => {
  const TEAM = 71;

  it('names every failing path of data, prefixed data.', async () => {
    const res = await emit({
      event: 'labeling_job.completed',
      team_id: TEAM,
      data: { ...JOB_DATA, job_id: 'seven', completed_by: { user_login: 'x' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    const paths = res.body.error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['data.completed_by.user_id', 'data.job_id']);
    expect(await api.deps.db.event.count({ where: { teamId: TEAM } })).toBe(0);
  });

  it('reports problems of data and of other fields together', async () => {
    const res = await emit({ event: 'create:task', team_id: 0, data: { task: {} } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['data.task.id', 'team_id']);
  });

  it.each([
    [{ event: 'job.finished', team_id: TEAM, data: {} }, 'event'],
    [{ team_id: TEAM, data: {} }, 'event'],
    [{ event: 'ping', data: {} }, 'team_id'],
    [{ event: 'ping', team_id: '71', data: {} }, 'team_id'],
    [{ event: 'ping', team_id: 2 ** 31, data: {} }, 'team_id'],
    [{ event: 'ping', team_id: TEAM }, 'data'],
    [{ event: 'ping', team_id: TEAM, data: [1] }, 'data'],
    [{ event: 'ping', team_id: TEAM, data: {}, project_id: -1 }, 'project_id'],
    [{ event: 'ping', team_id: TEAM, data: {}, timestamp: 'yesterday' }, 'timestamp'],
    [{ event: 'ping', team_id: TEAM, data: {}, timestamp: '2026-02-06T12:00:00' }, 'timestamp'],
    [{ event: 'ping', team_id: TEAM, data: {}, timestamp: '0000-01-01T00:00:00Z' }, 'timestamp'],
    [{ event: 'ping', team_id: TEAM, data: {}, timestamp: '2026-02-30T00:00:00Z' }, 'timestamp'],
    [{ event: 'ping', team_id: TEAM, data: {}, sender: 'me' }, 'sender'],
    [{ event: 'ping', team_id: TEAM, data: {}, team: 1 }, 'team'],
    [{ event: 'ping', team_id: TEAM, data: { text: 'a\u0000b' } }, 'data.text'],
    [{ event: 'ping', team_id: TEAM, data: { text: '\ud800' } }, 'data.text'],
    [{ event: 'ping', team_id: TEAM, data: {}, idempotency_key: '' }, 'idempotency_key'],
  ])('refuses %j with a 400 naming %s', async (body, path) => {
    const res = await emit(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'validation_error', message: expect.any(String), details: expect.any(Array) });
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('refuses data nested too deep for PostgreSQL with a 400, not a 500', async () => {
    let deep: unknown = {};
    for (let i = 0; i < 200; i++) deep = { a: deep };
    const res = await emit({ event: 'ping', team_id: TEAM, data: deep as object });
    expect(res.status).toBe(400);
  });

  it('refuses a body that is not an object, and non-JSON', async () => {
    const array = await request(api.app).post('/v1/events').set(api.admin).send([{ event: 'ping' }]);
    expect(array.status).toBe(400);
    const text = await request(api.app).post('/v1/events').set(api.admin).set('Content-Type', 'text/plain').send('hi');
    expect(text.status).toBe(415);
  });

  it('a team key may emit for its own team only; no token is a 401', async () => {
    const own = await emit({ event: 'ping', team_id: TEAM, data: {} }, await teamKey(TEAM));
    expect(own.status).toBe(202);
    const other = await emit({ event: 'ping', team_id: TEAM + 1, data: {} }, await teamKey(TEAM));
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('forbidden');
    expect(await api.deps.db.event.count({ where: { teamId: TEAM + 1 } })).toBe(0);
    const anonymous = await request(api.app).post('/v1/events').send({ event: 'ping', team_id: TEAM, data: {} });
    expect(anonymous.status).toBe(401);
  });

  it('answers 405 to a method the route does not have', async () => {
    const res = await request(api.app).get('/v1/events').set(api.admin);
    expect(res.status).toBe(405);
  });
});

describe('GET /v1/events/:id', () => {
  it('is 404 for another team, a malformed id and an unknown id', async () => {
    const res = await emit({ event: 'ping', team_id: 81, data: { n: 1 } });
    const id = res.body.event_id as string;
    expect((await request(api.app).get(`/v1/events/${id}`).set(await teamKey(81))).status).toBe(200);
    expect((await request(api.app).get(`/v1/events/${id}`).set(await teamKey(82))).status).toBe(404);
    expect((await request(api.app).get('/v1/events/nope').set(api.admin)).status).toBe(404);
    const unknown = `evt_${'0'.repeat(26)}`;
    const missing = await request(api.app).get(`/v1/events/${unknown}`).set(api.admin);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });
});

describe('idempotency', () => {
  const TEAM = 91;
  let hook: string;

  beforeAll(async () => {
    hook = await webhook({ team_id: TEAM });
    await webhook({ team_id: TEAM, events: ['ping'] });
  });

  it('a repeated Idempotency-Key header returns the first reply and creates nothing', async () => {
    const body = { event: 'ping', team_id: TEAM, data: { n: 1 } };
    const first = await emit(body, api.admin, { 'Idempotency-Key': 'order-1' });
    expect(first.status).toBe(202);
    expect(first.body.deliveries).toBe(2);
    const eventsBefore = await api.deps.db.event.count();
    const deliveriesBefore = await api.deps.db.delivery.count();

    const again = await emit({ ...body, data: { n: 2 } }, api.admin, { 'Idempotency-Key': 'order-1' });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await api.deps.db.event.count()).toBe(eventsBefore);
    expect(await api.deps.db.delivery.count()).toBe(deliveriesBefore);
  });

  it('the idempotency_key field works the same, and matches the header', async () => {
    const first = await emit({ event: 'ping', team_id: TEAM, data: {}, idempotency_key: 'field-1' });
    const byField = await emit({ event: 'ping', team_id: TEAM, data: {}, idempotency_key: 'field-1' });
    const byHeader = await emit({ event: 'ping', team_id: TEAM, data: {} }, api.admin, { 'Idempotency-Key': 'field-1' });
    expect(byField.body).toEqual(first.body);
    expect(byHeader.body).toEqual(first.body);

    const contradiction = await emit({ event: 'ping', team_id: TEAM, data: {}, idempotency_key: 'a' }, api.admin, {
      'Idempotency-Key': 'b',
    });
    expect(contradiction.status).toBe(400);
    expect(contradiction.body.error.details[0].path).toBe('idempotency_key');
  });

  it('keys are per team', async () => {
    const ours = await emit({ event: 'ping', team_id: TEAM, data: {} }, api.admin, { 'Idempotency-Key': 'shared' });
    const theirs = await emit({ event: 'ping', team_id: TEAM + 1, data: {} }, api.admin, { 'Idempotency-Key': 'shared' });
    expect(theirs.status).toBe(202);
    expect(theirs.body.event_id).not.toBe(ours.body.event_id);
  });

  it('concurrent repeats create one event and all get its reply', async () => {
    const replies = await Promise.all(
      Array.from({ length: 12 }, () =>
        emit({ event: 'ping', team_id: TEAM, data: {} }, api.admin, { 'Idempotency-Key': 'race-1' }),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(12).fill(202));
    const ids = new Set(replies.map((r) => r.body.event_id));
    expect(ids.size).toBe(1);
    expect(replies.every((r) => r.body.deliveries === 2)).toBe(true);
    expect(await api.deps.db.event.count({ where: { teamId: TEAM, idempotencyKey: 'race-1' } })).toBe(1);
    const [id] = [...ids];
    expect(await api.deps.db.delivery.count({ where: { eventId: id } })).toBe(2);
  });

  it('replays the first delivery count even after a redelivery of that event', async () => {
    const first = await emit({ event: 'ping', team_id: TEAM, data: {} }, api.admin, { 'Idempotency-Key': 'redo-1' });
    const delivery = await api.deps.db.delivery.findFirstOrThrow({ where: { eventId: first.body.event_id, webhookId: hook } });
    expect((await request(api.app).post(`/v1/deliveries/${delivery.id}/redeliver`).set(api.admin)).status).toBe(202);
    const again = await emit({ event: 'ping', team_id: TEAM, data: {} }, api.admin, { 'Idempotency-Key': 'redo-1' });
    expect(again.body).toEqual(first.body);
  });

  it('after 24 hours the key starts a new event', async () => {
    const first = await emit({ event: 'ping', team_id: TEAM, data: {} }, api.admin, { 'Idempotency-Key': 'old-1' });
    await api.deps.db.event.update({
      where: { id: first.body.event_id },
      data: { idempotencyExpiresAt: new Date(Date.now() - 1000) },
    });
    const later = await emit({ event: 'ping', team_id: TEAM, data: {} }, api.admin, { 'Idempotency-Key': 'old-1' });
    expect(later.status).toBe(202);
    expect(later.body.event_id).not.toBe(first.body.event_id);
    const repeat = await emit({ event: 'ping', team_id: TEAM, data: {} }, api.admin, { 'Idempotency-Key': 'old-1' });
    expect(repeat.body.event_id).toBe(later.body.event_id);
    // The old event is still there, just no longer holding the key.
    expect((await request(api.app).get(`/v1/events/${first.body.event_id}`).set(api.admin)).status).toBe(200);
  });

  it('refuses an unusable header', async () => {
    const res = await emit({ event: 'ping', team_id: TEAM, data: {} }, api.admin, { 'Idempotency-Key': 'x'.repeat(256) });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('Idempotency-Key');
  });
});

describe('POST /v1/events/batch', () => {
  const TEAM = 101;
  let hook: string;

  beforeAll(async () => {
    hook = await webhook({ team_id: TEAM, events: ['ping', 'create:task'] });
  });

  function batch(events: unknown[], auth = api.admin, headers: Record<string, string> = {}) {
    return request(api.app).post('/v1/events/batch').set(auth).set(headers).send({ events });
  }

  it('answers in input order, storing the valid events and reporting the invalid ones in place', async () => {
    const res = await batch([
      { event: 'ping', team_id: TEAM, data: { n: 0 } },
      { event: 'create:task', team_id: TEAM, data: { task: {} } },
      { event: 'nope', team_id: TEAM, data: {} },
      { event: 'create:task', team_id: TEAM, data: { task: { id: 3 } } },
      { event: 'label.created', team_id: TEAM, data: { id: 'l', data_row: { id: 'r' } } },
    ]);
    expect(res.status).toBe(202);
    const [a, b, c, d, e] = res.body.results;
    expect(a).toEqual({ event_id: expect.stringMatching(/^evt_/), deliveries: 1 });
    expect(b.error).toMatchObject({ code: 'validation_error', details: [{ path: 'data.task.id', message: expect.any(String) }] });
    expect(c.error.details[0].path).toBe('event');
    expect(d).toEqual({ event_id: expect.stringMatching(/^evt_/), deliveries: 1 });
    expect(e).toEqual({ event_id: expect.stringMatching(/^evt_/), deliveries: 0 });

    const first = await request(api.app).get(`/v1/events/${a.event_id}`).set(api.admin);
    expect(first.body).toMatchObject({ event: 'ping', data: { n: 0 }, deliveries: [{ webhook_id: hook, status: 'pending' }] });
    const fourth = await request(api.app).get(`/v1/events/${d.event_id}`).set(api.admin);
    expect(fourth.body).toMatchObject({ event: 'create:task', data: { task: { id: 3 } } });
    const job = await api.deps.queues.all[0]!.getJob(deliverJobId(fourth.body.deliveries[0].id, 1));
    expect(job).toBeDefined();
  });

  it('stores a full batch of 1000', async () => {
    const events = Array.from({ length: 1000 }, (_, n) => ({ event: 'ping', team_id: TEAM + 1, data: { n } }));
    const res = await batch(events);
    expect(res.status).toBe(202);
    expect(res.body.results).toHaveLength(1000);
    expect(new Set(res.body.results.map((r: { event_id: string }) => r.event_id)).size).toBe(1000);
    expect(await api.deps.db.event.count({ where: { teamId: TEAM + 1 } })).toBe(1000);
    const last = await request(api.app).get(`/v1/events/${res.body.results[999].event_id}`).set(api.admin);
    expect(last.body.data).toEqual({ n: 999 });
  });

  it('refuses an empty batch, more than 1000 events, and a missing or misspelt events field', async () => {
    const empty = await batch([]);
    expect(empty.status).toBe(400);
    expect(empty.body.error.details[0].path).toBe('events');
    const tooMany = await batch(Array.from({ length: 1001 }, () => ({ event: 'ping', team_id: TEAM + 2, data: {} })));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details[0].path).toBe('events');
    expect(await api.deps.db.event.count({ where: { teamId: TEAM + 2 } })).toBe(0);
    expect((await request(api.app).post('/v1/events/batch').set(api.admin).send({})).status).toBe(400);
    expect((await request(api.app).post('/v1/events/batch').set(api.admin).send({ event: [] })).status).toBe(400);
  });

  it("reports another team's events as forbidden in place, for a team key", async () => {
    const res = await batch(
      [
        { event: 'ping', team_id: TEAM, data: {} },
        { event: 'ping', team_id: TEAM + 3, data: {} },
      ],
      await teamKey(TEAM),
    );
    expect(res.status).toBe(202);
    expect(res.body.results[0]).toEqual({ event_id: expect.any(String), deliveries: 1 });
    expect(res.body.results[1].error.code).toBe('forbidden');
    expect(await api.deps.db.event.count({ where: { teamId: TEAM + 3 } })).toBe(0);
  });

  it('honours idempotency keys per event, within a batch and across batches', async () => {
    const events = [
      { event: 'ping', team_id: TEAM, data: {}, idempotency_key: 'b-1' },
      { event: 'ping', team_id: TEAM, data: {}, idempotency_key: 'b-1' },
      { event: 'ping', team_id: TEAM, data: {} },
    ];
    const first = await batch(events, api.admin, { 'Idempotency-Key': 'batch-1' });
    expect(first.body.results[1]).toEqual(first.body.results[0]);
    expect(first.body.results[2].event_id).not.toBe(first.body.results[0].event_id);
    const count = await api.deps.db.event.count({ where: { teamId: TEAM } });

    const again = await batch(events, api.admin, { 'Idempotency-Key': 'batch-1' });
    expect(again.body).toEqual(first.body);
    expect(await api.deps.db.event.count({ where: { teamId: TEAM } })).toBe(count);
  });
});

/** The same app on other services: the per-process state (ingest, key cache) is rebuilt on them. */
function appWith(services: Partial<ServiceDeps>) {
  return createApp(buildAppDeps({ ...api.deps, ...services }));
}

describe('when a backing service is down', () => {
  it('answers 202 when Redis fails after the commit; no job exists, and a worker\'s sweeper delivers it', async () => {
    const deadRedis = createRedisConnection('redis://127.0.0.1:1', 'producer');
    deadRedis.on('error', () => undefined);
    const deadQueues = createDeliveryQueues(api.deps.config, deadRedis);
    for (const q of deadQueues.all) q.on('error', () => undefined);
    const received: string[] = [];
    const receiver = http.createServer((req, res) => {
      received.push(String(req.headers['x-webhook-id'] ?? req.headers['webhook-id'] ?? ''));
      res.end('ok');
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    let worker: TestWorker | undefined;
    try {
      const hook = await webhook({ team_id: 111, url });
      const res = await request(appWith({ redis: deadRedis, queues: deadQueues }))
        .post('/v1/events')
        .set(api.admin)
        .send({ event: 'ping', team_id: 111, data: { during: 'outage' } })
        .timeout(10_000);
      expect(res.status).toBe(202);
      expect(res.body.deliveries).toBe(1);

      const got = await request(api.app).get(`/v1/events/${res.body.event_id}`).set(api.admin);
      expect(got.body).toMatchObject({ data: { during: 'outage' }, deliveries: [{ webhook_id: hook, status: 'pending' }] });
      const row = await api.deps.db.delivery.findFirstOrThrow({ where: { eventId: res.body.event_id } });
      // Stored, but never queued: only the sweeper can find it.
      expect(await api.deps.queues.all[0]!.getJob(deliverJobId(row.id, 1))).toBeUndefined();

      worker = await startTestWorker({ databaseUrl: api.database.url, prefix: api.prefix, sweeper: { graceMs: 0 } });
      const deadline = Date.now() + 20_000;
      let status = row.status;
      while (status !== 'succeeded' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        status = (await api.deps.db.delivery.findUniqueOrThrow({ where: { id: row.id } })).status;
      }
      expect(status).toBe('succeeded');
      expect(received).toHaveLength(1);
    } finally {
      await worker?.close();
      receiver.close();
      await deadQueues.close().catch(() => undefined);
      deadRedis.disconnect();
    }
  });

  it('answers 503 quickly when PostgreSQL is unreachable', async () => {
    const deadDb = createDb('postgresql://postgres@127.0.0.1:1/hooklane', { connectionTimeoutMs: 1000 });
    const app = appWith({ db: deadDb });
    try {
      const res = await request(app)
        .post('/v1/events')
        .set(api.admin)
        .send({ event: 'ping', team_id: 112, data: {} })
        .timeout(8000);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('service_unavailable');
      const batch = await request(app)
        .post('/v1/events/batch')
        .set(api.admin)
        .send({ events: [{ event: 'ping', team_id: 112, data: {} }] })
        .timeout(8000);
      expect(batch.status).toBe(503);
    } finally {
      await deadDb.$disconnect();
    }
  });
});
