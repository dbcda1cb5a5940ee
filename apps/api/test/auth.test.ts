import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { ADMIN_TOKEN, startTestApi, type TestApi } from '../../../test/support/api.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi('auth');
});

afterAll(async () => {
  await api.close();
});

async function newKey(teamId: number) {
  const res = await request(api.app).post('/v1/api-keys').set(api.admin).send({ team_id: teamId });
  expect(res.status).toBe(201);
  return res.body as { id: string; team_id: number; key: string };
}

describe('POST /v1/api-keys', () => {
  it('the admin gets a random key, shown once and stored only as its SHA-256 hash', async () => {
    const a = await newKey(7);
    const b = await newKey(7);
    expect(Object.keys(a).sort()).toEqual(['id', 'key', 'team_id']);
    expect(a).toMatchObject({ id: expect.stringMatching(/^key_/), team_id: 7, key: expect.stringMatching(/^hlk_[A-Za-z0-9_-]{43}$/) });
    expect(a.key).not.toBe(b.key);

    const row = await api.deps.db.apiKey.findUniqueOrThrow({ where: { id: a.id } });
    expect(row.keyHash).toBe(createHash('sha256').update(a.key).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(a.key);
  });

  it('the new key works at once for its team', async () => {
    const { key } = await newKey(8);
    const res = await request(api.app).get('/v1/webhooks').set('Authorization', `Bearer ${key}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [], next_cursor: null });
  });

  it('a team key may not create keys, not even for its own team', async () => {
    const { key } = await newKey(9);
    for (const teamId of [9, 10]) {
      const res = await request(api.app).post('/v1/api-keys').set('Authorization', `Bearer ${key}`).send({ team_id: teamId });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    expect(await api.deps.db.apiKey.count({ where: { teamId: 10 } })).toBe(0);
  });

  it('refuses a bad team_id', async () => {
    for (const body of [{}, { team_id: 0 }, { team_id: -1 }, { team_id: 1.5 }, { team_id: '7' }, { team_id: 2 ** 31 }, { team_id: 7, name: 'x' }]) {
      const res = await request(api.app).post('/v1/api-keys').set(api.admin).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
  });
});

describe('bearer tokens', () => {
  const routes: Array<[string, string]> = [
    ['get', '/v1/webhooks'],
    ['post', '/v1/webhooks'],
    ['get', '/v1/webhooks/wh_01JKA8W5Q0V3M4N5P6R7S8T9V0'],
    ['post', '/v1/api-keys'],
    ['get', '/v1/event-types'],
  ];
  const send = (method: string, path: string) =>
    (request(api.app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path);

  it('no token, a malformed header, or an unknown token is 401 with the error shape', async () => {
    const headers: Array<Record<string, string>> = [
      {},
      { Authorization: ADMIN_TOKEN },
      { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
      { Authorization: 'Bearer ' },
      { Authorization: `Bearer ${ADMIN_TOKEN}x` },
      { Authorization: 'Bearer hlk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      { Authorization: `Bearer ${'a'.repeat(600)}` },
    ];
    for (const [method, path] of routes) {
      for (const header of headers) {
        const res = await send(method, path).set(header);
        expect([method, path, res.status]).toEqual([method, path, 401]);
        expect(res.body.error).toMatchObject({ code: 'unauthorized', message: expect.any(String) });
      }
    }
  });

  it('the admin token is accepted with any case of "Bearer"', async () => {
    const res = await request(api.app).get('/v1/webhooks').set('Authorization', `bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
  });

  it('a revoked key is refused from then on; revoking is admin only', async () => {
    const { id, key } = await newKey(11);
    const auth = { Authorization: `Bearer ${key}` };
    expect((await request(api.app).get('/v1/webhooks').set(auth)).status).toBe(200);
    expect((await request(api.app).delete(`/v1/api-keys/${id}`).set(auth)).status).toBe(403);
    expect((await request(api.app).delete(`/v1/api-keys/${id}`).set(api.admin)).status).toBe(204);
    expect((await request(api.app).get('/v1/webhooks').set(auth)).status).toBe(401);
    expect((await request(api.app).delete(`/v1/api-keys/${id}`).set(api.admin)).status).toBe(404);
    expect((await request(api.app).delete('/v1/api-keys/nope').set(api.admin)).status).toBe(404);
  });

  it('public routes need no token', async () => {
    expect((await request(api.app).get('/openapi.json')).status).toBe(200);
    expect((await request(api.app).get('/docs')).status).toBe(200);
    expect((await request(api.app).get('/healthz')).status).toBe(200);
  });
});
