import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import request from 'supertest';
import { createApp } from '../src/app.js';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

/** Security rules (v1.1), the smaller findings: reserved event types, audit log lines, 405 with Allow. */

let api: TestApi;
let app: ReturnType<typeof createApp>;
const logLines: string[] = [];

beforeAll(async () => {
  api = await startTestApi('hardeningv11');
  // The same API, logging at info into memory, so the audit lines can be read.
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  app = createApp({ ...api.deps, logger: pino({ level: 'info' }, sink) });
});

afterAll(async () => {
  await api?.close();
});

async function teamKey(team: number): Promise<{ id: string; key: string; auth: { Authorization: string } }> {
  const res = await request(app).post('/v1/api-keys').set(api.admin).send({ team_id: team });
  expect(res.status).toBe(201);
  return { id: res.body.id, key: res.body.key, auth: { Authorization: `Bearer ${res.body.key}` } };
}

const DISABLED = { event: 'webhook.disabled', data: { webhook_id: 'wh_01JKA8W5Q0V3M4N5P6R7S8T9V0', reason: 'gone' } };

describe('reserved event types', () => {
  it('a team key may not emit webhook.disabled (403), and neither may the admin token; nothing is stored', async () => {
    const { auth } = await teamKey(31);
    await request(app).post('/v1/webhooks').set(api.admin).send({ team_id: 31, url: 'https://hooks.example.com/x', events: ['*'] });
    for (const who of [auth, api.admin]) {
      const res = await request(app).post('/v1/events').set(who).send({ ...DISABLED, team_id: 31 });
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('webhook.disabled') });
    }
    expect(await api.deps.db.event.count({ where: { teamId: 31 } })).toBe(0);
    expect(await api.deps.db.delivery.count({ where: { teamId: 31 } })).toBe(0);
  });

  it('in a batch, the reserved event fails in its slot and the others go through', async () => {
    const { auth } = await teamKey(32);
    const res = await request(app)
      .post('/v1/events/batch')
      .set(auth)
      .send({ events: [{ ...DISABLED, team_id: 32 }, { event: 'ping', team_id: 32, data: {} }] });
    expect(res.status).toBe(202);
    expect(res.body.results[0].error.code).toBe('forbidden');
    expect(res.body.results[1].event_id).toEqual(expect.any(String));
    expect(await api.deps.db.event.count({ where: { teamId: 32 } })).toBe(1);
  });
});

describe('audit log lines', () => {
  const auditLines = () => logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.audit !== undefined);

  it('key creation and revocation, secret reveal and rotation each log one line with ids and never a value', async () => {
    const before = auditLines().length;
    const key = await teamKey(33);
    const hook = await request(app)
      .post('/v1/webhooks')
      .set(key.auth)
      .send({ team_id: 33, url: 'https://hooks.example.com/a', events: ['*'] });
    const revealed = await request(app).get(`/v1/webhooks/${hook.body.id}/secret`).set(key.auth);
    const rotated = await request(app).post(`/v1/webhooks/${hook.body.id}/secret/rotate`).set(key.auth).send({});
    const patched = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    await request(app).patch(`/v1/webhooks/${hook.body.id}`).set(api.admin).send({ secret: patched });
    expect((await request(app).delete(`/v1/api-keys/${key.id}`).set(api.admin)).status).toBe(204);

    const lines = auditLines().slice(before);
    expect(lines).toEqual([
      expect.objectContaining({ audit: 'api_key.created', key_id: key.id, team_id: 33, actor: 'admin' }),
      expect.objectContaining({ audit: 'webhook.secret_revealed', webhook_id: hook.body.id, team_id: 33, actor: 'team', actor_team_id: 33 }),
      expect.objectContaining({ audit: 'webhook.secret_rotated', webhook_id: hook.body.id, team_id: 33, actor: 'team' }),
      expect.objectContaining({ audit: 'webhook.secret_rotated', webhook_id: hook.body.id, team_id: 33, actor: 'admin', via: 'patch' }),
      expect.objectContaining({ audit: 'api_key.revoked', key_id: key.id, actor: 'admin' }),
    ]);
    const text = JSON.stringify(lines);
    for (const value of [key.key, hook.body.secret, revealed.body.secret, rotated.body.secret, patched]) {
      expect(text).not.toContain(value);
    }
  });

  it('erasing a team logs one revocation line per live key it revokes, with ids and never a key', async () => {
    const first = await teamKey(34);
    const second = await teamKey(34);
    const gone = await teamKey(34);
    expect((await request(app).delete(`/v1/api-keys/${gone.id}`).set(api.admin)).status).toBe(204);
    const before = auditLines().length;
    expect((await request(app).delete('/v1/teams/34').set(api.admin)).status).toBe(200);
    const lines = auditLines().slice(before);
    expect(lines).toHaveLength(2);
    expect(lines).toEqual(
      expect.arrayContaining([first.id, second.id].map((id) => expect.objectContaining({ audit: 'api_key.revoked', key_id: id, team_id: 34, actor: 'admin', via: 'team_erasure' }))),
    );
    expect(JSON.stringify(lines)).not.toMatch(new RegExp(`${first.key}|${second.key}`));
    expect((await request(app).get('/v1/webhooks').set(first.auth)).status).toBe(401);
  });
});

describe('405 answers carry an Allow header', () => {
  it.each([
    ['put', '/v1/webhooks', 'GET, HEAD, POST'],
    ['post', '/v1/webhooks/wh_x', 'DELETE, GET, HEAD, PATCH'],
    ['delete', '/v1/webhooks/wh_x/secret', 'GET, HEAD'],
    ['get', '/v1/webhooks/wh_x/secret/rotate', 'POST'],
    ['get', '/v1/api-keys', 'POST'],
    ['get', '/v1/api-keys/key_x', 'DELETE'],
    ['get', '/v1/events', 'POST'],
    ['put', '/v1/events/evt_x', 'GET, HEAD'],
    ['post', '/openapi.json', 'GET, HEAD'],
    ['post', '/docs', 'GET, HEAD'],
  ] as const)('%s %s -> 405, Allow: %s', async (method, path, allow) => {
    const res = await request(app)[method](path).set(api.admin);
    expect(res.status).toBe(405);
    expect(res.body.error.code).toBe('method_not_allowed');
    expect(res.headers.allow).toBe(allow);
  });
});
