import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { QueueLayout } from '@hooklane/queue';
import { Redis } from 'ioredis';
import request from 'supertest';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { killWorkers, spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { misplaced, sampleKeys, webhookKeys } from '../support/partition-keys.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { waitUntil } from '../chaos/chaos-helpers.js';

/**
 * Changing QUEUE_PARTITIONS from 1 to 3 on a running system loses nothing: a backlog queued
 * under one partition (`deliveries`, untagged) is left there when the workers restart with
 * three, which never read it; the first sweep finds the new partitions' epoch keys missing and
 * queues every pending delivery again by the new mapping. Events an API still on the old
 * layout queues afterwards (into the unread `deliveries`) arrive through the sweeper's walk,
 * after its grace.
 */

const TEAM = 172;
const WEBHOOKS = 6;
const EVENTS = 80;

let api: TestApi;
let receiver: Receiver;
let redis: Redis;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  api = await startTestApi('pchange');
  redis = new Redis(TEST_REDIS_URL);
  receiver = await startReceiver(async (_req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    res.writeHead(200).end('ok');
  });
});

afterAll(async () => {
  await killWorkers(workers);
  redis?.disconnect();
  await receiver?.close();
  await api?.close();
});

async function emit(from: number): Promise<void> {
  const res = await request(api.app)
    .post('/v1/events/batch')
    .set(api.admin)
    .send({ events: Array.from({ length: EVENTS }, (_, i) => ({ event: 'create:task', team_id: TEAM, data: { task: { id: from + i } } })) });
  expect(res.status).toBe(202);
}

async function scan(pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

async function start(env: Record<string, string>): Promise<WorkerProcess> {
  const worker = spawnWorker(api.database.url, api.prefix, { MAX_IN_FLIGHT_PER_WEBHOOK: '2', SWEEPER_INTERVAL_MS: '1000', ...env });
  workers.push(worker);
  await waitForStart(worker);
  return worker;
}

describe('QUEUE_PARTITIONS from 1 to 3 with a backlog', () => {
  it('delivers the backlog left in the old partition and what the old layout queues afterwards', async () => {
    for (let i = 0; i < WEBHOOKS; i++) {
      const res = await request(api.app)
        .post('/v1/webhooks')
        .set(api.admin)
        .send({ team_id: TEAM, url: `${receiver.origin}/hook/${i}`, events: ['*'], retries_count: 5, retries_delay: 1 });
      expect(res.status).toBe(201);
    }
    const old = await start({ WORKER_CONCURRENCY: '4' });
    await emit(0);
    await waitUntil(() => receiver.requests.length >= 60, 60_000, 'the old layout to deliver some');
    old.child.kill('SIGTERM');
    expect(await old.exited).toBe(0);
    const backlog = await api.deps.db.delivery.count({ where: { teamId: TEAM, status: 'pending' } });
    expect(backlog).toBeGreaterThan(100);
    expect((await scan(`${api.prefix}:deliveries:wh:*:line`)).length).toBeGreaterThan(0);

    const layout: QueueLayout = { redisMode: 'standalone', queuePartitions: 3, queuePrefix: api.prefix };
    const sampler = sampleKeys(() => scan(`${api.prefix}:deliveries-*:wh:*`));
    const env = { QUEUE_PARTITIONS: '3', WORKER_CONCURRENCY: '12' };
    await Promise.all([start(env), start(env)]);
    // The API still runs the old layout: these go to `deliveries`, which nobody reads any more.
    await emit(EVENTS);

    const total = WEBHOOKS * EVENTS * 2;
    await waitUntil(
      async () => (await api.deps.db.delivery.count({ where: { teamId: TEAM, status: 'succeeded' } })) === total,
      120_000,
      'every delivery to succeed',
    );
    const seen = new Set(receiver.requests.map((r) => String(r.headers['x-webhook-delivery'])));
    const deliveries = await api.deps.db.delivery.findMany({ where: { teamId: TEAM }, select: { id: true } });
    expect(deliveries).toHaveLength(total);
    expect(deliveries.filter((d) => !seen.has(d.id))).toEqual([]);
    const keys = webhookKeys(await sampler.stop(), layout);
    expect(new Set(keys.map((k) => k.partition)).size).toBeGreaterThan(1);
    expect(misplaced(keys, layout)).toEqual([]);
    for (const w of workers.slice(1)) w.child.kill('SIGTERM');
    expect(await Promise.all(workers.slice(1).map((w) => w.exited))).toEqual([0, 0]);
  }, 170_000);
});
