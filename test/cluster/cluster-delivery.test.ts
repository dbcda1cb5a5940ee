import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keySlot, partitionHashTag } from '@hooklane/core';
import { connectRedis, deliveryQueueName, type RedisClient } from '@hooklane/queue';
import request from 'supertest';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { killWorkers, metricsPort, spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';
import { waitUntil } from '../chaos/chaos-helpers.js';

/**
 * REDIS_MODE=cluster against a real 3-master Redis Cluster started for this file: the API
 * (in process) and two worker processes reach it through seed nodes, events to many
 * webhooks are all delivered, the queue and every webhook's line keys sit in the
 * partition's slot on its master, and a worker killed mid-run loses nothing.
 */

const TEAM = 131;
const WEBHOOKS = 8;
const EVENTS = 150;
const KILL_AFTER_RECEIVED = 200;

let cluster: RedisCluster;
let api: TestApi;
let receiver: Receiver;
let probe: RedisClient;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
  api = await startTestApi('cluster', { REDIS_MODE: 'cluster', REDIS_URL: cluster.url });
  probe = connectRedis({ redisMode: 'cluster', redisUrl: cluster.url }, 'worker');
  receiver = await startReceiver(async (_req, res) => {
    // Slow enough that the victim always has attempts in flight when it dies.
    await new Promise((resolve) => setTimeout(resolve, 10));
    res.writeHead(200).end('ok');
  });
}, 60_000);

afterAll(async () => {
  await killWorkers(workers);
  probe?.disconnect();
  await receiver?.close();
  await api?.close();
  await cluster?.stop();
});

describe('cluster key slots', () => {
  it('computes the slot Redis Cluster computes, for partition tags and ordinary keys', async () => {
    const keys = [
      'foo',
      'hooklane:deliveries:wait',
      ...[1, 2, 3, 5, 16].flatMap((n) => Array.from({ length: n }, (_, p) => `hooklane:deliveries-{${partitionHashTag(p, n)}}:wait`)),
      ...Array.from({ length: 40 }, (_, i) => `k${i}:{wh_${(i * 7919).toString(36)}}:x`),
      'ünïcödé{ключ}',
    ];
    const answers = await Promise.all(keys.map((key) => cluster.cli(0, 'cluster', 'keyslot', key)));
    expect(keys.map(keySlot)).toEqual(answers.map((a) => Number(a.trim())));
  });
});

describe('REDIS_MODE=cluster', () => {
  it('delivers every event to every webhook through the cluster, and a killed worker loses nothing', async () => {
    const hooks: string[] = [];
    for (let i = 0; i < WEBHOOKS; i++) {
      const res = await request(api.app)
        .post('/v1/webhooks')
        .set(api.admin)
        .send({ team_id: TEAM, url: `${receiver.origin}/hook/${i}`, events: ['*'], retries_count: 5, retries_delay: 1 });
      expect(res.status).toBe(201);
      hooks.push(res.body.id as string);
    }
    const env = { REDIS_MODE: 'cluster', REDIS_URL: cluster.url, WORKER_CONCURRENCY: '10', SWEEPER_INTERVAL_MS: '2000' };
    const [victim, survivor] = [spawnWorker(api.database.url, api.prefix, env), spawnWorker(api.database.url, api.prefix, env)];
    workers.push(victim!, survivor!);
    await Promise.all([waitForStart(victim!), waitForStart(survivor!)]);

    const res = await request(api.app)
      .post('/v1/events/batch')
      .set(api.admin)
      .send({
        events: Array.from({ length: EVENTS }, (_, i) => ({ event: 'create:task', team_id: TEAM, data: { task: { id: i, name: `task ${i}` } } })),
      });
    expect(res.status).toBe(202);
    expect(res.body.results.every((r: { deliveries?: number }) => r.deliveries === WEBHOOKS)).toBe(true);

    // The queue's keys sit in partition 0's slot; the node that owns it holds them.
    const queueSlot = keySlot(`${api.prefix}:${deliveryQueueName(api.deps.config, 0)}:id`);
    expect(queueSlot).toBe(keySlot(partitionHashTag(0, 1)));
    await waitUntil(async () => Number(await probe.cluster('COUNTKEYSINSLOT', queueSlot)) > 0, 10_000, 'queue keys in the partition slot');

    await waitUntil(() => receiver.requests.length >= KILL_AFTER_RECEIVED, 60_000, 'the run to be under way');
    // The webhooks' lines and leases (line-keys.ts) share the queue's slot: one slot per line script.
    await waitUntil(
      async () => ((await probe.cluster('GETKEYSINSLOT', queueSlot, 10_000)) as string[]).some((k) => k.startsWith(`${api.prefix}:`) && k.endsWith(':slots')),
      10_000,
      'webhook lease keys in the partition slot',
    );
    victim!.child.kill('SIGKILL');
    expect(await victim!.exited).toBe('SIGKILL');

    const total = WEBHOOKS * EVENTS;
    await waitUntil(
      async () => (await api.deps.db.delivery.count({ where: { teamId: TEAM, status: 'succeeded' } })) === total,
      120_000,
      'every delivery to succeed',
    );
    const seen = new Set(receiver.requests.map((r) => String(r.headers['x-webhook-delivery'])));
    const deliveries = await api.deps.db.delivery.findMany({ where: { teamId: TEAM }, select: { id: true } });
    expect(deliveries).toHaveLength(total);
    expect(deliveries.filter((d) => !seen.has(d.id))).toEqual([]);
    for (let i = 0; i < WEBHOOKS; i++) expect(receiver.to(`/hook/${i}`).length).toBeGreaterThanOrEqual(EVENTS);

    // Health covers the cluster: the worker's /healthz and the API's /readyz read every partition's master.
    expect((await fetch(`http://127.0.0.1:${metricsPort(survivor!)}/healthz`)).status).toBe(200);
    const ready = await request(api.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.redis).toBe('ok');

    survivor!.child.kill('SIGTERM');
    expect(await survivor!.exited).toBe(0);
  }, 170_000);
});
