import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keySlot } from '@hooklane/core';
import { deliveryQueueName } from '@hooklane/queue';
import request from 'supertest';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { killWorkers, spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';
import { expectCleanStops, waitUntil } from './chaos-helpers.js';

/**
 * Redis Cluster chaos: the master that holds the delivery queue's slot is SIGKILLed mid-run
 * and comes back EMPTY (same slots, no data) a few seconds later. Every queued job and gate
 * key on it is gone; the API keeps answering 202 or 503, and the outbox sweeper queues every
 * accepted delivery again, so all of them still arrive.
 */

const TEAM = 161;
const WEBHOOKS = 4;
const BATCH = 25;
const BATCHES_BEFORE = 12;
const BATCHES_DURING = 10;
const DOWN_MS = 4_000;

let cluster: RedisCluster;
let api: TestApi;
let receiver: Receiver;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
  api = await startTestApi('clusterchaos', { REDIS_MODE: 'cluster', REDIS_URL: cluster.url });
  // Refused connections while the shard is down are the point of the test; the API logs them.
  api.deps.queues.all[0]!.on('error', () => undefined);
  api.deps.redis.on('error', () => undefined);
  receiver = await startReceiver(async (_req, res) => {
    // Slow enough that the shard dies with a backlog queued on it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    res.writeHead(200).end('ok');
  });
}, 60_000);

afterAll(async () => {
  await killWorkers(workers);
  await receiver?.close();
  await api?.close();
  await cluster?.stop();
});

async function emit(from: number): Promise<number> {
  return request(api.app)
    .post('/v1/events/batch')
    .set(api.admin)
    .timeout(10_000)
    .send({ events: Array.from({ length: BATCH }, (_, i) => ({ event: 'create:task', team_id: TEAM, data: { task: { id: from + i } } })) })
    .then(
      (r) => r.status,
      () => 0,
    );
}

describe('Redis Cluster: a master shard killed and restarted empty', () => {
  it('still delivers every accepted event (the sweeper re-queues what the shard lost)', async () => {
    for (let i = 0; i < WEBHOOKS; i++) {
      const res = await request(api.app)
        .post('/v1/webhooks')
        .set(api.admin)
        .send({ team_id: TEAM, url: `${receiver.origin}/hook/${i}`, events: ['*'], retries_count: 5, retries_delay: 1 });
      expect(res.status).toBe(201);
    }
    const env = { REDIS_MODE: 'cluster', REDIS_URL: cluster.url, WORKER_CONCURRENCY: '10', SWEEPER_INTERVAL_MS: '1000' };
    workers.push(spawnWorker(api.database.url, api.prefix, env), spawnWorker(api.database.url, api.prefix, env));
    await Promise.all(workers.map((w) => waitForStart(w)));

    const slot = keySlot(`${api.prefix}:${deliveryQueueName(api.deps.config, 0)}:wait`);
    const victim = cluster.nodes.findIndex((n) => n.slots.some(([a, b]) => slot >= a && slot <= b));
    expect(victim).toBeGreaterThanOrEqual(0);

    const statuses: number[] = [];
    let next = 0;
    const started = Date.now();
    for (let b = 0; b < BATCHES_BEFORE; b++, next += BATCH) statuses.push(await emit(next));
    await waitUntil(() => receiver.requests.length > 0, 30_000, 'deliveries before the shard dies');
    const queuedAtKill = await cluster.dbsize(victim);

    const restart = cluster.restartNode(victim, { downMs: DOWN_MS });
    const killedAt = Date.now();
    for (let b = 0; b < BATCHES_DURING; b++, next += BATCH) statuses.push(await emit(next));
    await restart;
    const backAfterMs = Date.now() - killedAt;
    for (let b = 0; b < 4; b++, next += BATCH) statuses.push(await emit(next));

    expect(statuses.every((s) => s === 202 || s === 503)).toBe(true);
    const acceptedEvents = statuses.filter((s) => s === 202).length * BATCH;
    await waitUntil(
      async () => (await api.deps.db.delivery.count({ where: { teamId: TEAM, status: 'succeeded' } })) >= acceptedEvents * WEBHOOKS,
      150_000,
      'every accepted delivery to succeed',
    );
    const elapsedMs = Date.now() - started;
    const deliveries = await api.deps.db.delivery.findMany({ where: { teamId: TEAM }, select: { id: true, status: true } });
    const seen = new Map<string, number>();
    for (const r of receiver.requests) {
      const id = String(r.headers['x-webhook-delivery']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    const lost = deliveries.filter((d) => d.status !== 'succeeded' || !seen.has(d.id));
    const duplicated = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0);
    console.log(
      `cluster-shard-loss: events accepted ${acceptedEvents} of ${statuses.length * BATCH} (${statuses.filter((s) => s === 503).length} batches 503), ` +
        `deliveries ${deliveries.length}, keys on the killed shard ${queuedAtKill}, cluster ok again ${backAfterMs} ms after the kill, ` +
        `lost ${lost.length}, duplicated ${duplicated}, all delivered in ${elapsedMs} ms`,
    );
    expect(queuedAtKill).toBeGreaterThan(0);
    expect(lost).toEqual([]);

    await expectCleanStops(workers);
  }, 175_000);
});
