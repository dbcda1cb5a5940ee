import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ADMIN_TOKEN, startTestApi, type TestApi } from '../../../test/support/api.js';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { createApp } from '../src/app.js';
import { createPortalTokens, portalSigningKey } from '../src/portal/session-token.js';

/** Portal session tokens through the API: who may open one, and what one may reach. */

let api: TestApi;
let worker: TestWorker;
let receiver: Server;
let target: string;
const TEAM = 7;
const OTHER_TEAM = 8;
// Two projects of TEAM, one webhook each, each with one delivery from one event.
// A team-wide webhook (project_id null) gets both events too.
const ids = { whA: '', whB: '', whAll: '', whOther: '', dlvA: '', dlvB: '', evtA: '', evtB: '' };

async function adminPost(path: string, body: object) {
  const res = await request(api.app).post(path).set(api.admin).send(body);
  expect(res.status).toBeLessThan(300);
  return res.body as Record<string, unknown>;
}

async function session(body: Record<string, unknown> = {}): Promise<string> {
  const res = await request(api.app).post('/v1/portal-sessions').set(api.admin).send({ team_id: TEAM, ...body });
  expect(res.status).toBe(201);
  return res.body.token as string;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function call(token: string, method: string, path: string, body?: object) {
  const req = request(api.app)[method.toLowerCase() as 'get'](path).set(bearer(token));
  return body === undefined ? req : req.send(body);
}

beforeAll(async () => {
  api = await startTestApi('portal');
  worker = await startTestWorker({ databaseUrl: api.database.url, prefix: api.prefix });
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('pong'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const hook = (team: number, project: number) => ({ team_id: team, project_id: project, url: target, events: ['create:task'] });
  ids.whA = (await adminPost('/v1/webhooks', hook(TEAM, 1))).id as string;
  ids.whB = (await adminPost('/v1/webhooks', hook(TEAM, 2))).id as string;
  ids.whOther = (await adminPost('/v1/webhooks', hook(OTHER_TEAM, 1))).id as string;
  ids.whAll = (await adminPost('/v1/webhooks', { ...hook(TEAM, 1), project_id: null })).id as string;
  for (const [project, evt, dlv, wh] of [[1, 'evtA', 'dlvA', 'whA'], [2, 'evtB', 'dlvB', 'whB']] as const) {
    const sent = await adminPost('/v1/events', { event: 'create:task', team_id: TEAM, project_id: project, data: { task: { id: 1 } } });
    ids[evt] = sent.event_id as string;
    const event = await request(api.app).get(`/v1/events/${ids[evt]}`).set(api.admin);
    expect(event.body.deliveries).toHaveLength(2);
    ids[dlv] = event.body.deliveries.find((d: { webhook_id: string }) => d.webhook_id === ids[wh]).id as string;
  }
});

afterAll(async () => {
  await worker?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  await api?.close();
});

describe('POST /v1/portal-sessions', () => {
  it('the admin gets a token, the dashboard URL with the token in its fragment, and the expiry (default 1 hour)', async () => {
    const before = Date.now();
    const res = await request(api.app).post('/v1/portal-sessions').set(api.admin).set('Host', 'hooks.example.com').send({ team_id: TEAM });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['expires_at', 'token', 'url']);
    expect(res.body.url).toBe(`http://hooks.example.com/portal#token=${res.body.token}`);
    const expires = Date.parse(res.body.expires_at);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000);
  });

  it('a team key opens one for its own team only', async () => {
    const key = (await adminPost('/v1/api-keys', { team_id: TEAM })).key as string;
    const own = await request(api.app).post('/v1/portal-sessions').set(bearer(key)).send({ team_id: TEAM, expires_in: 60 });
    expect(own.status).toBe(201);
    const other = await request(api.app).post('/v1/portal-sessions').set(bearer(key)).send({ team_id: OTHER_TEAM });
    expect(other.status).toBe(403);
  });

  it('checks its body: expires_in 60..86400, booleans, no unknown fields', async () => {
    for (const [body, path] of [
      [{ team_id: TEAM, expires_in: 59 }, 'expires_in'],
      [{ team_id: TEAM, expires_in: 86_401 }, 'expires_in'],
      [{ team_id: TEAM, read_only: 'yes' }, 'read_only'],
      [{ team_id: TEAM, project_id: 0 }, 'project_id'],
      [{ team_id: TEAM, readonly: true }, 'readonly'],
      [{}, 'team_id'],
    ] as const) {
      const res = await request(api.app).post('/v1/portal-sessions').set(api.admin).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    const longest = await request(api.app).post('/v1/portal-sessions').set(api.admin).send({ team_id: TEAM, expires_in: 86_400 });
    expect(Date.parse(longest.body.expires_at)).toBeGreaterThan(Date.now() + 86_000_000);
  });

  it('needs a token', async () => {
    expect((await request(api.app).post('/v1/portal-sessions').send({ team_id: TEAM })).status).toBe(401);
  });
});

// Every route a session may use, in an order where each step leaves what the next needs.
function allowedRoutes(): Array<[string, string, object | undefined, number]> {
  return [
    ['GET', '/v1/event-types', undefined, 200],
    ['GET', '/v1/webhooks', undefined, 200],
    ['GET', `/v1/webhooks/${ids.whA}`, undefined, 200],
    ['PATCH', `/v1/webhooks/${ids.whA}`, { description: 'from the portal' }, 200],
    ['GET', `/v1/webhooks/${ids.whA}/secret`, undefined, 200],
    ['POST', `/v1/webhooks/${ids.whA}/secret/rotate`, {}, 200],
    ['POST', `/v1/webhooks/${ids.whA}/test`, {}, 200],
    ['GET', `/v1/webhooks/${ids.whA}/deliveries`, undefined, 200],
    ['POST', `/v1/webhooks/${ids.whA}/recover`, { since: '2020-01-01T00:00:00Z' }, 202],
    ['GET', `/v1/deliveries/${ids.dlvA}`, undefined, 200],
    ['POST', `/v1/deliveries/${ids.dlvA}/redeliver`, undefined, 202],
    ['GET', `/v1/events/${ids.evtA}`, undefined, 200],
    ['POST', '/v1/webhooks', { team_id: TEAM, project_id: 1, url: target, events: ['*'] }, 201],
  ];
}

const FORBIDDEN: Array<[string, string, object | undefined]> = [
  ['POST', '/v1/api-keys', { team_id: TEAM }],
  ['DELETE', '/v1/api-keys/key_01JKA8W5Q0V3M4N5P6R7S8T9V0', undefined],
  ['POST', '/v1/portal-sessions', { team_id: TEAM }],
  ['POST', '/v1/events', { event: 'create:task', team_id: TEAM, data: { task: { id: 1 } } }],
  ['POST', '/v1/events/batch', { events: [{ event: 'create:task', team_id: TEAM, data: { task: { id: 1 } } }] }],
  ['DELETE', `/v1/events/${'evt_01JKA8W5Q0V3M4N5P6R7S8T9V0'}`, undefined],
  ['DELETE', `/v1/teams/${TEAM}`, undefined],
  ['GET', '/v1/api-keys', undefined],
];

describe('a portal session as bearer token', () => {
  it('works on every webhook, delivery, event-reading and catalog route of its team', async () => {
    const token = await session();
    for (const [method, path, body, status] of allowedRoutes()) {
      const res = await call(token, method, path, body);
      expect({ method, path, status: res.status }).toEqual({ method, path, status });
    }
    const list = await call(token, 'GET', '/v1/webhooks');
    expect(list.body.data.every((w: { team_id: number }) => w.team_id === TEAM)).toBe(true);
    const created = await call(token, 'POST', '/v1/webhooks', { team_id: TEAM, url: target, events: ['*'] });
    expect((await call(token, 'DELETE', `/v1/webhooks/${created.body.id}`)).status).toBe(204);
  });

  it('stays in its team: another team is 403 when named, 404 by id', async () => {
    const token = await session();
    expect((await call(token, 'GET', `/v1/webhooks/${ids.whOther}`)).status).toBe(404);
    expect((await call(token, 'GET', `/v1/webhooks?team_id=${OTHER_TEAM}`)).status).toBe(403);
    expect((await call(token, 'POST', '/v1/webhooks', { team_id: OTHER_TEAM, url: target, events: ['*'] })).status).toBe(403);
  });

  it('may not create or revoke keys, open sessions, emit or erase events, erase a team, or use any other route (403)', async () => {
    const token = await session();
    for (const [method, path, body] of FORBIDDEN) {
      const res = await call(token, method, path, body);
      expect({ method, path, status: res.status, code: res.body.error?.code }).toEqual({ method, path, status: 403, code: 'forbidden' });
    }
    // Nothing was emitted on its behalf.
    const deliveries = await call(token, 'GET', `/v1/webhooks/${ids.whB}/deliveries`);
    expect(deliveries.body.data).toHaveLength(1);
  });

  it('read_only: every read works, every write is 403 and changes nothing', async () => {
    const token = await session({ read_only: true });
    for (const [method, path, body, status] of allowedRoutes()) {
      const res = await call(token, method, path, body);
      const expected = method === 'GET' ? status : 403;
      expect({ method, path, status: res.status }).toEqual({ method, path, status: expected });
    }
    expect((await call(token, 'DELETE', `/v1/webhooks/${ids.whA}`)).status).toBe(403);
    expect((await request(api.app).get(`/v1/webhooks/${ids.whA}`).set(api.admin)).status).toBe(200);
  });

  it('project_id: sees only that project, creates only in it', async () => {
    const token = await session({ project_id: 1 });
    const list = await call(token, 'GET', '/v1/webhooks');
    expect(list.status).toBe(200);
    expect(list.body.data.length).toBeGreaterThan(0);
    expect(list.body.data.every((w: { project_id: number }) => w.project_id === 1)).toBe(true);
    expect((await call(token, 'GET', '/v1/webhooks?project_id=2')).status).toBe(403);
    for (const path of [`/v1/webhooks/${ids.whB}`, `/v1/webhooks/${ids.whB}/secret`, `/v1/deliveries/${ids.dlvB}`, `/v1/events/${ids.evtB}`]) {
      expect({ path, status: (await call(token, 'GET', path)).status }).toEqual({ path, status: 404 });
    }
    expect((await call(token, 'POST', `/v1/deliveries/${ids.dlvB}/redeliver`)).status).toBe(404);
    expect((await call(token, 'GET', `/v1/webhooks/${ids.whA}`)).status).toBe(200);
    expect((await call(token, 'GET', `/v1/deliveries/${ids.dlvA}`)).status).toBe(200);
    // The event's deliveries to the team-wide webhook stay hidden, as that webhook does.
    expect((await call(token, 'GET', `/v1/webhooks/${ids.whAll}`)).status).toBe(404);
    const event = await call(token, 'GET', `/v1/events/${ids.evtA}`);
    expect([...new Set(event.body.deliveries.map((d: { webhook_id: string }) => d.webhook_id))]).toEqual([ids.whA]);

    const created = await call(token, 'POST', '/v1/webhooks', { team_id: TEAM, url: target, events: ['*'] });
    expect(created.status).toBe(201);
    expect(created.body.project_id).toBe(1);
    for (const project_id of [2, null]) {
      const res = await call(token, 'POST', '/v1/webhooks', { team_id: TEAM, project_id, url: target, events: ['*'] });
      expect(res.status).toBe(403);
    }
    expect((await call(token, 'PATCH', `/v1/webhooks/${ids.whA}`, { project_id: 2 })).status).toBe(403);
    expect((await call(token, 'PATCH', `/v1/webhooks/${ids.whB}`, { description: 'x' })).status).toBe(404);
  });

  it('expired, tampered or signed with another key: 401 on every route', async () => {
    const tokens = createPortalTokens(portalSigningKey(undefined, ADMIN_TOKEN));
    const expired = tokens.sign({ teamId: TEAM, projectId: null, readOnly: false, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    const good = await session();
    const [claims, mac] = good.split('.') as [string, string];
    const widened = JSON.parse(Buffer.from(claims.slice(4), 'base64url').toString()) as Record<string, unknown>;
    widened.team = OTHER_TEAM;
    const tampered = `hlp_${Buffer.from(JSON.stringify(widened)).toString('base64url')}.${mac}`;
    const foreign = createPortalTokens(Buffer.from('another-portal-secret-0123')).sign({
      teamId: TEAM, projectId: null, readOnly: false, expiresAt: Math.floor(Date.now() / 1000) + 600,
    });
    for (const bad of [expired, tampered, foreign, `${good}x`, 'hlp_garbage']) {
      for (const [method, path, body] of allowedRoutes()) {
        const res = await call(bad, method, path, body);
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
      }
    }
    const res = await call(expired, 'GET', '/v1/webhooks');
    expect(res.body.error).toMatchObject({ code: 'unauthorized', message: 'Portal session expired' });
  });

  it('PORTAL_SECRET signs instead of the admin token, and changing it ends every session', async () => {
    const token = await session();
    const config = { ...api.deps.config, portalSecret: 'a-dedicated-portal-secret' };
    const rekeyed = createApp({ ...api.deps, config });
    expect((await request(rekeyed).get('/v1/webhooks').set(bearer(token))).status).toBe(401);
    const fresh = await request(rekeyed).post('/v1/portal-sessions').set(api.admin).send({ team_id: TEAM });
    expect((await request(rekeyed).get('/v1/webhooks').set(bearer(fresh.body.token))).status).toBe(200);
    expect((await request(api.app).get('/v1/webhooks').set(bearer(fresh.body.token))).status).toBe(401);
  });
});
