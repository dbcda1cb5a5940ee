import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '@hooklane/core';
import { createDb, type Db } from '@hooklane/db';
import { createDeliveryQueues, createRedisConnection, type DeliveryQueue } from '@hooklane/queue';
import express from 'express';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import request from 'supertest';
import { createApp } from '../src/app.js';
import { buildAppDeps } from '../src/deps.js';
import { tokensEqual } from '../src/http/auth.js';
import { errorHandler } from '../src/http/errors.js';
import { REDACT_PATHS } from '../src/logger.js';
import { createApiMetrics } from '../src/metrics.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../../../test/support/redis.js';

/**
 * The security review of the API, one test per point: tokens compared in constant time,
 * keys stored only hashed, secrets and receiver credentials kept out of responses and
 * logs, the body size limit, no stack traces, and exact bearer matching.
 *
 * The app is built here rather than with startTestApi so that its pino logger, configured
 * exactly like production's (same redaction), writes every line at trace level into
 * memory, where the test can look for leaks.
 */

const ADMIN_TOKEN = 'sec-admin-token-7f3a9c1e5b2d4680';
const TEAM = 41;
const OTHER_TEAM = 42;
const SECRET = 'whsec_c2VjdXJpdHktdGVzdC1zZWNyZXQtMDEyMzQ1';
const ROTATED_SECRET = 'rotated-secret-value-9d8c7b6a';
const PATCHED_SECRET = 'patched-secret-value-1a2b3c4d';
const HEADER_VALUES = ['Bearer receiver-credential-5e6f7a8b', 'tenant-token-c0ffee42'];
const PATCHED_HEADER_VALUE = 'patched-header-value-beef1234';
const RECEIVER = 'http://127.0.0.1:9/hook'; // no worker runs in this file: nothing is sent

interface Harness {
  app: ReturnType<typeof createApp>;
  db: Db;
  close(): Promise<void>;
}

let logText = '';
const logStream = { write: (line: string) => void (logText += line) };
const opened: Harness[] = [];
const databases: TestDatabase[] = [];
const prefixes: string[] = [];

/** An app on real services with a production-configured logger that writes into `logText`. */
async function buildApp(databaseUrl: string, redisUrl = TEST_REDIS_URL): Promise<Harness> {
  const prefix = randomQueuePrefix('sec');
  prefixes.push(prefix);
  const config = parseConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    ADMIN_TOKEN,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'trace',
    ALLOW_PRIVATE_TARGETS: 'true',
    DB_TIMEOUT_MS: '1000',
  });
  const db = createDb(config.databaseUrl, { connectionTimeoutMs: config.dbTimeoutMs });
  const redis: Redis = createRedisConnection(config.redisUrl, 'producer');
  redis.on('error', () => undefined);
  const queues = createDeliveryQueues(config, redis);
  const queue: DeliveryQueue = queues.all[0]!;
  queue.on('error', () => undefined); // the app built against an unreachable Redis would print each retry
  const logger = pino(
    { name: 'hooklane-api', level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    logStream,
  );
  const subscriber = createRedisConnection(config.redisUrl, 'worker');
  subscriber.on('error', () => undefined);
  const deps = buildAppDeps({ config, db, redis, subscriber, queues, logger, metrics: createApiMetrics(queue) });
  // Against an unreachable Redis the channel never starts; keys are then read from PostgreSQL.
  void deps.apiKeys.start().catch(() => undefined);
  const app = createApp(deps);
  const harness: Harness = {
    app,
    db,
    async close() {
      await queue.close().catch(() => undefined);
      await db.$disconnect().catch(() => undefined);
      deps.apiKeys.close();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
  opened.push(harness);
  return harness;
}

let main: Harness;
let database: TestDatabase;
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
let teamKey: string;
let otherKey: string;
let team: { Authorization: string };

beforeAll(async () => {
  database = await createTestDatabase('security');
  databases.push(database);
  main = await buildApp(database.url);
  const a = await request(main.app).post('/v1/api-keys').set(admin).send({ team_id: TEAM });
  const b = await request(main.app).post('/v1/api-keys').set(admin).send({ team_id: OTHER_TEAM });
  expect([a.status, b.status]).toEqual([201, 201]);
  teamKey = a.body.key as string;
  otherKey = b.body.key as string;
  team = { Authorization: `Bearer ${teamKey}` };
});

afterAll(async () => {
  for (const harness of opened) await harness.close();
  for (const prefix of prefixes) await deletePrefix(prefix);
  for (const db of databases) await db.drop();
});

function expectErrorShape(body: unknown, status: number) {
  expect(body).toEqual({
    error: { code: expect.any(String), message: expect.any(String), details: expect.any(Array) },
  });
  expect(status).toBeGreaterThanOrEqual(400);
}

/** Text that only a stack trace or a leaked internal would put in a response. */
function expectNoInternals(text: string) {
  expect(text).not.toMatch(/\n\s+at [\w.<>]+ \(|at Object\.|at async |node_modules|\/work\/|\.ts:\d+|\.js:\d+|Prisma|SyntaxError|TypeError|RangeError/);
}

describe('constant-time token comparison', () => {
  it('tokensEqual is exact for equal, unequal and different-length tokens', () => {
    expect(tokensEqual(ADMIN_TOKEN, ADMIN_TOKEN)).toBe(true);
    expect(tokensEqual(ADMIN_TOKEN, `${ADMIN_TOKEN.slice(0, -1)}${ADMIN_TOKEN.endsWith('0') ? '1' : '0'}`)).toBe(false);
    expect(tokensEqual(ADMIN_TOKEN, ADMIN_TOKEN.toUpperCase())).toBe(false);
    // Different lengths must neither throw (as timingSafeEqual does on raw buffers) nor match.
    expect(tokensEqual(ADMIN_TOKEN, ADMIN_TOKEN.slice(0, 5))).toBe(false);
    expect(tokensEqual(ADMIN_TOKEN, `${ADMIN_TOKEN}x`)).toBe(false);
    expect(tokensEqual('', ADMIN_TOKEN)).toBe(false);
    expect(tokensEqual('', '')).toBe(true);
    expect(tokensEqual('a'.repeat(10_000), 'a'.repeat(10_000))).toBe(true);
  });

  it('takes as long when the first character differs as when only the last one does', () => {
    // A plain === stops at the first differing character: on 1 MB strings that is far faster than a last-character
    // mismatch. Comparing fixed-length digests takes the same time either way. A ratio within one run, so load cancels.
    const size = 1_000_000;
    // Built from buffers so the strings are flat: a concatenated one would be flattened on every compare.
    const flat = (at: number) => {
      const bytes = Buffer.alloc(size, 'a');
      if (at >= 0) bytes[at] = 'b'.charCodeAt(0);
      return bytes.toString('latin1');
    };
    const secret = flat(-1);
    const firstDiffers = flat(0);
    const lastDiffers = flat(size - 1);
    const median = (guess: string) => {
      const times: number[] = [];
      for (let i = 0; i < 31; i += 1) {
        const started = process.hrtime.bigint();
        const equal = tokensEqual(secret, guess);
        times.push(Number(process.hrtime.bigint() - started));
        if (equal) throw new Error('different strings compared equal');
      }
      return times.sort((x, y) => x - y)[15]!;
    };
    median(lastDiffers); // warm-up
    const ratio = median(firstDiffers) / median(lastDiffers);
    expect(ratio).toBeGreaterThan(0.5);
  });
});

describe('API keys are stored hashed', () => {
  it('no column of api_keys holds a key in plain text', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const rows = await client.query('SELECT * FROM api_keys');
      expect(rows.rows.length).toBeGreaterThanOrEqual(2);
      const dump = JSON.stringify(rows.rows);
      for (const key of [teamKey, otherKey]) {
        expect(dump).not.toContain(key);
        // Nor the random part alone (a stored key minus its prefix would still be a key).
        expect(dump).not.toContain(key.slice(4));
      }
      // And the stored form is a one-way hash: 64 hex characters.
      for (const row of rows.rows as Array<Record<string, unknown>>) expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await client.end();
    }
  });
});

describe('secrets and custom header values', () => {
  let hookId: string;

  beforeAll(async () => {
    const res = await request(main.app)
      .post('/v1/webhooks')
      .set(team)
      .send({
        team_id: TEAM,
        url: RECEIVER,
        events: ['*'],
        secret: SECRET,
        headers: { Authorization: HEADER_VALUES[0], 'X-Tenant-Token': HEADER_VALUES[1] },
      });
    expect(res.status).toBe(201);
    expect(res.body.secret).toBe(SECRET); // the create response alone carries it
    hookId = res.body.id as string;
  });

  it('are never in list, get or patch responses (the secret only where the contract puts it)', async () => {
    const responses = [
      await request(main.app).get('/v1/webhooks').set(team),
      await request(main.app).get('/v1/webhooks').set(admin).query({ team_id: String(TEAM) }),
      await request(main.app).get(`/v1/webhooks/${hookId}`).set(team),
      await request(main.app).patch(`/v1/webhooks/${hookId}`).set(team).send({ description: 'patched' }),
      // A PATCH that sets a new secret must not echo it either.
      await request(main.app).patch(`/v1/webhooks/${hookId}`).set(team).send({ secret: PATCHED_SECRET }),
      await request(main.app).get(`/v1/webhooks/${hookId}/deliveries`).set(team),
    ];
    for (const res of responses) {
      expect(res.status).toBe(200);
      for (const secret of [SECRET, PATCHED_SECRET]) expect(res.text).not.toContain(secret);
      expect(res.text).not.toMatch(/"secret"|"previous_secret"|"previousSecret"/);
    }
    // Another team's key learns nothing, not even that the webhook exists.
    for (const path of [`/v1/webhooks/${hookId}`, `/v1/webhooks/${hookId}/secret`]) {
      const res = await request(main.app).get(path).set({ Authorization: `Bearer ${otherKey}` });
      expect(res.status).toBe(404);
      expect(res.text).not.toContain(SECRET);
      expect(res.text).not.toContain(PATCHED_SECRET);
      for (const value of HEADER_VALUES) expect(res.text).not.toContain(value);
    }
    const others = await request(main.app).get('/v1/webhooks').set({ Authorization: `Bearer ${otherKey}` });
    expect(others.body).toEqual({ data: [], next_cursor: null });
  });

  it('never reach the logs, whatever the API does, including its failures', async () => {
    logText = '';
    const keyRes = await request(main.app).post('/v1/api-keys').set(admin).send({ team_id: TEAM });
    expect(keyRes.status).toBe(201);
    const newKey = keyRes.body.key as string;
    const all = [SECRET, ROTATED_SECRET, PATCHED_SECRET, PATCHED_HEADER_VALUE, ...HEADER_VALUES, ADMIN_TOKEN, teamKey, otherKey, newKey];

    // Ordinary traffic.
    await request(main.app).get('/v1/webhooks').set(team);
    await request(main.app).get(`/v1/webhooks/${hookId}/secret`).set(team);
    await request(main.app).post(`/v1/webhooks/${hookId}/secret/rotate`).set(team).send({ secret: ROTATED_SECRET });
    await request(main.app).patch(`/v1/webhooks/${hookId}`).set(team).send({ headers: { 'X-Tenant-Token': PATCHED_HEADER_VALUE } });
    await request(main.app).post('/v1/events').set({ Authorization: `Bearer ${newKey}` }).send({ event: 'ping', team_id: TEAM, data: { secret: SECRET } });
    // Client errors that carry the sensitive values in the request.
    await request(main.app).get('/v1/webhooks').set({ Authorization: `Bearer ${ADMIN_TOKEN}x` });
    await request(main.app).get('/v1/webhooks').set({ Authorization: `Bearer ${teamKey}x` });
    await request(main.app).post('/v1/webhooks').set(team).send({ team_id: TEAM, url: RECEIVER, events: ['*'], secret: 'x', headers: { 'X-A': HEADER_VALUES[0] } });
    await request(main.app).post('/v1/webhooks').set(team).type('application/json').send(`{"secret": "${SECRET}", `);
    await request(main.app).post('/v1/webhooks').set(team).send({ team_id: OTHER_TEAM, url: RECEIVER, events: ['*'], secret: SECRET, headers: { 'X-B': HEADER_VALUES[1] } });
    await request(main.app).post(`/v1/webhooks/${hookId}/secret/rotate`).set(team).send({ secret: 'short' });

    // Unexpected failures are logged in full, so they are where a leak would hide: a
    // database whose schema lost a column (a 500), and one that cannot be reached (a 503).
    const broken = await createTestDatabase('secbroken');
    databases.push(broken);
    const client = new pg.Client({ connectionString: broken.url });
    await client.connect();
    await client.query('ALTER TABLE webhooks RENAME COLUMN description TO description_gone');
    await client.query('ALTER TABLE events RENAME COLUMN sender TO sender_gone');
    await client.end();
    const brokenApp = await buildApp(broken.url);
    const created = await request(brokenApp.app)
      .post('/v1/webhooks')
      .set(admin)
      .send({ team_id: TEAM, url: RECEIVER, events: ['*'], secret: SECRET, headers: { Authorization: HEADER_VALUES[0] } });
    expect(created.status).toBe(500);
    expectErrorShape(created.body, created.status);
    expectNoInternals(created.text);
    const emitted = await request(brokenApp.app).post('/v1/events').set(admin).send({ event: 'ping', team_id: TEAM, data: { token: SECRET } });
    expect(emitted.status).toBe(500);

    const down = await buildApp('postgresql://postgres@127.0.0.1:1/nowhere', 'redis://127.0.0.1:1');
    for (const auth of [admin, team]) {
      const unavailable = await request(down.app)
        .post('/v1/webhooks')
        .set(auth)
        .send({ team_id: TEAM, url: RECEIVER, events: ['*'], secret: SECRET, headers: { Authorization: HEADER_VALUES[0] } });
      expect(unavailable.status).toBe(503);
      expectErrorShape(unavailable.body, unavailable.status);
    }

    // The logs did record those failures (so this test looks at real log output) ...
    expect(logText).toMatch(/unhandled error/);
    expect(logText).toMatch(/backing service unavailable/);
    // ... and hold none of the sensitive values.
    for (const value of all) expect({ value, leaked: logText.includes(value) }).toEqual({ value, leaked: false });
  });
});

describe('database errors', () => {
  it("are logged without the call's arguments, so an unexpected one cannot leak a secret", async () => {
    // A call Prisma itself rejects (here: no id) carries the whole call, data included, in
    // its message and stack. Such a bug must turn into a plain 500 and a log line that
    // names the problem without the webhook's secret or header values.
    let thrown: unknown;
    try {
      await main.db.webhook.create({ data: { secret: SECRET, headers: { Authorization: HEADER_VALUES[0] } } as never });
    } catch (err) {
      thrown = err;
    }
    expect(String((thrown as Error).stack)).toContain(SECRET); // what would leak unfiltered

    logText = '';
    const logger = pino({ level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, logStream);
    const app = express();
    app.get('/boom', () => {
      throw thrown;
    });
    app.use(errorHandler(logger));
    const res = await request(app).get('/boom');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'internal_error', message: 'Internal server error', details: [] } });
    expect(logText).toMatch(/unhandled error/);
    expect(logText).toMatch(/Argument `id` is missing/);
    expect(logText).not.toContain(SECRET);
    expect(logText).not.toContain(HEADER_VALUES[0]);
  });
});

describe('body size limit', () => {
  const MiB = 1024 * 1024;
  /** A JSON body of exactly `size` bytes: a webhook whose description pads it out. */
  function bodyOf(size: number): string {
    const head = `{"team_id":${TEAM},"url":"${RECEIVER}","events":["*"],"description":"`;
    const tail = '"}';
    return head + 'd'.repeat(size - head.length - tail.length) + tail;
  }

  it('1 MiB + 1 byte is a 413 in the error shape on every body route; 1 MiB exactly is read', async () => {
    for (const path of ['/v1/webhooks', '/v1/events', '/v1/events/batch', '/v1/api-keys']) {
      const over = await request(main.app).post(path).set(admin).type('application/json').send(bodyOf(MiB + 1));
      expect([path, over.status]).toEqual([path, 413]);
      expectErrorShape(over.body, over.status);
      expect(over.body.error.code).toBe('payload_too_large');
    }
    // Exactly at the limit the body is parsed and judged on its content (a description
    // that long is a 400 naming it), not refused for its size.
    const at = await request(main.app).post('/v1/webhooks').set(admin).type('application/json').send(bodyOf(MiB));
    expect(at.status).toBe(400);
    expect(at.body.error.details.map((d: { path: string }) => d.path)).toContain('description');
  });

  it('a chunked body without Content-Length is cut off at the limit too', async () => {
    const server = main.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/events',
        headers: { ...admin, 'Content-Type': 'application/json' },
      });
      const answered = once(req, 'response') as Promise<[http.IncomingMessage]>;
      req.on('error', () => undefined); // the server may stop reading once it has answered
      const body = bodyOf(2 * MiB);
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.slice(i, i + 64 * 1024));
      req.end();
      const [res] = await answered;
      let text = '';
      for await (const chunk of res) text += String(chunk);
      expect(req.getHeader('content-length')).toBeUndefined();
      expect(res.statusCode).toBe(413);
      expectErrorShape(JSON.parse(text), res.statusCode ?? 0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('no stack traces, no 500s for hostile input', () => {
  const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const cases: Array<{ name: string; path: string; body: string | Buffer; method?: 'post' | 'patch' }> = [
    { name: 'malformed JSON', path: '/v1/webhooks', body: '{"team_id": 41, "url": ' },
    { name: 'trailing garbage', path: '/v1/events', body: '{"event":"ping","team_id":41,"data":{}} xyz' },
    { name: 'a bare string', path: '/v1/events', body: '"ping"' },
    { name: 'null', path: '/v1/webhooks', body: 'null' },
    { name: 'huge number', path: '/v1/webhooks', body: `{"team_id": 1e400, "url": "${RECEIVER}", "events": ["*"]}` },
    { name: 'huge integer literal', path: '/v1/events', body: `{"event":"ping","team_id":${'9'.repeat(5000)},"data":{}}` },
    { name: 'negative zero and exponents', path: '/v1/events', body: '{"event":"ping","team_id":-0,"project_id":1e2,"data":{}}' },
    { name: 'deep array', path: '/v1/events', body: `{"event":"ping","team_id":41,"data":{"x":${deep(100_000)}}}` },
    { name: 'deep object', path: '/v1/events', body: `{"event":"ping","team_id":41,"data":${deepObject(50_000)}}` },
    { name: 'deep test payload', path: '/v1/webhooks/wh_01JKA8W5Q0V3M4N5P6R7S8T9V0/test', body: `{"payload":${deepObject(10_000)}}` },
    { name: 'NUL in a string', path: '/v1/events', body: '{"event":"ping","team_id":41,"data":{"s":"a\\u0000b"}}' },
    { name: 'lone surrogate', path: '/v1/events', body: '{"event":"ping","team_id":41,"data":{"s":"\\ud800"}}' },
    { name: 'NUL in a description', path: '/v1/webhooks', body: `{"team_id":41,"url":"${RECEIVER}","events":["*"],"description":"a\\u0000"}` },
    { name: 'lone surrogate in a description', path: '/v1/webhooks', body: `{"team_id":41,"url":"${RECEIVER}","events":["*"],"description":"\\udfff"}` },
    { name: '__proto__ key', path: '/v1/webhooks', body: `{"team_id":41,"url":"${RECEIVER}","events":["*"],"__proto__":{"is_admin":true}}` },
    { name: 'constructor.prototype', path: '/v1/events', body: '{"event":"ping","team_id":41,"data":{"constructor":{"prototype":{"x":1}}}}' },
    { name: 'headers with __proto__', path: '/v1/webhooks', body: `{"team_id":41,"url":"${RECEIVER}","events":["*"],"headers":{"__proto__":"x"}}` },
    { name: 'invalid UTF-8', path: '/v1/events', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
    { name: 'BOM before JSON', path: '/v1/events', body: '\ufeff{"event":"ping","team_id":41,"data":{}}' },
    { name: 'patch with array', path: '/v1/webhooks/wh_01JKA8W5Q0V3M4N5P6R7S8T9V0', body: '[1,2,3]', method: 'patch' },
  ];

  it.each(cases)('$name: a 4xx (or 2xx) in the error shape, no internals', async ({ path, body, method }) => {
    const res = await request(main.app)[method ?? 'post'](path).set(team).type('application/json').send(body);
    expect(res.status).toBeLessThan(500);
    if (res.status >= 400) expectErrorShape(res.body, res.status);
    expectNoInternals(res.text);
  });

  it('the API still answers afterwards and nobody was made admin', async () => {
    expect((await request(main.app).get('/healthz')).status).toBe(200);
    expect(({} as Record<string, unknown>).is_admin).toBeUndefined();
    expect((await request(main.app).post('/v1/api-keys').set(team).send({ team_id: TEAM })).status).toBe(403);
  });

  it('malformed paths and methods are 4xx in the error shape', async () => {
    for (const [method, path] of [
      ['get', '/v1/webhooks/%E0%A4%A'],
      ['get', '/v1/webhooks/%00'],
      ['get', `/v1/webhooks?filters=${encodeURIComponent('[{"field":"url","operator":"=","value":"a\\u0000"}]')}`],
      ['get', `/v1/webhooks?filters=${encodeURIComponent('[{"field":"id","operator":"in","value":["\\ud800"]}]')}`],
      ['get', `/v1/webhooks/${'x'.repeat(5000)}`],
      ['put', '/v1/webhooks'],
      ['get', '/v1/nope'],
      ['get', '/v1/events/..%2F..%2Fetc%2Fpasswd'],
    ] as const) {
      const res = await request(main.app)[method](path).set(team);
      expect([method, path, res.status < 500]).toEqual([method, path, true]);
      expectErrorShape(res.body, res.status);
      expectNoInternals(res.text);
    }
  });
});

describe('bearer tokens are matched exactly', () => {
  const variants = (token: string) => [
    token.toUpperCase(),
    token.toLowerCase() === token ? `${token.slice(0, 1).toUpperCase()}${token.slice(1)}` : token.toLowerCase(),
    ` ${token}x`,
    `${token.slice(0, 6)} ${token.slice(6)}`,
    `${token.slice(0, 6)}\t${token.slice(6)}`,
    `${token} ${token}`,
    `${token},`,
    `"${token}"`,
    `${token}\u00a0x`,
    token.slice(0, -1),
    `${token}=`,
  ];

  it('any change of case or whitespace inside the token is a 401, for the admin token and a team key', async () => {
    for (const token of [ADMIN_TOKEN, teamKey]) {
      for (const variant of variants(token)) {
        const res = await request(main.app).get('/v1/webhooks').set('Authorization', `Bearer ${variant}`);
        expect({ variant, status: res.status }).toEqual({ variant, status: 401 });
        expectErrorShape(res.body, res.status);
      }
      for (const header of [`Token ${token}`, `Bearer${token}`, token, `Basic ${token}`, `Bearer: ${token}`]) {
        const res = await request(main.app).get('/v1/webhooks').set('Authorization', header);
        expect({ header, status: res.status }).toEqual({ header, status: 401 });
      }
    }
  });

  it('the exact token still works (so the refusals above are about the variations)', async () => {
    expect((await request(main.app).get('/v1/webhooks').set(admin)).status).toBe(200);
    expect((await request(main.app).get('/v1/webhooks').set(team)).status).toBe(200);
  });

  it('a key of another deployment shape or a revoked key is a 401', async () => {
    const created = await request(main.app).post('/v1/api-keys').set(admin).send({ team_id: TEAM });
    const key = created.body.key as string;
    expect((await request(main.app).delete(`/v1/api-keys/${created.body.id}`).set(admin)).status).toBe(204);
    for (const token of [key, `hlk_${'A'.repeat(43)}`, 'hlk_', ADMIN_TOKEN.slice(0, 8)]) {
      const res = await request(main.app).get('/v1/webhooks').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
    }
  });
});
