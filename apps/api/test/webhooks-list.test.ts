import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

let api: TestApi;

interface Listed {
  id: string;
  url: string;
  events: string[];
  project_id: number | null;
  is_active: boolean;
}

async function createWebhook(body: Record<string, unknown>): Promise<Listed> {
  const res = await request(api.app).post('/v1/webhooks').set(api.admin).send({ url: 'http://127.0.0.1:9/hook', ...body });
  expect(res.status).toBe(201);
  return res.body as Listed;
}

async function list(query: Record<string, string | number>) {
  return request(api.app).get('/v1/webhooks').set(api.admin).query(query);
}

async function idsOf(query: Record<string, string | number>): Promise<string[]> {
  const res = await list(query);
  expect(res.status).toBe(200);
  return (res.body.data as Listed[]).map((w) => w.id).sort();
}

const filters = (value: unknown) => JSON.stringify(value);

beforeAll(async () => {
  api = await startTestApi('webhookslist');
});

afterAll(async () => {
  await api.close();
});

describe('GET /v1/webhooks filters', () => {
  const TEAM = 51;
  let all: Record<'jobs' | 'tasks' | 'wild' | 'off' | 'proj', Listed>;

  beforeAll(async () => {
    all = {
      jobs: await createWebhook({ team_id: TEAM, events: ['labeling_job.completed'], url: 'http://127.0.0.1:9/jobs' }),
      tasks: await createWebhook({ team_id: TEAM, events: ['create:task', 'update:task'], project_id: 7 }),
      wild: await createWebhook({ team_id: TEAM, events: ['*'], project_id: 8 }),
      off: await createWebhook({ team_id: TEAM, events: ['create:task'], is_active: false }),
      proj: await createWebhook({ team_id: TEAM, action: 'label.created', project_id: 7 }),
    };
    // Another team's webhooks must never show up in this team's answers.
    await createWebhook({ team_id: TEAM + 1, events: ['*'], project_id: 7 });
  });

  const ids = (...names: Array<keyof typeof all>) => names.map((n) => all[n].id).sort();

  it('team_id narrows to one team; admin without team_id sees every team', async () => {
    expect(await idsOf({ team_id: TEAM })).toEqual(ids('jobs', 'tasks', 'wild', 'off', 'proj'));
    const everything = await list({ limit: 200 });
    expect(new Set((everything.body.data as Array<{ team_id: number }>).map((w) => w.team_id))).toEqual(new Set([TEAM, TEAM + 1]));
  });

  it('event matches webhooks holding the type or "*"', async () => {
    expect(await idsOf({ team_id: TEAM, event: 'create:task' })).toEqual(ids('tasks', 'wild', 'off'));
    expect(await idsOf({ team_id: TEAM, event: 'labeling_job.completed' })).toEqual(ids('jobs', 'wild'));
    expect(await idsOf({ team_id: TEAM, event: 'webhook.disabled' })).toEqual(ids('wild'));
  });

  it('project_id and is_active narrow the list, and combine', async () => {
    expect(await idsOf({ team_id: TEAM, project_id: 7 })).toEqual(ids('tasks', 'proj'));
    expect(await idsOf({ team_id: TEAM, project_id: 'null' })).toEqual(ids('jobs', 'off'));
    expect(await idsOf({ team_id: TEAM, is_active: 'false' })).toEqual(ids('off'));
    expect(await idsOf({ team_id: TEAM, is_active: 'true', event: 'create:task' })).toEqual(ids('tasks', 'wild'));
  });

  it('filters support =, != and in over every field', async () => {
    const f = (field: string, operator: string, value: unknown) => idsOf({ team_id: TEAM, filters: filters([{ field, operator, value }]) });
    expect(await f('id', '=', all.jobs.id)).toEqual(ids('jobs'));
    expect(await f('id', 'in', [all.jobs.id, all.off.id])).toEqual(ids('jobs', 'off'));
    expect(await f('id', '!=', all.jobs.id)).toEqual(ids('tasks', 'wild', 'off', 'proj'));
    expect(await f('url', '=', 'http://127.0.0.1:9/jobs')).toEqual(ids('jobs'));
    expect(await f('url', '!=', 'http://127.0.0.1:9/jobs')).toEqual(ids('tasks', 'wild', 'off', 'proj'));
    expect(await f('event', '=', 'update:task')).toEqual(ids('tasks', 'wild'));
    expect(await f('event', 'in', ['label.created', 'labeling_job.completed'])).toEqual(ids('jobs', 'wild', 'proj'));
    expect(await f('event', '!=', 'create:task')).toEqual(ids('jobs', 'proj'));
    expect(await f('project_id', '=', 7)).toEqual(ids('tasks', 'proj'));
    expect(await f('project_id', '=', null)).toEqual(ids('jobs', 'off'));
    // "Every project" webhooks (null) are not 7, so they belong in a != 7 answer.
    expect(await f('project_id', '!=', 7)).toEqual(ids('jobs', 'wild', 'off'));
    expect(await f('project_id', 'in', [8, null])).toEqual(ids('jobs', 'wild', 'off'));
    expect(await f('is_active', '=', false)).toEqual(ids('off'));
    expect(await f('is_active', '!=', false)).toEqual(ids('jobs', 'tasks', 'wild', 'proj'));
  });

  it('several filters all apply', async () => {
    const res = await idsOf({
      team_id: TEAM,
      filters: filters([
        { field: 'event', operator: '=', value: 'create:task' },
        { field: 'is_active', operator: '=', value: true },
        { field: 'project_id', operator: 'in', value: [7] },
      ]),
    });
    expect(res).toEqual(ids('tasks'));
  });

  it('a team key sees only its team, with or without naming it', async () => {
    const key = await request(api.app).post('/v1/api-keys').set(api.admin).send({ team_id: TEAM });
    const auth = { Authorization: `Bearer ${key.body.key}` };
    const mine = await request(api.app).get('/v1/webhooks').set(auth).query({ limit: 200 });
    expect((mine.body.data as Listed[]).map((w) => w.id).sort()).toEqual(ids('jobs', 'tasks', 'wild', 'off', 'proj'));
    const other = await request(api.app).get('/v1/webhooks').set(auth).query({ team_id: TEAM + 1 });
    expect(other.status).toBe(403);
    const byId = await request(api.app).get('/v1/webhooks').set(auth).query({ filters: filters([{ field: 'project_id', operator: '=', value: 7 }]) });
    expect((byId.body.data as Listed[]).map((w) => w.id).sort()).toEqual(ids('tasks', 'proj'));
  });
});

describe('GET /v1/webhooks pagination', () => {
  const TEAM = 61;

  async function createMany(n: number, from: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, n - i) }, (_, j) => createWebhook({ team_id: TEAM, events: ['*'], description: `#${from + i + j}` })),
      );
      ids.push(...batch.map((w) => w.id));
    }
    return ids;
  }

  it('walks 120 webhooks in pages of 25 with no duplicate and no gap, even while more are added', async () => {
    const initial = await createMany(120, 0);
    const seen: string[] = [];
    const added: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await list({ team_id: TEAM, limit: 25, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(25);
      seen.push(...(res.body.data as Listed[]).map((w) => w.id));
      cursor = res.body.next_cursor;
      pages += 1;
      // New webhooks arrive between page fetches, as they would in production.
      if (pages <= 3) added.push(...(await createMany(3, 1000 + pages * 3)));
    } while (cursor !== null && pages < 50);

    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...initial, ...added].sort());
    expect(pages).toBe(Math.ceil((120 + 9) / 25));
  });

  it('a page that holds the last row has next_cursor null; limit defaults to 50 and is capped at 200', async () => {
    const total = await api.deps.db.webhook.count({ where: { teamId: TEAM } });
    const first = await list({ team_id: TEAM });
    expect(first.body.data).toHaveLength(50);
    expect(typeof first.body.next_cursor).toBe('string');
    const whole = await list({ team_id: TEAM, limit: 200 });
    expect(whole.body.data).toHaveLength(total);
    expect(whole.body.next_cursor).toBeNull();
    const exact = await list({ team_id: TEAM, limit: total - 1 });
    const rest = await list({ team_id: TEAM, limit: 1, cursor: exact.body.next_cursor });
    expect(rest.body.data).toHaveLength(1);
    expect(rest.body.next_cursor).toBeNull();
    expect((await list({ team_id: TEAM, limit: 201 })).status).toBe(400);
    expect((await list({ team_id: TEAM, limit: 0 })).status).toBe(400);
  });

  it('pages keep the order of creation and a filter keeps applying across pages', async () => {
    const ordered: Listed[] = [];
    let cursor: string | null = null;
    do {
      const res = await list({ team_id: TEAM, limit: 7, filters: filters([{ field: 'is_active', operator: '=', value: true }]), ...(cursor ? { cursor } : {}) });
      ordered.push(...(res.body.data as Listed[]));
      cursor = res.body.next_cursor;
    } while (cursor !== null);
    const created = ordered.map((w) => (w as unknown as { created_at: string }).created_at);
    expect([...created].sort()).toEqual(created);
    expect(ordered.length).toBe(await api.deps.db.webhook.count({ where: { teamId: TEAM, isActive: true } }));
  });
});
