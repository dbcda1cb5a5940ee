import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { killWorkers, spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { emitTaskBatch, waitUntil } from './chaos-helpers.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

/**
 * Chaos 2: Redis loses everything in the middle of a run, twice over: FLUSHALL (every job,
 * delayed retry, lock and in-flight slot gone, the server still up), then a crash and an
 * empty restart on the same port. PostgreSQL holds every delivery, so the workers' outbox
 * sweeper queues again whatever is due; the workers reconnect by themselves. The promise:
 * 0 lost within 60 s of Redis coming back, and the worker processes stay up.
 */

const TEAM = 42;
const EVENTS = 1_000;
const AFTER_RESTART = 200;
const FLUSH_AFTER_RECEIVED = 200;
const RECOVER_WITHIN_MS = 60_000;

let redis: RedisServer;
let api: TestApi;
let receiver: Receiver;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  api = await startTestApi('chaosredis', { REDIS_URL: redis.url });
  // The API's own connections see the restart too; they reconnect, and must not crash the test.
  api.deps.redis.on('error', () => undefined);
  api.deps.queues.all[0]!.on('error', () => undefined);
  receiver = await startReceiver(async (req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Some deliveries fail their first attempt, so there are retries waiting in Redis.
    const id = String(req.headers['x-webhook-delivery']);
    const first = req.headers['x-webhook-attempt'] === '1';
    res.writeHead(first && id.endsWith('0') ? 500 : 200).end();
  });
});

afterAll(async () => {
  await killWorkers(workers);
  await receiver?.close();
  await api?.close();
  await redis?.stop();
});

const succeeded = () => api.deps.db.delivery.count({ where: { teamId: TEAM, status: 'succeeded' } });

describe('Redis flushed, then restarted empty, mid-run', () => {
  it('re-queues from PostgreSQL and loses nothing', async () => {
    const hook = await request(api.app)
      .post('/v1/webhooks')
      .set(api.admin)
      .send({ team_id: TEAM, url: `${receiver.origin}/hook`, events: ['*'], retries_count: 5, retries_delay: 2 });
    expect(hook.status).toBe(201);

    const env = { REDIS_URL: redis.url, WORKER_CONCURRENCY: '10', MAX_IN_FLIGHT_PER_WEBHOOK: '50', SWEEPER_INTERVAL_MS: '1000' };
    workers.push(spawnWorker(api.database.url, api.prefix, env), spawnWorker(api.database.url, api.prefix, env));
    await Promise.all(workers.map((w) => waitForStart(w)));

    await emitTaskBatch(api, TEAM, 0, EVENTS);
    await waitUntil(() => receiver.requests.length >= FLUSH_AFTER_RECEIVED, 60_000, 'the run to be under way');
    await redis.flushall();
    const atFlush = await succeeded();
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    await redis.restart({ downMs: 3_000 });
    const restartedAt = Date.now();
    const atRestart = await succeeded();
    // New events keep flowing through the restarted Redis too.
    await emitTaskBatch(api, TEAM, EVENTS, AFTER_RESTART);

    await waitUntil(async () => (await succeeded()) === EVENTS + AFTER_RESTART, RECOVER_WITHIN_MS, 'every delivery to succeed');
    const recoveredMs = Date.now() - restartedAt;

    const deliveries = await api.deps.db.delivery.findMany({ where: { teamId: TEAM }, select: { id: true, status: true } });
    const seen = new Map<string, number>();
    for (const r of receiver.requests) {
      const key = `${String(r.headers['x-webhook-delivery'])}#${String(r.headers['x-webhook-attempt'])}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    const delivered = new Set([...seen.keys()].map((k) => k.split('#')[0]));
    const lost = deliveries.filter((d) => d.status !== 'succeeded' || !delivered.has(d.id));
    const duplicated = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0);
    console.log(
      `redis-flush-restart: events ${EVENTS + AFTER_RESTART}, succeeded at flush ${atFlush}, at restart ${atRestart}, all succeeded ${recoveredMs} ms after the restart, lost ${lost.length}, duplicated ${duplicated}`,
    );

    expect(deliveries).toHaveLength(EVENTS + AFTER_RESTART);
    expect(lost).toEqual([]);
    expect(recoveredMs).toBeLessThan(RECOVER_WITHIN_MS);
    // Both workers reconnected and are still running.
    for (const w of workers) expect(w.child.exitCode).toBeNull();
    for (const w of workers) {
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    }
  }, 170_000);
});
