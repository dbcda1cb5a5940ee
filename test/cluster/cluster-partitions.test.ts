import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keySlot } from '@hooklane/core';
import { deliveryQueueName, partitionOfWebhook } from '@hooklane/queue';
import request from 'supertest';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { killWorkers, metricsPort, spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { misplaced, sampleKeys, webhookKeys, webhooksOnEveryPartition } from '../support/partition-keys.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';
import { waitUntil } from '../chaos/chaos-helpers.js';

/**
 * QUEUE_PARTITIONS=3 on a real 3-master Redis Cluster started for this file: partition p's
 * queue lands on master p, the API routes each delivery to its webhook's partition, two worker
 * processes serve all three, every event reaches every webhook, every shard holds queue and
 * line keys (no webhook's keys in another partition), and the per-webhook cap holds.
 */

const TEAM = 132;
const PARTITIONS = 3;
const CAP = 3;
const EVENTS = 60;

let cluster: RedisCluster;
let api: TestApi;
let receiver: Receiver;
const workers: WorkerProcess[] = [];
const inFlight = new Map<string, number>();
const maxInFlight = new Map<string, number>();

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  api = await startTestApi('clparts', { REDIS_MODE: 'cluster', REDIS_URL: cluster.url, QUEUE_PARTITIONS: String(PARTITIONS) });
  receiver = await startReceiver(async (req, res) => {
    inFlight.set(req.path, (inFlight.get(req.path) ?? 0) + 1);
    maxInFlight.set(req.path, Math.max(maxInFlight.get(req.path) ?? 0, inFlight.get(req.path)!));
    await new Promise((resolve) => setTimeout(resolve, 20));
    inFlight.set(req.path, inFlight.get(req.path)! - 1);
    res.writeHead(200).end('ok');
  });
}, 60_000);

afterAll(async () => {
  await killWorkers(workers);
  await receiver?.close();
  await api?.close();
  await cluster?.stop();
});

/** The node whose slot ranges hold `slot`. */
function nodeOf(slot: number): number {
  return cluster.nodes.findIndex((n) => n.slots.some(([first, last]) => slot >= first && slot <= last));
}

/** Each node's keys of this file's delivery queues, tagged with the node's index. */
async function scanNodes(): Promise<string[]> {
  const lists = await Promise.all(
    cluster.nodes.map((_, i) => cluster.cli(i, '--scan', '--pattern', `${api.prefix}:deliveries-*`).then((out) => out.split('\n').filter(Boolean).map((k) => `${i} ${k}`))),
  );
  return lists.flat();
}

describe('QUEUE_PARTITIONS=3 on a 3-master cluster', () => {
  it('puts one partition on each master and delivers every event under the per-webhook cap', async () => {
    const layout = api.deps.config;
    const slots = Array.from({ length: PARTITIONS }, (_, p) => keySlot(`${api.prefix}:${deliveryQueueName(layout, p)}:wait`));
    expect(new Set(slots.map(nodeOf)).size).toBe(PARTITIONS);

    const hooks = await webhooksOnEveryPartition(api, TEAM, receiver.origin);
    const env = {
      REDIS_MODE: 'cluster',
      REDIS_URL: cluster.url,
      QUEUE_PARTITIONS: String(PARTITIONS),
      MAX_IN_FLIGHT_PER_WEBHOOK: String(CAP),
      WORKER_CONCURRENCY: '12',
      SWEEPER_INTERVAL_MS: '2000',
    };
    workers.push(spawnWorker(api.database.url, api.prefix, env), spawnWorker(api.database.url, api.prefix, env));
    await Promise.all(workers.map((w) => waitForStart(w)));
    const sampler = sampleKeys(scanNodes, 200);

    const res = await request(api.app)
      .post('/v1/events/batch')
      .set(api.admin)
      .send({ events: Array.from({ length: EVENTS }, (_, i) => ({ event: 'create:task', team_id: TEAM, data: { task: { id: i } } })) });
    expect(res.status).toBe(202);
    const total = hooks.length * EVENTS;
    await waitUntil(
      async () => (await api.deps.db.delivery.count({ where: { teamId: TEAM, status: 'succeeded' } })) === total,
      120_000,
      'every delivery to succeed',
    );
    const sampled = [...(await sampler.stop())].map((line) => ({ node: Number(line.slice(0, line.indexOf(' '))), key: line.slice(line.indexOf(' ') + 1) }));

    // Every shard held queue keys, and each key sat on the master of its partition's slot.
    expect(new Set(sampled.map((s) => s.node))).toEqual(new Set([0, 1, 2]));
    for (const { node, key } of sampled) expect(node).toBe(nodeOf(keySlot(key)));
    const keys = webhookKeys(sampled.map((s) => s.key), layout);
    expect(new Set(keys.map((k) => k.partition))).toEqual(new Set([0, 1, 2]));
    expect(misplaced(keys, layout)).toEqual([]);

    const seen = new Set(receiver.requests.map((r) => String(r.headers['x-webhook-delivery'])));
    const deliveries = await api.deps.db.delivery.findMany({ where: { teamId: TEAM }, select: { id: true } });
    expect(deliveries).toHaveLength(total);
    expect(deliveries.filter((d) => !seen.has(d.id))).toEqual([]);
    for (let i = 0; i < hooks.length; i++) expect(maxInFlight.get(`/hook/${i}`)).toBeLessThanOrEqual(CAP);
    expect(Math.max(...maxInFlight.values())).toBe(CAP);

    // Health reads every partition's master.
    expect((await fetch(`http://127.0.0.1:${metricsPort(workers[0]!)}/healthz`)).status).toBe(200);
    expect((await request(api.app).get('/readyz')).status).toBe(200);
    for (const w of workers) w.child.kill('SIGTERM');
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
  }, 170_000);
});
