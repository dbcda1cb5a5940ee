import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newId } from '@hooklane/core';
import { deliverJobId } from '@hooklane/queue';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

// No worker runs in this file: deliveries and attempts are seeded the way the worker writes them.
let api: TestApi;
const keys: Record<number, { Authorization: string }> = {};
const NOWHERE = 'http://127.0.0.1:9/hook';

async function teamKey(team: number) {
  if (!keys[team]) {
    const res = await request(api.app).post('/v1/api-keys').set(api.admin).send({ team_id: team });
    keys[team] = { Authorization: `Bearer ${res.body.key}` };
  }
  return keys[team];
}

async function webhook(team: number, body: Record<string, unknown> = {}): Promise<string> {
  const res = await request(api.app).post('/v1/webhooks').set(api.admin).send({ team_id: team, url: NOWHERE, events: ['*'], ...body });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

interface SeedDelivery {
  status: 'pending' | 'succeeded' | 'failed' | 'cancelled';
  createdAt?: Date;
  isTest?: boolean;
  eventId?: string;
}

/** An event and one delivery of it, as ingest and the worker would have left them. */
async function seed(team: number, webhookId: string, options: SeedDelivery): Promise<{ eventId: string; deliveryId: string }> {
  const createdAt = options.createdAt ?? new Date();
  const eventId = options.eventId ?? newId('evt');
  if (!options.eventId) {
    await api.deps.db.event.create({
      data: { id: eventId, teamId: team, type: 'ping', timestamp: createdAt, data: {}, createdAt },
    });
  }
  const deliveryId = newId('dlv');
  const done = options.status !== 'pending';
  await api.deps.db.delivery.create({
    data: {
      id: deliveryId,
      teamId: team,
      webhookId,
      eventId,
      eventType: 'ping',
      status: options.status,
      attempts: done ? 1 : 0,
      lastStatusCode: done ? 500 : null,
      nextAttemptAt: done ? null : createdAt,
      isTest: options.isTest ?? false,
      createdAt,
      updatedAt: createdAt,
    },
  });
  return { eventId, deliveryId };
}

beforeAll(async () => {
  api = await startTestApi('deliveries');
});

afterAll(async () => {
  await api.close();
});

describe('GET /v1/deliveries/:id', () => {
  it('shows the delivery with its attempt_log in attempt order', async () => {
    const hook = await webhook(11);
    const { eventId, deliveryId } = await seed(11, hook, { status: 'failed' });
    const started = new Date('2026-02-06T12:00:00.000Z');
    for (const attempt of [2, 1]) {
      await api.deps.db.attempt.create({
        data: {
          id: newId('att'),
          deliveryId,
          attempt,
          startedAt: new Date(started.getTime() + attempt * 1000),
          durationMs: 10 * attempt,
          statusCode: attempt === 1 ? null : 500,
          responseBody: attempt === 1 ? null : 'oops',
          error: attempt === 1 ? 'ECONNREFUSED' : null,
        },
      });
    }
    const res = await request(api.app).get(`/v1/deliveries/${deliveryId}`).set(await teamKey(11));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: deliveryId,
      webhook_id: hook,
      event_id: eventId,
      event: 'ping',
      status: 'failed',
      attempts: 1,
      last_status_code: 500,
      next_attempt_at: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      attempt_log: [
        { attempt: 1, started_at: '2026-02-06T12:00:01.000Z', duration_ms: 10, status_code: null, response_body: null, error: 'ECONNREFUSED' },
        { attempt: 2, started_at: '2026-02-06T12:00:02.000Z', duration_ms: 20, status_code: 500, response_body: 'oops', error: null },
      ],
    });
  });

  it("is 404 for another team's, a malformed and an unknown id", async () => {
    const hook = await webhook(12);
    const { deliveryId } = await seed(12, hook, { status: 'pending' });
    expect((await request(api.app).get(`/v1/deliveries/${deliveryId}`).set(await teamKey(13))).status).toBe(404);
    expect((await request(api.app).get('/v1/deliveries/dlv_nope').set(api.admin)).status).toBe(404);
    expect((await request(api.app).get(`/v1/deliveries/${newId('dlv')}`).set(api.admin)).status).toBe(404);
  });

  it('stays readable after its webhook is deleted', async () => {
    const hook = await webhook(14);
    const { deliveryId } = await seed(14, hook, { status: 'succeeded' });
    expect((await request(api.app).delete(`/v1/webhooks/${hook}`).set(api.admin)).status).toBe(204);
    expect((await request(api.app).get(`/v1/deliveries/${deliveryId}`).set(api.admin)).status).toBe(200);
  });
});

describe('POST /v1/deliveries/:id/redeliver', () => {
  it('creates and queues a new pending delivery of the same event and webhook, leaving the original', async () => {
    const hook = await webhook(21);
    const { eventId, deliveryId } = await seed(21, hook, { status: 'failed' });
    const res = await request(api.app).post(`/v1/deliveries/${deliveryId}/redeliver`).set(await teamKey(21));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^dlv_/),
      webhook_id: hook,
      event_id: eventId,
      event: 'ping',
      status: 'pending',
      attempts: 0,
      last_status_code: null,
      next_attempt_at: expect.any(String),
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(res.body.id).not.toBe(deliveryId);
    expect(await api.deps.queues.all[0]!.getJob(deliverJobId(res.body.id, 1))).toBeDefined();
    const original = await request(api.app).get(`/v1/deliveries/${deliveryId}`).set(api.admin);
    expect(original.body).toMatchObject({ status: 'failed', attempts: 1 });
    const got = await request(api.app).get(`/v1/deliveries/${res.body.id}`).set(api.admin);
    expect(got.body).toMatchObject({ id: res.body.id, status: 'pending', attempt_log: [] });
  });

  it('is 404 for another team and 409 when the webhook no longer receives', async () => {
    const hook = await webhook(22);
    const { deliveryId } = await seed(22, hook, { status: 'failed' });
    expect((await request(api.app).post(`/v1/deliveries/${deliveryId}/redeliver`).set(await teamKey(23))).status).toBe(404);

    await request(api.app).patch(`/v1/webhooks/${hook}`).set(api.admin).send({ is_active: false });
    const inactive = await request(api.app).post(`/v1/deliveries/${deliveryId}/redeliver`).set(api.admin);
    expect(inactive.status).toBe(409);
    expect(inactive.body.error.code).toBe('conflict');

    await request(api.app).delete(`/v1/webhooks/${hook}`).set(api.admin);
    expect((await request(api.app).post(`/v1/deliveries/${deliveryId}/redeliver`).set(api.admin)).status).toBe(409);
    expect(await api.deps.db.delivery.count({ where: { webhookId: hook } })).toBe(1);
  });
});

describe('POST /v1/webhooks/:id/recover', () => {
  it('makes one new delivery per event that failed since then and is not pending or delivered since', async () => {
    const TEAM = 31;
    const hook = await webhook(TEAM);
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
    const tooOld = await seed(TEAM, hook, { status: 'failed', createdAt: minutesAgo(120) });
    const recent = await seed(TEAM, hook, { status: 'failed', createdAt: minutesAgo(30) });
    const twice = await seed(TEAM, hook, { status: 'failed', createdAt: minutesAgo(25) });
    await seed(TEAM, hook, { status: 'failed', createdAt: minutesAgo(20), eventId: twice.eventId });
    const fixedSince = await seed(TEAM, hook, { status: 'failed', createdAt: minutesAgo(15) });
    await seed(TEAM, hook, { status: 'succeeded', createdAt: minutesAgo(10), eventId: fixedSince.eventId });
    await seed(TEAM, hook, { status: 'failed', createdAt: minutesAgo(5), isTest: true });
    await seed(TEAM, hook, { status: 'succeeded', createdAt: minutesAgo(5) });
    const cancelled = await seed(TEAM, hook, { status: 'cancelled', createdAt: minutesAgo(5) });

    const since = minutesAgo(60).toISOString();
    const res = await request(api.app).post(`/v1/webhooks/${hook}/recover`).set(await teamKey(TEAM)).send({ since });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ count: 2 });

    const created = await api.deps.db.delivery.findMany({ where: { webhookId: hook, status: 'pending' }, orderBy: { id: 'asc' } });
    expect(created.map((d) => d.eventId)).toEqual([recent.eventId, twice.eventId]);
    for (const delivery of created) {
      expect(delivery).toMatchObject({ attempts: 0, isTest: false, teamId: TEAM });
      expect(await api.deps.queues.all[0]!.getJob(deliverJobId(delivery.id, 1))).toBeDefined();
    }
    // The failed rows stay as the record of what happened.
    expect(await api.deps.db.delivery.count({ where: { webhookId: hook, status: 'failed' } })).toBe(6);
    expect(await api.deps.db.delivery.count({ where: { eventId: tooOld.eventId } })).toBe(1);
    expect(await api.deps.db.delivery.count({ where: { eventId: cancelled.eventId } })).toBe(1);

    const again = await request(api.app).post(`/v1/webhooks/${hook}/recover`).set(api.admin).send({ since });
    expect(again.body).toEqual({ count: 0 });
  });

  it('refuses a missing or malformed since, unknown fields, other teams and inactive webhooks', async () => {
    const hook = await webhook(32);
    const post = (body: unknown, auth = api.admin) => request(api.app).post(`/v1/webhooks/${hook}/recover`).set(auth).send(body as object);
    for (const [body, path] of [
      [{}, 'since'],
      [{ since: 'last week' }, 'since'],
      [{ since: '0000-01-01T00:00:00Z' }, 'since'],
      [{ since: '2026-02-06T12:00:00Z', until: '2026-02-07T00:00:00Z' }, 'until'],
    ] as const) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    expect((await post({ since: '2026-02-06T12:00:00Z' }, await teamKey(33))).status).toBe(404);
    await request(api.app).patch(`/v1/webhooks/${hook}`).set(api.admin).send({ is_active: false });
    expect((await post({ since: '2026-02-06T12:00:00Z' })).status).toBe(409);
  });
});

describe('GET /v1/webhooks/:id/deliveries', () => {
  it('pages newest first through deliveries created in the same millisecond too', async () => {
    const hook = await webhook(41);
    const at = new Date('2026-02-06T12:00:00.000Z');
    const ids: string[] = [];
    for (let n = 0; n < 7; n++) {
      ids.push((await seed(41, hook, { status: n % 2 ? 'failed' : 'succeeded', createdAt: n < 4 ? at : new Date(at.getTime() + n) })).deliveryId);
    }
    const newestFirst = [...ids].reverse();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(api.app)
        .get(`/v1/webhooks/${hook}/deliveries`)
        .query({ limit: 3, ...(cursor ? { cursor } : {}) })
        .set(await teamKey(41));
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((d: { id: string }) => d.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(newestFirst);

    const failed = await request(api.app).get(`/v1/webhooks/${hook}/deliveries?status=failed`).set(api.admin);
    expect(failed.body.data.map((d: { id: string }) => d.id)).toEqual(newestFirst.filter((_, i) => i % 2 === 1));
    expect(failed.body.next_cursor).toBeNull();
  });

  it('defaults to 50 per page', async () => {
    const hook = await webhook(42);
    for (let n = 0; n < 51; n++) await seed(42, hook, { status: 'succeeded' });
    const res = await request(api.app).get(`/v1/webhooks/${hook}/deliveries`).set(api.admin);
    expect(res.body.data).toHaveLength(50);
    expect(res.body.next_cursor).toEqual(expect.any(String));
  });

  it('refuses bad limits, cursors, statuses and unknown parameters; 404 for another team', async () => {
    const hook = await webhook(43);
    const path = `/v1/webhooks/${hook}/deliveries`;
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=not-a-cursor', 'cursor'],
      [`cursor=${Buffer.from('["2026-02-06T12:00:00.000Z","wh_x"]').toString('base64url')}`, 'cursor'],
      ['status=done', 'status'],
      ['sort=asc', 'sort'],
    ]) {
      const res = await request(api.app).get(`${path}?${query}`).set(api.admin);
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].path).toBe(field);
    }
    expect((await request(api.app).get(path).set(await teamKey(44))).status).toBe(404);
    expect((await request(api.app).get('/v1/webhooks/wh_nope/deliveries').set(api.admin)).status).toBe(404);
  });
});

describe('POST /v1/webhooks/:id/test without a worker', () => {
  it('answers 504 timeout when no worker makes the attempt, and cancels the ping', async () => {
    const hook = await webhook(51, { timeout: 1 });
    const res = await request(api.app).post(`/v1/webhooks/${hook}/test`).set(api.admin).timeout(30_000);
    expect(res.status).toBe(504);
    expect(res.body.error).toEqual({ code: 'timeout', message: expect.any(String), details: [] });
    const rows = await api.deps.db.delivery.findMany({ where: { webhookId: hook } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ isTest: true, eventType: 'ping', status: 'cancelled' });
  }, 30_000);

  it('refuses a payload that is not an object, unknown fields, inactive webhooks and other teams', async () => {
    const hook = await webhook(52, { is_active: false });
    const path = `/v1/webhooks/${hook}/test`;
    const notObject = await request(api.app).post(path).set(api.admin).send({ payload: [1] });
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.details[0].path).toBe('payload');
    const unknown = await request(api.app).post(path).set(api.admin).send({ data: {} });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0].path).toBe('data');
    expect((await request(api.app).post(path).set(api.admin)).status).toBe(409);
    expect((await request(api.app).post(path).set(await teamKey(53))).status).toBe(404);
    expect(await api.deps.db.delivery.count({ where: { webhookId: hook } })).toBe(0);
  });
});

describe('OpenAPI', () => {
  it('documents every route of events and deliveries', async () => {
    const res = await request(api.app).get('/openapi.json');
    expect(res.status).toBe(200);
    const paths = res.body.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths['/v1/events'] ?? {})).toContain('post');
    expect(Object.keys(paths['/v1/events/batch'] ?? {})).toContain('post');
    expect(Object.keys(paths['/v1/events/{id}'] ?? {})).toContain('get');
    expect(Object.keys(paths['/v1/deliveries/{id}'] ?? {})).toContain('get');
    expect(Object.keys(paths['/v1/deliveries/{id}/redeliver'] ?? {})).toContain('post');
    expect(Object.keys(paths['/v1/webhooks/{id}/test'] ?? {})).toContain('post');
    expect(Object.keys(paths['/v1/webhooks/{id}/deliveries'] ?? {})).toContain('get');
    expect(Object.keys(paths['/v1/webhooks/{id}/recover'] ?? {})).toContain('post');
    expect(res.body.components.schemas.EventInput.required).toEqual(expect.arrayContaining(['event', 'team_id', 'data']));
  });
});
