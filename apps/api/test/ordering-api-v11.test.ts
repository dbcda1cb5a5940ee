import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

/**
 * (v1.1) The API side of ordered delivery: the webhook's `ordering` and the event's
 * `ordering_key` are accepted, checked, stored and shown. Delivery order itself is the
 * worker's and is tested with real processes elsewhere.
 */

let api: TestApi;
let teamKey: { Authorization: string };
const TEAM = 141;
const NOWHERE = 'http://127.0.0.1:9/hook'; // no worker runs in this file: nothing is sent

async function createWebhook(body: Record<string, unknown>, auth = teamKey) {
  return request(api.app).post('/v1/webhooks').set(auth).send({ team_id: TEAM, url: NOWHERE, events: ['*'], ...body });
}

function emit(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return request(api.app).post('/v1/events').set(teamKey).set(headers).send({ event: 'ping', team_id: TEAM, data: {}, ...body });
}

function paths(res: request.Response): string[] {
  return (res.body.error?.details as Array<{ path: string }>).map((d) => d.path);
}

beforeAll(async () => {
  api = await startTestApi('orderingapi');
  const res = await request(api.app).post('/v1/api-keys').set(api.admin).send({ team_id: TEAM });
  expect(res.status).toBe(201);
  teamKey = { Authorization: `Bearer ${res.body.key}` };
});

afterAll(async () => {
  await api.close();
});

describe('webhook ordering', () => {
  it('defaults to "none" and is in every webhook response', async () => {
    const created = await createWebhook({});
    expect(created.status).toBe(201);
    expect(created.body.ordering).toBe('none');
    const got = await request(api.app).get(`/v1/webhooks/${created.body.id}`).set(teamKey);
    expect(got.body.ordering).toBe('none');
    const listed = await request(api.app).get('/v1/webhooks').set(teamKey).query({ filters: JSON.stringify([{ field: 'id', operator: '=', value: created.body.id }]) });
    expect(listed.body.data).toEqual([expect.objectContaining({ id: created.body.id, ordering: 'none' })]);
    const row = await api.deps.db.webhook.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.ordering).toBe('none');
  });

  it('create takes "fifo" and stores it', async () => {
    const created = await createWebhook({ ordering: 'fifo' });
    expect(created.status).toBe(201);
    expect(created.body.ordering).toBe('fifo');
    const row = await api.deps.db.webhook.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.ordering).toBe('fifo');
  });

  it('PATCH changes it both ways and leaves it alone when not given', async () => {
    const created = await createWebhook({});
    const path = `/v1/webhooks/${created.body.id}`;
    const fifo = await request(api.app).patch(path).set(teamKey).send({ ordering: 'fifo' });
    expect(fifo.status).toBe(200);
    expect(fifo.body.ordering).toBe('fifo');
    const other = await request(api.app).patch(path).set(teamKey).send({ description: 'still fifo' });
    expect(other.body).toMatchObject({ ordering: 'fifo', description: 'still fifo' });
    const none = await request(api.app).patch(path).set(teamKey).send({ ordering: 'none' });
    expect(none.body.ordering).toBe('none');
    const got = await request(api.app).get(path).set(teamKey);
    expect(got.body.ordering).toBe('none');
  });

  it('anything but "none" or "fifo" is a 400 naming ordering, on create and on PATCH, and changes nothing', async () => {
    const before = await api.deps.db.webhook.count();
    for (const ordering of ['lifo', 'FIFO', '', null, 1, true, ['fifo'], { mode: 'fifo' }]) {
      const res = await createWebhook({ ordering });
      expect({ ordering, status: res.status }).toEqual({ ordering, status: 400 });
      expect(res.body.error).toMatchObject({ code: 'validation_error', message: expect.any(String) });
      expect(paths(res)).toEqual(['ordering']);
    }
    expect(await api.deps.db.webhook.count()).toBe(before);

    const created = await createWebhook({ ordering: 'fifo' });
    for (const ordering of ['strict', null]) {
      const res = await request(api.app).patch(`/v1/webhooks/${created.body.id}`).set(teamKey).send({ ordering });
      expect(res.status).toBe(400);
      expect(paths(res)).toEqual(['ordering']);
    }
    const row = await api.deps.db.webhook.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.ordering).toBe('fifo');
  });
});

describe('GET /v1/webhooks by ordering', () => {
  const LIST_TEAM = TEAM + 1;
  const made: Record<'fifoA' | 'fifoB' | 'none', string> = { fifoA: '', fifoB: '', none: '' };

  beforeAll(async () => {
    const make = async (body: Record<string, unknown>) => {
      const res = await createWebhook({ team_id: LIST_TEAM, ...body }, api.admin);
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    made.fifoA = await make({ ordering: 'fifo', project_id: 3 });
    made.fifoB = await make({ ordering: 'fifo', is_active: false });
    made.none = await make({});
  });

  const ids = (res: request.Response) => (res.body.data as Array<{ id: string }>).map((w) => w.id).sort();
  const list = (query: Record<string, string>) => request(api.app).get('/v1/webhooks').set(api.admin).query({ team_id: String(LIST_TEAM), ...query });

  it('the ordering query parameter narrows the list, and combines with the others', async () => {
    expect(ids(await list({ ordering: 'fifo' }))).toEqual([made.fifoA, made.fifoB].sort());
    expect(ids(await list({ ordering: 'none' }))).toEqual([made.none]);
    expect(ids(await list({ ordering: 'fifo', is_active: 'true' }))).toEqual([made.fifoA]);
  });

  it('filters take ordering with =, != and in', async () => {
    const f = async (operator: string, value: unknown) => ids(await list({ filters: JSON.stringify([{ field: 'ordering', operator, value }]) }));
    expect(await f('=', 'fifo')).toEqual([made.fifoA, made.fifoB].sort());
    expect(await f('!=', 'fifo')).toEqual([made.none]);
    expect(await f('in', ['none', 'fifo'])).toEqual([made.fifoA, made.fifoB, made.none].sort());
    expect(await f('in', ['none'])).toEqual([made.none]);
  });

  it('an unknown ordering in the query or a filter is a 400', async () => {
    const query = await list({ ordering: 'lifo' });
    expect(query.status).toBe(400);
    expect(paths(query)).toEqual(['ordering']);
    const filter = await list({ filters: JSON.stringify([{ field: 'ordering', operator: '=', value: 'lifo' }]) });
    expect(filter.status).toBe(400);
    expect(paths(filter)[0]).toMatch(/^filters\.0\.value/);
  });
});

describe('event ordering_key', () => {
  it('is stored as given and returned by GET /v1/events/:id', async () => {
    const key = `task-42:${'ü'.repeat(10)}`;
    const res = await emit({ ordering_key: key });
    expect(res.status).toBe(202);
    const got = await request(api.app).get(`/v1/events/${res.body.event_id}`).set(teamKey);
    expect(got.status).toBe(200);
    expect(got.body.ordering_key).toBe(key);
    const row = await api.deps.db.event.findUniqueOrThrow({ where: { id: res.body.event_id } });
    expect(row.orderingKey).toBe(key);
  });

  it('is null when none was given', async () => {
    const res = await emit({});
    expect(res.status).toBe(202);
    const got = await request(api.app).get(`/v1/events/${res.body.event_id}`).set(teamKey);
    expect(got.body).toHaveProperty('ordering_key', null);
  });

  it('takes 1 and 255 characters', async () => {
    for (const key of ['k', 'k'.repeat(255)]) {
      const res = await emit({ ordering_key: key });
      expect({ length: key.length, status: res.status }).toEqual({ length: key.length, status: 202 });
    }
  });

  it('an empty, too long, non-string or unstorable key is a 400 naming ordering_key, and stores nothing', async () => {
    const before = await api.deps.db.event.count();
    for (const key of ['', 'k'.repeat(256), 42, null, true, ['a'], { line: 'a' }, 'a\u0000b', 'a\ud800b']) {
      const res = await emit({ ordering_key: key });
      expect({ key, status: res.status }).toEqual({ key, status: 400 });
      expect(res.body.error.code).toBe('validation_error');
      expect(paths(res)).toEqual(['ordering_key']);
    }
    expect(await api.deps.db.event.count()).toBe(before);
  });

  it('is accepted whatever the webhook ordering; the fan-out is unchanged', async () => {
    const fifo = await createWebhook({ ordering: 'fifo', events: ['create:task'] });
    const none = await createWebhook({ events: ['create:task'] });
    const res = await emit({ event: 'create:task', data: { task: { id: 1, name: 'a' } }, ordering_key: 'task-1' });
    expect(res.status).toBe(202);
    const got = await request(api.app).get(`/v1/events/${res.body.event_id}`).set(teamKey);
    const hooks = (got.body.deliveries as Array<{ webhook_id: string }>).map((d) => d.webhook_id);
    expect(hooks).toEqual(expect.arrayContaining([fifo.body.id, none.body.id]));
  });

  it('an idempotent repeat returns the first reply and keeps the first key', async () => {
    const first = await emit({ ordering_key: 'first' }, { 'Idempotency-Key': 'ordering-repeat-1' });
    expect(first.status).toBe(202);
    const again = await emit({ ordering_key: 'second' }, { 'Idempotency-Key': 'ordering-repeat-1' });
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const got = await request(api.app).get(`/v1/events/${first.body.event_id}`).set(teamKey);
    expect(got.body.ordering_key).toBe('first');
  });
});

describe('batch ordering_key', () => {
  it('is taken per event: stored for each, and a bad one fails alone in its slot', async () => {
    const res = await request(api.app)
      .post('/v1/events/batch')
      .set(teamKey)
      .send({
        events: [
          { event: 'ping', team_id: TEAM, data: {}, ordering_key: 'line-a' },
          { event: 'ping', team_id: TEAM, data: {}, ordering_key: '' },
          { event: 'ping', team_id: TEAM, data: {} },
          { event: 'ping', team_id: TEAM, data: {}, ordering_key: 'k'.repeat(256) },
          { event: 'ping', team_id: TEAM, data: {}, ordering_key: 7 },
          { event: 'ping', team_id: TEAM, data: {}, ordering_key: 'line-b' },
        ],
      });
    expect(res.status).toBe(202);
    const results = res.body.results as Array<{ event_id?: string; error?: { code: string; details: Array<{ path: string }> } }>;
    expect(results).toHaveLength(6);
    for (const index of [1, 3, 4]) {
      expect(results[index]?.error?.code).toBe('validation_error');
      expect(results[index]?.error?.details.map((d) => d.path)).toEqual(['ordering_key']);
    }
    const expected: Array<[number, string | null]> = [
      [0, 'line-a'],
      [2, null],
      [5, 'line-b'],
    ];
    for (const [index, key] of expected) {
      const id = results[index]?.event_id;
      expect(id).toMatch(/^evt_/);
      const got = await request(api.app).get(`/v1/events/${id}`).set(teamKey);
      expect({ index, ordering_key: got.body.ordering_key }).toEqual({ index, ordering_key: key });
    }
  });
});
