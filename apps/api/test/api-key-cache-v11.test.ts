import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectRedis } from '@hooklane/queue';
import request from 'supertest';
import { ApiKeyCache, TRUST_MS } from '../src/http/api-key-cache.js';
import { hashApiKey } from '../src/http/auth.js';
import { startTestApi, type TestApi } from '../../../test/support/api.js';

/**
 * Issue 12.3, "keep the cache's speed": instant revocation must not cost a PostgreSQL read per
 * request. A second cache on the same Redis prefix plays another API process; the loader
 * reads the real key row and counts how often the cache had to ask.
 * (Refusal within a second across real processes: test/ops/key-revocation.test.ts.)
 */

let api: TestApi;
let other: ApiKeyCache;
let subscriber: ReturnType<typeof connectRedis>;
let loads = 0;

const load = async (keyHash: string) => {
  loads += 1;
  const row = await api.deps.db.apiKey.findUnique({ where: { keyHash }, select: { teamId: true, revokedAt: true } });
  return row ? { teamId: row.teamId, revoked: row.revokedAt !== null } : null;
};

beforeAll(async () => {
  api = await startTestApi('keycachev11');
  subscriber = connectRedis(api.deps.config, 'worker');
  other = new ApiKeyCache({ db: api.deps.db, redis: api.deps.redis, subscriber, prefix: api.prefix, logger: api.deps.logger });
  await other.start();
});

afterAll(async () => {
  other?.close();
  subscriber?.disconnect();
  await api?.close();
});

describe('the API key cache', () => {
  it('serves a key from memory across the trust window (one PostgreSQL read for 3 s of requests), and reloads it within a second of a revocation elsewhere', async () => {
    const created = await request(api.app).post('/v1/api-keys').set(api.admin).send({ team_id: 61 });
    expect(created.status).toBe(201);
    const hash = hashApiKey(created.body.key as string);

    loads = 0;
    const until = Date.now() + 3 * TRUST_MS + 300;
    let lookups = 0;
    while (Date.now() < until) {
      expect(await other.lookUp(hash, load)).toMatchObject({ teamId: 61, revoked: false });
      lookups += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(lookups).toBeGreaterThan(100);
    expect(loads).toBe(1);

    // Revoked through the API (this test's app is the other process).
    const revokedAt = Date.now();
    expect((await request(api.app).delete(`/v1/api-keys/${created.body.id as string}`).set(api.admin)).status).toBe(204);
    let entry = await other.lookUp(hash, load);
    while (!entry?.revoked && Date.now() - revokedAt < 2_000) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      entry = await other.lookUp(hash, load);
    }
    expect(entry?.revoked).toBe(true);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
  });
});
