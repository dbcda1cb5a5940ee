import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

// Concurrent ingests share one statement; a failure that is not an outage must stay with the
// request that caused it. A trigger refuses one team's events, as a bad row would.

const POISONED_TEAM = 666;
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi('poison');
  await api.deps.db.$executeRawUnsafe(`
    CREATE FUNCTION refuse_poisoned() RETURNS trigger AS $$
    BEGIN
      IF NEW.team_id = ${POISONED_TEAM} THEN RAISE EXCEPTION 'poisoned event'; END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await api.deps.db.$executeRawUnsafe(
    'CREATE TRIGGER refuse_poisoned BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_poisoned()',
  );
});

afterAll(async () => {
  await api.close();
});

describe('a failing request among coalesced ones', () => {
  it('fails alone: 50 good requests of other teams are stored, the poisoned one is refused', async () => {
    const good = Array.from({ length: 50 }, (_, i) =>
      request(api.app).post('/v1/events').set(api.admin).send({ event: 'ping', team_id: 1000 + i, data: { i } }),
    );
    const poisoned = request(api.app).post('/v1/events').set(api.admin).send({ event: 'ping', team_id: POISONED_TEAM, data: {} });
    const [bad, ...answers] = await Promise.all([poisoned, ...good]);
    expect(answers.map((r) => r.status)).toEqual(Array(50).fill(202));
    expect(bad!.status).toBe(500);
    expect(bad!.body.error.code).toBeDefined();
    expect(await api.deps.db.event.count({ where: { teamId: { gte: 1000, lt: 1050 } } })).toBe(50);
    expect(await api.deps.db.event.count({ where: { teamId: POISONED_TEAM } })).toBe(0);
  });
});
