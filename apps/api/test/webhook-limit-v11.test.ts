import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '@hooklane/core';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

/** MAX_WEBHOOKS_PER_TEAM (v1.1): creating one more is 409 limit_exceeded, even under concurrent creates. */

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi('whlimitv11', { MAX_WEBHOOKS_PER_TEAM: '3' });
});

afterAll(async () => {
  await api?.close();
});

const create = (team: number) =>
  request(api.app).post('/v1/webhooks').set(api.admin).send({ team_id: team, url: 'https://hooks.example.com/same', events: ['*'] });

describe('MAX_WEBHOOKS_PER_TEAM', () => {
  it('defaults to 1000', () => {
    expect(parseConfig({}).maxWebhooksPerTeam).toBe(1000);
  });

  it('refuses one more than the limit with 409 limit_exceeded; other teams are not affected; a delete frees a place', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) {
      const res = await create(1);
      expect(res.status).toBe(201);
      made.push(res.body.id as string);
    }
    const over = await create(1);
    expect(over.status).toBe(409);
    expect(over.body.error).toEqual({ code: 'limit_exceeded', message: expect.stringContaining('3'), details: [] });
    expect(await api.deps.db.webhook.count({ where: { teamId: 1 } })).toBe(3);

    expect((await create(2)).status).toBe(201);

    expect((await request(api.app).delete(`/v1/webhooks/${made[0]}`).set(api.admin)).status).toBe(204);
    expect((await create(1)).status).toBe(201);
    expect((await create(1)).status).toBe(409);
  });

  it('holds under 12 concurrent creates for one team', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => create(5)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(3).fill(201), ...Array(9).fill(409)]);
    expect(await api.deps.db.webhook.count({ where: { teamId: 5, deletedAt: null } })).toBe(3);
  });
});
