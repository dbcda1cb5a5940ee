import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../support/redis.js';
import { freePort } from '../support/free-port.js';

// Issue 12.3: a key revoked through one API process is refused by every other one within a
// second, also when the other process misses the pub/sub message. Two real API processes.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADMIN = 'revocation-admin-token-4c2e9a';
const children: ChildProcess[] = [];
let database: TestDatabase;
const prefix = randomQueuePrefix('revoke');
const bases: string[] = [];

async function startApi(): Promise<string> {
  const port = await freePort();
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'apps/api/src/main.ts'], {
    cwd: root,
    env: { ...env, DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, ADMIN_TOKEN: ADMIN, QUEUE_PREFIX: prefix, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) return base;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('API process did not start');
}

async function call(base: string, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as Record<string, unknown>) };
}

async function newKey(team: number): Promise<{ id: string; key: string }> {
  const created = await call(bases[0]!, 'POST', '/v1/api-keys', ADMIN, { team_id: team });
  expect(created.status).toBe(201);
  return created.body as { id: string; key: string };
}

/** Polls the second process until the key is refused; returns how long that took. */
async function msUntilRefused(key: string, since: number): Promise<number> {
  for (;;) {
    const res = await call(bases[1]!, 'GET', '/v1/webhooks', key);
    if (res.status === 401) return Date.now() - since;
    if (Date.now() - since > 5000) return Infinity;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  database = await createTestDatabase('revoke');
  bases.push(await startApi(), await startApi());
}, 90_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.filter((c) => c.exitCode === null).map((c) => once(c, 'exit')));
  await deletePrefix(prefix);
  await database.drop();
});

describe('API key revocation across processes', () => {
  it('a key revoked through one process is refused by the other within a second', async () => {
    const { id, key } = await newKey(301);
    // Warm the other process's cache: the key is now served from memory there.
    expect((await call(bases[1]!, 'GET', '/v1/webhooks', key)).status).toBe(200);
    expect((await call(bases[1]!, 'GET', '/v1/webhooks', key)).status).toBe(200);
    const revokedAt = Date.now();
    expect((await call(bases[0]!, 'DELETE', `/v1/api-keys/${id}`, ADMIN)).status).toBe(204);
    expect(await msUntilRefused(key, revokedAt)).toBeLessThan(1000);
  });

  it('erasing the team through one process refuses its keys on the other within a second', async () => {
    const { key } = await newKey(303);
    expect((await call(bases[1]!, 'GET', '/v1/webhooks', key)).status).toBe(200);
    expect((await call(bases[1]!, 'GET', '/v1/webhooks', key)).status).toBe(200);
    const erasedAt = Date.now();
    expect((await call(bases[0]!, 'DELETE', '/v1/teams/303', ADMIN)).status).toBe(200);
    expect(await msUntilRefused(key, erasedAt)).toBeLessThan(1000);
  });

  it('also when the other process misses the pub/sub message (the stamp bounds it)', async () => {
    const { id, key } = await newKey(302);
    expect((await call(bases[1]!, 'GET', '/v1/webhooks', key)).status).toBe(200);
    // A revocation whose message is lost: the row and the stamp change, nothing is published.
    const client = new pg.Client({ connectionString: database.url });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      await client.connect();
      const revokedAt = Date.now();
      await client.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
      await redis.incr(`${prefix}:api-keys:revocations`);
      expect(await msUntilRefused(key, revokedAt)).toBeLessThan(1000);
    } finally {
      await client.end();
      redis.disconnect();
    }
  });
});
