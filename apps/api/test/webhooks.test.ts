import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newId } from '@hooklane/core';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

let api: TestApi;
let teamKey: { Authorization: string };
const TEAM = 41;
const URL_OK = 'http://127.0.0.1:9/hook';

async function create(body: Record<string, unknown>, auth = teamKey) {
  return request(api.app).post('/v1/webhooks').set(auth).send({ team_id: TEAM, url: URL_OK, events: ['*'], ...body });
}

beforeAll(async () => {
  api = await startTestApi('webhooks');
  const res = await request(api.app).post('/v1/api-keys').set(api.admin).send({ team_id: TEAM });
  expect(res.status).toBe(201);
  teamKey = { Authorization: `Bearer ${res.body.key}` };
});

afterAll(async () => {
  await api.close();
});

describe('POST /v1/webhooks', () => {
  it('fills every default of the contract and shows the secret once', async () => {
    const res = await create({ events: ['labeling_job.completed'] });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^wh_[0-9A-Z]{26}$/),
      team_id: TEAM,
      project_id: null,
      url: URL_OK,
      events: ['labeling_job.completed'],
      headers: {},
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{32}$/),
      retries_count: 5,
      retries_delay: 10,
      retry_backoff: 'fixed',
      follow_redirect: true,
      reject_unauthorized: true,
      timeout: 10,
      content_type: 'application/json',
      description: '',
      is_active: true,
      rate_limit: null,
      ordering: 'none',
      last_status: null,
      last_delivery_at: null,
      disabled_reason: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at);
    expect(Buffer.from(res.body.secret.slice('whsec_'.length), 'base64')).toHaveLength(24);

    const got = await request(api.app).get(`/v1/webhooks/${res.body.id}`).set(teamKey);
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('secret');
    const { secret: _secret, ...withoutSecret } = res.body;
    expect(got.body).toEqual(withoutSecret);
  });

  it('stores every field a client sets, like a webhook SDK would', async () => {
    const res = await create({
      project_id: 456,
      events: ['create:task', 'update:task'],
      headers: { Authorization: 'Bearer receiver-token', 'X-Tenant': 'acme' },
      secret: 'my-own-secret-123',
      retries_count: 0,
      retries_delay: 86400,
      retry_backoff: 'exponential',
      follow_redirect: false,
      reject_unauthorized: false,
      timeout: 60,
      content_type: 'application/json',
      description: 'CVAT tasks',
      is_active: false,
      rate_limit: 3,
      ordering: 'fifo',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      project_id: 456,
      events: ['create:task', 'update:task'],
      headers: { Authorization: 'Bearer receiver-token', 'X-Tenant': 'acme' },
      secret: 'my-own-secret-123',
      retries_count: 0,
      retries_delay: 86400,
      retry_backoff: 'exponential',
      follow_redirect: false,
      reject_unauthorized: false,
      timeout: 60,
      description: 'CVAT tasks',
      is_active: false,
      rate_limit: 3,
      ordering: 'fifo',
    });
    const row = await api.deps.db.webhook.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row.secret).toBe('my-own-secret-123');
    expect(row.headers).toEqual({ Authorization: 'Bearer receiver-token', 'X-Tenant': 'acme' });
  });

  it('accepts action as the Supervisely spelling of a single event', async () => {
    const res = await request(api.app)
      .post('/v1/webhooks')
      .set(teamKey)
      .send({ team_id: TEAM, url: URL_OK, action: 'labeling_queue.completed' });
    expect(res.status).toBe(201);
    expect(res.body.events).toEqual(['labeling_queue.completed']);
    expect(res.body).not.toHaveProperty('action');
  });

  it('accepts action together with events when it is one of them, and refuses a contradiction', async () => {
    const ok = await create({ events: ['create:job', 'delete:job'], action: 'delete:job' });
    expect(ok.status).toBe(201);
    expect(ok.body.events).toEqual(['create:job', 'delete:job']);
    const bad = await create({ events: ['create:job'], action: 'delete:job' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ path: 'action', message: expect.any(String) }]);
  });

  it('requires events unless action is given', async () => {
    const res = await request(api.app).post('/v1/webhooks').set(teamKey).send({ team_id: TEAM, url: URL_OK });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'events', message: expect.any(String) }]);
  });

  it('catches the retry_count typo by name', async () => {
    const res = await create({ retry_count: 3 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.details).toEqual([{ path: 'retry_count', message: 'Unknown field "retry_count"' }]);
    expect(await api.deps.db.webhook.count({ where: { url: URL_OK, retriesCount: 3 } })).toBe(0);
  });

  it('refuses headers that Hooklane sets itself, whatever their case', async () => {
    for (const name of ['content-type', 'HOST', 'User-Agent', 'Webhook-Signature', 'x-webhook-event', 'X-Signature-256', 'x-hub-signature']) {
      const res = await create({ headers: { [name]: 'x' } });
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].path).toBe(`headers.${name}`);
    }
  });
});

describe('PATCH /v1/webhooks/:id', () => {
  it('changes only the fields given and never shows the secret', async () => {
    const created = await create({ description: 'before', retries_count: 7, headers: { 'X-A': '1' } });
    const past = new Date('2026-01-01T00:00:00.000Z');
    await api.deps.db.$executeRaw`UPDATE webhooks SET updated_at = ${past} WHERE id = ${created.body.id}`;
    const res = await request(api.app)
      .patch(`/v1/webhooks/${created.body.id}`)
      .set(teamKey)
      .send({ retries_delay: 30, follow_redirect: false });
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('secret');
    expect(res.body).toMatchObject({ description: 'before', retries_count: 7, retries_delay: 30, follow_redirect: false, headers: { 'X-A': '1' } });
    expect(new Date(res.body.updated_at).getTime()).toBeGreaterThan(past.getTime());
    expect(res.body.created_at).toBe(created.body.created_at);
    const got = await request(api.app).get(`/v1/webhooks/${created.body.id}`).set(teamKey);
    expect(got.body).toEqual(res.body);
  });

  it('sets nullable fields to null and takes action as events', async () => {
    const created = await create({ project_id: 9, rate_limit: 5 });
    const res = await request(api.app)
      .patch(`/v1/webhooks/${created.body.id}`)
      .set(teamKey)
      .send({ project_id: null, rate_limit: null, action: 'ping' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ project_id: null, rate_limit: null, events: ['ping'] });
  });

  it('turning a disabled webhook back on clears disabled_reason and the failure run', async () => {
    const created = await create({});
    await api.deps.db.webhook.update({
      where: { id: created.body.id },
      data: { isActive: false, disabledReason: 'gone', failingSince: new Date() },
    });
    const before = await request(api.app).get(`/v1/webhooks/${created.body.id}`).set(teamKey);
    expect(before.body).toMatchObject({ is_active: false, disabled_reason: 'gone' });

    const res = await request(api.app).patch(`/v1/webhooks/${created.body.id}`).set(teamKey).send({ is_active: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ is_active: true, disabled_reason: null });
    const row = await api.deps.db.webhook.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.failingSince).toBeNull();
  });

  it('validates like create: unknown fields, bad values and a move to another team are refused', async () => {
    const created = await create({});
    const path = `/v1/webhooks/${created.body.id}`;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ retry_count: 1 }, 'retry_count'],
      [{ timeout: 0 }, 'timeout'],
      [{ url: 'ftp://example.com/' }, 'url'],
      [{ events: [] }, 'events'],
      [{ headers: { Host: 'evil' } }, 'headers.Host'],
      [{ is_active: null }, 'is_active'],
      [{ ordering: 'lifo' }, 'ordering'],
    ];
    for (const [body, field] of cases) {
      const res = await request(api.app).patch(path).set(api.admin).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
    }
    const move = await request(api.app).patch(path).set(api.admin).send({ team_id: TEAM + 1 });
    expect(move.status).toBe(400);
    const same = await request(api.app).patch(path).set(api.admin).send({ team_id: TEAM });
    expect(same.status).toBe(200);
    const row = await api.deps.db.webhook.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.teamId).toBe(TEAM);
    expect(row.timeout).toBe(10);
  });

  it('a new secret given by PATCH keeps the old one signing for 24 hours', async () => {
    const created = await create({ secret: 'first-secret-value' });
    const res = await request(api.app).patch(`/v1/webhooks/${created.body.id}`).set(teamKey).send({ secret: 'second-secret-value' });
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('secret');
    const row = await api.deps.db.webhook.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.secret).toBe('second-secret-value');
    expect(row.previousSecret).toBe('first-secret-value');
  });
});

describe('secrets', () => {
  it('GET secret returns it; rotate replaces it and keeps the previous one for about 24 hours', async () => {
    const created = await create({});
    const path = `/v1/webhooks/${created.body.id}`;
    const first = await request(api.app).get(`${path}/secret`).set(teamKey);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ secret: created.body.secret });

    const before = Date.now();
    const rotated = await request(api.app).post(`${path}/secret/rotate`).set(teamKey);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);

    const second = await request(api.app).get(`${path}/secret`).set(teamKey);
    expect(second.body).toEqual({ secret: rotated.body.secret });
    const row = await api.deps.db.webhook.findUniqueOrThrow({ where: { id: created.body.id } });
    expect(row.previousSecret).toBe(created.body.secret);
    const expiresIn = (row.previousSecretExpiresAt?.getTime() ?? 0) - before;
    expect(expiresIn).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(expiresIn).toBeLessThan(24 * 3600_000 + 60_000);

    const again = await request(api.app).get(path).set(teamKey);
    expect(again.body).not.toHaveProperty('secret');
  });

  it('rotate accepts a secret of the caller’s choosing and checks its length', async () => {
    const created = await create({});
    const path = `/v1/webhooks/${created.body.id}/secret/rotate`;
    const short = await request(api.app).post(path).set(teamKey).send({ secret: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error.details[0].path).toBe('secret');
    const chosen = await request(api.app).post(path).set(teamKey).send({ secret: 'chosen-secret-1234' });
    expect(chosen.status).toBe(200);
    expect(chosen.body).toEqual({ secret: 'chosen-secret-1234' });
  });
});

describe('DELETE /v1/webhooks/:id', () => {
  it('answers 204, cancels pending deliveries only, and the webhook is 404 everywhere after', async () => {
    const created = await create({});
    const id: string = created.body.id;
    const event = await api.deps.db.event.create({
      data: { id: newId('evt'), teamId: TEAM, type: 'ping', timestamp: new Date(), data: {} },
    });
    const delivery = (status: 'pending' | 'succeeded' | 'failed') =>
      api.deps.db.delivery.create({
        data: { id: newId('dlv'), teamId: TEAM, webhookId: id, eventId: event.id, eventType: 'ping', status },
      });
    const pending = await Promise.all([delivery('pending'), delivery('pending')]);
    const done = await delivery('succeeded');
    const failed = await delivery('failed');

    const res = await request(api.app).delete(`/v1/webhooks/${id}`).set(teamKey);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');

    for (const p of pending) {
      expect((await api.deps.db.delivery.findUniqueOrThrow({ where: { id: p.id } })).status).toBe('cancelled');
    }
    expect((await api.deps.db.delivery.findUniqueOrThrow({ where: { id: done.id } })).status).toBe('succeeded');
    expect((await api.deps.db.delivery.findUniqueOrThrow({ where: { id: failed.id } })).status).toBe('failed');
    // Soft delete: the row and its history stay for audits.
    expect((await api.deps.db.webhook.findUniqueOrThrow({ where: { id } })).deletedAt).not.toBeNull();

    expect((await request(api.app).get(`/v1/webhooks/${id}`).set(teamKey)).status).toBe(404);
    expect((await request(api.app).patch(`/v1/webhooks/${id}`).set(teamKey).send({ timeout: 5 })).status).toBe(404);
    expect((await request(api.app).delete(`/v1/webhooks/${id}`).set(teamKey)).status).toBe(404);
    expect((await request(api.app).get(`/v1/webhooks/${id}/secret`).set(teamKey)).status).toBe(404);
    expect((await request(api.app).post(`/v1/webhooks/${id}/secret/rotate`).set(teamKey)).status).toBe(404);
    const list = await request(api.app).get('/v1/webhooks').set(teamKey).query({ filters: JSON.stringify([{ field: 'id', operator: '=', value: id }]) });
    expect(list.body.data).toEqual([]);
  });
});

describe('routing', () => {
  it('answers 405 with the error shape for a wrong method on a known route', async () => {
    const created = await create({});
    const cases: Array<[string, string]> = [
      ['put', '/v1/webhooks'],
      ['delete', '/v1/webhooks'],
      ['post', `/v1/webhooks/${created.body.id}`],
      ['put', `/v1/webhooks/${created.body.id}`],
      ['post', `/v1/webhooks/${created.body.id}/secret`],
      ['get', `/v1/webhooks/${created.body.id}/secret/rotate`],
      ['get', '/v1/api-keys'],
      ['post', '/v1/event-types'],
    ];
    for (const [method, path] of cases) {
      const res = await (request(api.app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set(api.admin);
      expect([method, path, res.status]).toEqual([method, path, 405]);
      expect(res.body.error.code).toBe('method_not_allowed');
    }
  });

  it('answers 404 with the error shape for an unknown route', async () => {
    const res = await request(api.app).get('/v1/webhookz').set(api.admin);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('GET /v1/event-types', () => {
  it('lists the catalog with a JSON Schema per type', async () => {
    const res = await request(api.app).get('/v1/event-types').set(teamKey);
    expect(res.status).toBe(200);
    const types = res.body.data.map((t: { type: string }) => t.type);
    for (const type of ['ping', 'labeling_job.completed', 'labeling_queue.job.completed', 'labeling_queue.completed', 'create:project', 'update:task', 'delete:comment', 'label.created', 'webhook.disabled']) {
      expect(types).toContain(type);
    }
    const job = res.body.data.find((t: { type: string }) => t.type === 'labeling_job.completed');
    expect(job).toEqual({ type: 'labeling_job.completed', description: expect.any(String), schema: expect.objectContaining({ type: 'object' }) });
    expect(job.schema.required).toContain('job_id');
  });

  it('needs a token', async () => {
    expect((await request(api.app).get('/v1/event-types')).status).toBe(401);
  });
});
