import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

/**
 * Two teams side by side: a team key must never read, change, count or even learn of
 * the other team's webhooks. Another team's id is a 404 (like a missing one); naming
 * another team is a 403.
 */

let api: TestApi;
const A = 101;
const B = 202;
let keyA: { Authorization: string };
let keyB: { Authorization: string };
let hookA: { id: string; secret: string };
let hookB: { id: string; secret: string };

async function keyFor(teamId: number) {
  const res = await request(api.app).post('/v1/api-keys').set(api.admin).send({ team_id: teamId });
  return { Authorization: `Bearer ${res.body.key as string}` };
}

async function hookFor(auth: { Authorization: string }, teamId: number) {
  const res = await request(api.app)
    .post('/v1/webhooks')
    .set(auth)
    .send({ team_id: teamId, url: 'http://127.0.0.1:9/hook', events: ['*'], description: `team ${teamId}` });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string };
}

beforeAll(async () => {
  api = await startTestApi('isolation');
  keyA = await keyFor(A);
  keyB = await keyFor(B);
  hookA = await hookFor(keyA, A);
  hookB = await hookFor(keyB, B);
});

afterAll(async () => {
  await api.close();
});

async function unchanged() {
  const row = await api.deps.db.webhook.findUniqueOrThrow({ where: { id: hookB.id } });
  expect(row).toMatchObject({ teamId: B, description: `team ${B}`, secret: hookB.secret, deletedAt: null, previousSecret: null });
}

describe('another team’s webhook id is 404 in every route, and nothing changes', () => {
  const missing = 'wh_01JKA8W5Q0V3M4N5P6R7S8T9V0';
  const cases: Array<[string, string, Record<string, unknown> | undefined]> = [
    ['get', '', undefined],
    ['patch', '', { description: 'hijacked' }],
    ['delete', '', undefined],
    ['get', '/secret', undefined],
    ['post', '/secret/rotate', undefined],
  ];

  for (const [method, suffix, body] of cases) {
    it(`${method.toUpperCase()} /v1/webhooks/:id${suffix}`, async () => {
      const call = (id: string) => {
        const req = (request(api.app) as unknown as Record<string, (p: string) => request.Test>)[method]!(`/v1/webhooks/${id}${suffix}`).set(keyA);
        return body ? req.send(body) : req;
      };
      const theirs = await call(hookB.id);
      const none = await call(missing);
      expect(theirs.status).toBe(404);
      // Same answer as for an id that does not exist, so the key learns nothing.
      expect(theirs.body).toEqual(none.body);
      await unchanged();
      // The owner still can.
      const own = (request(api.app) as unknown as Record<string, (p: string) => request.Test>).get!(`/v1/webhooks/${hookB.id}`).set(keyB);
      expect((await own).status).toBe(200);
    });
  }
});

describe('lists and counts', () => {
  it('a team key lists only its own webhooks, even when filtering by the other team’s id', async () => {
    const res = await request(api.app).get('/v1/webhooks').set(keyA);
    expect(res.body.data.map((w: { id: string }) => w.id)).toEqual([hookA.id]);
    const probe = await request(api.app)
      .get('/v1/webhooks')
      .set(keyA)
      .query({ filters: JSON.stringify([{ field: 'id', operator: 'in', value: [hookB.id, hookA.id] }]) });
    expect(probe.body.data.map((w: { id: string }) => w.id)).toEqual([hookA.id]);
  });

  it('naming the other team in the query is 403', async () => {
    const res = await request(api.app).get('/v1/webhooks').set(keyA).query({ team_id: B });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect((await request(api.app).get('/v1/webhooks').set(keyA).query({ team_id: A })).status).toBe(200);
  });
});

describe('naming another team in a body is 403', () => {
  it('creating a webhook for the other team', async () => {
    const before = await api.deps.db.webhook.count({ where: { teamId: B } });
    const res = await request(api.app)
      .post('/v1/webhooks')
      .set(keyA)
      .send({ team_id: B, url: 'http://127.0.0.1:9/hook', events: ['*'] });
    expect(res.status).toBe(403);
    expect(await api.deps.db.webhook.count({ where: { teamId: B } })).toBe(before);
  });

  it('moving its own webhook to the other team', async () => {
    const res = await request(api.app).patch(`/v1/webhooks/${hookA.id}`).set(keyA).send({ team_id: B });
    expect(res.status).toBe(403);
    expect((await api.deps.db.webhook.findUniqueOrThrow({ where: { id: hookA.id } })).teamId).toBe(A);
  });

  it('calling an admin route', async () => {
    const res = await request(api.app).post('/v1/api-keys').set(keyA).send({ team_id: B });
    expect(res.status).toBe(403);
  });
});

describe('the admin', () => {
  it('reaches both teams', async () => {
    for (const id of [hookA.id, hookB.id]) {
      expect((await request(api.app).get(`/v1/webhooks/${id}`).set(api.admin)).status).toBe(200);
    }
    const res = await request(api.app).get('/v1/webhooks').set(api.admin).query({ team_id: B });
    expect(res.body.data.map((w: { id: string }) => w.id)).toEqual([hookB.id]);
  });
});
