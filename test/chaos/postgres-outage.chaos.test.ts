import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '@hooklane/core';
import { createDb, type Db } from '@hooklane/db';
import { createDeliveryQueues, createRedisConnection, type DeliveryQueue } from '@hooklane/queue';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { createApp } from '../../apps/api/src/app.js';
import { buildAppDeps } from '../../apps/api/src/deps.js';
import { createApiMetrics } from '../../apps/api/src/metrics.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../support/redis.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * Chaos 3: PostgreSQL goes away for ~30 s while a platform keeps emitting events.
 *
 * The API talks to its database only through a TCP proxy, which the test cuts in the three
 * ways a database disappears: frozen (open connections stop answering mid-query), blackholed
 * (new connections are accepted and never answered) and refused (nothing listens). The
 * promise under test: during the outage every POST /v1/events is answered quickly with a
 * 503 in the error shape (never a 500, never a hang), /readyz says 503, nothing is
 * accepted that was not stored; afterwards the API recovers without a restart and every
 * event it ever answered 202 is in PostgreSQL.
 */

const ADMIN_TOKEN = 'chaos-admin-token-0123456789';
const TEAM = 31;
/** A single request during the outage must be answered within this (the API's own timeouts are ~3 s). */
const ANSWER_WITHIN_MS = 5000;
/** Longest a request may take before the test calls it a hang. */
const HANG_MS = 20_000;
/**
 * A query already on a frozen connection is only given up client-side (pg `query_timeout`,
 * see packages/db/src/client.ts), so those answers may take a little longer.
 */
const FROZEN_ANSWER_WITHIN_MS = 14_000;
const PHASE_MS = { frozen: 10_000, blackhole: 10_000, refused: 10_000 };
const SENDERS = 4;

interface Sent {
  phase: string;
  key: string;
  status: number;
  ms: number;
  body: unknown;
  eventId?: string;
}

let database: TestDatabase;
let proxy: TcpProxy;
let server: Server;
let base: string;
let db: Db;
let redis: Redis;
let subscriber: Redis;
let stopKeys: (() => void) | undefined;
let queue: DeliveryQueue;
let prefix: string;
let teamAuth: string;
let webhookId: string;
const sent: Sent[] = [];
let seq = 0;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: teamAuth, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(HANG_MS),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the raw text: a non-JSON answer is itself a finding
  }
  return { status: res.status, body: parsed, ms: performance.now() - started };
}

function eventBody(n: number) {
  return { event: 'create:task', team_id: TEAM, data: { task: { id: n, name: `task ${n}` } } };
}

/** Emits one event with its own idempotency key and records what the API answered. */
async function emit(phase: string, key = `chaos-${++seq}`): Promise<Sent> {
  const n = Number(key.split('-')[1]);
  let result: Sent;
  try {
    const res = await call('POST', '/v1/events', eventBody(n), { 'idempotency-key': key });
    const eventId = res.status === 202 ? ((res.body as { event_id?: string }).event_id ?? undefined) : undefined;
    result = { phase, key, status: res.status, ms: res.ms, body: res.body, ...(eventId ? { eventId } : {}) };
  } catch (err) {
    // A fetch that times out is a hang: recorded as status 0 and failed below.
    result = { phase, key, status: 0, ms: HANG_MS, body: String(err) };
  }
  sent.push(result);
  return result;
}

/** SENDERS loops emitting back to back until the phase ends. */
async function emitFor(phase: string, ms: number): Promise<Sent[]> {
  const until = Date.now() + ms;
  const mine: Sent[] = [];
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (Date.now() < until) {
        mine.push(await emit(phase));
        await sleep(50);
      }
    }),
  );
  return mine;
}

function expectErrorShape(body: unknown) {
  expect(body).toEqual({
    error: { code: expect.any(String), message: expect.any(String), details: expect.any(Array) },
  });
}

beforeAll(async () => {
  database = await createTestDatabase('pgoutage');
  const target = new URL(database.url);
  proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
  prefix = randomQueuePrefix('pgoutage');
  const config = parseConfig({
    DATABASE_URL: proxy.url(database.url),
    REDIS_URL: TEST_REDIS_URL,
    ADMIN_TOKEN,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    ALLOW_PRIVATE_TARGETS: 'true',
  });
  db = createDb(config.databaseUrl, { connectionTimeoutMs: config.dbTimeoutMs });
  redis = createRedisConnection(config.redisUrl, 'producer');
  redis.on('error', () => undefined);
  const queues = createDeliveryQueues(config, redis);
  queue = queues.all[0]!;
  const logger = pino({ level: config.logLevel });
  subscriber = createRedisConnection(config.redisUrl, 'worker');
  const deps = buildAppDeps({ config, db, redis, subscriber, queues, logger, metrics: createApiMetrics(queue) });
  await deps.apiKeys.start();
  stopKeys = () => deps.apiKeys.close();
  const app = createApp(deps);
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  teamAuth = `Bearer ${ADMIN_TOKEN}`;
  const key = await call('POST', '/v1/api-keys', { team_id: TEAM });
  expect(key.status).toBe(201);
  teamAuth = `Bearer ${(key.body as { key: string }).key}`;
  const hook = await call('POST', '/v1/webhooks', { team_id: TEAM, url: 'http://127.0.0.1:9/hook', events: ['*'] });
  expect(hook.status).toBe(201);
  webhookId = (hook.body as { id: string }).id;
});

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await queue?.close().catch(() => undefined);
  await db?.$disconnect().catch(() => undefined);
  stopKeys?.();
  redis?.disconnect();
  subscriber?.disconnect();
  await proxy?.close();
  if (prefix) await deletePrefix(prefix);
  await database?.drop();
});

describe('PostgreSQL outage under ingest', () => {
  it('answers 503 fast while PostgreSQL is gone, recovers by itself, and loses no accepted event', async () => {
    // Healthy: the API really goes through the proxy.
    const before = await emitFor('before', 2000);
    const forwardedBefore = proxy.forwarded;
    const readyBefore = await call('GET', '/readyz');

    // Outage, part 1: frozen. Open connections stay open but nothing passes either way,
    // so a query already sent never gets its answer; new connections hang too.
    const inFlight = emitFor('frozen', PHASE_MS.frozen);
    await sleep(100);
    await proxy.cut('blackhole', { stallOpen: true });
    const frozen = await inFlight;
    // Part 2: blackhole. Live connections reset; new ones accepted and never answered.
    await proxy.restore();
    await proxy.cut('blackhole');
    const readyDuringBlackhole = call('GET', '/readyz');
    const blackhole = await emitFor('blackhole', PHASE_MS.blackhole);
    // Part 3: refused. Nothing listens.
    await proxy.cut('refuse');
    const readyDuringRefused = call('GET', '/readyz');
    const refused = await emitFor('refused', PHASE_MS.refused);
    const readyDuring = [await readyDuringBlackhole, await readyDuringRefused];

    // Back: the API must recover on its own, without a restart.
    await proxy.restore();
    const restoredAt = Date.now();
    const recovery: Sent[] = [];
    while (Date.now() - restoredAt < 30_000) {
      const probe = await emit('recovery');
      recovery.push(probe);
      if (probe.status !== 503) break;
      await sleep(250);
    }
    const recoveryMs = Date.now() - restoredAt;
    const after = await emitFor('after', 2000);
    const readyAfter = await call('GET', '/readyz');

    // A client that retries its 503s with the same idempotency key gets each event in.
    const retried: Sent[] = [];
    for (const s of sent.filter((x) => x.status === 503)) retried.push(await emit('retry', s.key));

    // Every 202 ever given is in PostgreSQL (read directly, not through the proxy), with
    // its delivery to the team's webhook.
    const ids = [...new Set(sent.filter((s) => s.status === 202).map((s) => s.eventId ?? 'missing event_id'))];
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    let stored: Set<string>;
    let withDelivery: Set<string>;
    let teamEvents: number;
    try {
      const events = await client.query<{ id: string }>('SELECT id FROM events WHERE id = ANY($1)', [ids]);
      stored = new Set(events.rows.map((r) => r.id));
      const deliveries = await client.query<{ event_id: string }>(
        'SELECT DISTINCT event_id FROM deliveries WHERE event_id = ANY($1) AND webhook_id = $2',
        [ids, webhookId],
      );
      withDelivery = new Set(deliveries.rows.map((r) => r.event_id));
      const total = await client.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE team_id = $1', [TEAM]);
      teamEvents = Number(total.rows[0]?.n);
    } finally {
      await client.end();
    }
    const lost = ids.filter((id) => !stored.has(id));
    const withoutDelivery = ids.filter((id) => !withDelivery.has(id));

    const count = (phase: string, status: number) => sent.filter((s) => s.phase === phase && s.status === status).length;
    const phases = ['before', 'frozen', 'blackhole', 'refused', 'recovery', 'after', 'retry'];
    const slowest = (list: Sent[]) => Math.round(Math.max(0, ...list.map((s) => s.ms)));
    console.log(
      [
        'postgres outage figures:',
        ...phases.map((p) => {
          const mine = sent.filter((s) => s.phase === p);
          const other = mine.filter((s) => s.status !== 202 && s.status !== 503).map((s) => s.status);
          return `  ${p.padEnd(9)} sent ${mine.length}, 202: ${count(p, 202)}, 503: ${count(p, 503)}, other: [${other.join(',')}], slowest ${slowest(mine)} ms`;
        }),
        `  recovered ${recoveryMs} ms after restore; readyz during outage ${readyDuring.map((r) => `${r.status} in ${Math.round(r.ms)} ms`).join(', ')}`,
        `  events sent ${sent.length} (${new Set(sent.map((s) => s.key)).size} distinct keys), 202s ${sent.filter((s) => s.status === 202).length}, 503s ${sent.filter((s) => s.status === 503).length}, distinct events accepted ${ids.length}, stored ${stored.size}, team rows ${teamEvents}, lost ${lost.length}, without delivery ${withoutDelivery.length}`,
      ].join('\n'),
    );

    expect(before.length).toBeGreaterThan(0);
    expect(before.every((s) => s.status === 202)).toBe(true);
    expect(forwardedBefore).toBeGreaterThan(0);
    expect(readyBefore.status).toBe(200);

    // While PostgreSQL was gone: only 503s in the error shape, each answered in time. The
    // very first frozen requests may have completed just before the cut: a 202 there is
    // fine as long as the event is stored (checked below).
    for (const s of [...blackhole, ...refused]) {
      expect({ key: s.key, status: s.status }).toEqual({ key: s.key, status: 503 });
      expectErrorShape(s.body);
      expect(s.ms).toBeLessThan(ANSWER_WITHIN_MS);
    }
    for (const s of frozen) {
      expect({ key: s.key, status: [202, 503].includes(s.status) }).toEqual({ key: s.key, status: true });
      if (s.status === 503) expectErrorShape(s.body);
      expect(s.ms).toBeLessThan(FROZEN_ANSWER_WITHIN_MS);
    }
    for (const ready of readyDuring) {
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(ANSWER_WITHIN_MS);
    }
    expect(sent.filter((s) => s.status === 500 || s.status === 0)).toEqual([]);

    // Recovery without a restart.
    expect(recovery.at(-1)?.status).toBe(202);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => s.status === 202)).toBe(true);
    expect(readyAfter.status).toBe(200);
    expect(retried.every((s) => s.status === 202)).toBe(true);

    // Nothing accepted was lost, and idempotency held: one row per key, however often sent.
    expect(lost).toEqual([]);
    expect(withoutDelivery).toEqual([]);
    expect(teamEvents).toBe(new Set(sent.map((s) => s.key)).size);
  });
});
