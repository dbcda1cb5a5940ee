import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { partitionOfWebhook } from '@hooklane/queue';
import { Redis } from 'ioredis';
import request from 'supertest';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { killWorkers, spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { misplaced, sampleKeys, webhookKeys, webhooksOnEveryPartition } from '../support/partition-keys.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { waitUntil } from '../chaos/chaos-helpers.js';

/**
 * QUEUE_PARTITIONS=3 on one standalone Redis: the API (in process) routes every delivery to
 * its webhook's partition, two worker processes serve all three, every event reaches every
 * webhook, each partition's key space holds work (and no webhook's keys sit in another
 * partition's), and MAX_IN_FLIGHT_PER_WEBHOOK still holds across the two workers.
 */

const TEAM = 171;
const PARTITIONS = 3;
const CAP = 3;
const EVENTS = 60;

let api: TestApi;
let receiver: Receiver;
let redis: Redis;
const workers: WorkerProcess[] = [];
const inFlight = new Map<string, number>();
const maxInFlight = new Map<string, number>();

beforeAll(async () => {
  api = await startTestApi('partitions', { QUEUE_PARTITIONS: String(PARTITIONS) });
  redis = new Redis(TEST_REDIS_URL);
  receiver = await startReceiver(async (req, res) => {
    inFlight.set(req.path, (inFlight.get(req.path) ?? 0) + 1);
    maxInFlight.set(req.path, Math.max(maxInFlight.get(req.path) ?? 0, inFlight.get(req.path)!));
    await new Promise((resolve) => setTimeout(resolve, 20));
    inFlight.set(req.path, inFlight.get(req.path)! - 1);
    res.writeHead(200).end('ok');
  });
});

afterAll(async () => {
  await killWorkers(workers);
  redis?.disconnect();
  await receiver?.close();
  await api?.close();
});

async function scanWebhookKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${api.prefix}:*:wh:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

describe('QUEUE_PARTITIONS=3 on one Redis', () => {
  it('delivers every event to every webhook through its partition, under the per-webhook cap, across two workers', async () => {
    const hooks = await webhooksOnEveryPartition(api, TEAM, receiver.origin);
    const env = { QUEUE_PARTITIONS: String(PARTITIONS), MAX_IN_FLIGHT_PER_WEBHOOK: String(CAP), WORKER_CONCURRENCY: '12', SWEEPER_INTERVAL_MS: '2000' };
    workers.push(spawnWorker(api.database.url, api.prefix, env), spawnWorker(api.database.url, api.prefix, env));
    await Promise.all(workers.map((w) => waitForStart(w)));
    const sampler = sampleKeys(scanWebhookKeys);

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
    const keys = webhookKeys(await sampler.stop(), api.deps.config);

    // Every partition's key space held lines; no webhook's keys ever sat in another partition's.
    expect(new Set(keys.map((k) => k.partition))).toEqual(new Set(Array.from({ length: PARTITIONS }, (_, p) => p)));
    expect(misplaced(keys, api.deps.config)).toEqual([]);
    // The untagged single-partition space is not used at all.
    expect(await redis.exists(`${api.prefix}:deliveries:meta`)).toBe(0);

    const seen = new Set(receiver.requests.map((r) => String(r.headers['x-webhook-delivery'])));
    const deliveries = await api.deps.db.delivery.findMany({ where: { teamId: TEAM }, select: { id: true } });
    expect(deliveries).toHaveLength(total);
    expect(deliveries.filter((d) => !seen.has(d.id))).toEqual([]);
    for (let i = 0; i < hooks.length; i++) expect(maxInFlight.get(`/hook/${i}`)).toBeLessThanOrEqual(CAP);
    expect(Math.max(...maxInFlight.values())).toBe(CAP);

    // The gauge sums every partition; /readyz reads each partition's key.
    const ready = await request(api.app).get('/readyz');
    expect(ready.status).toBe(200);
    for (const w of workers) w.child.kill('SIGTERM');
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
  }, 170_000);
});
