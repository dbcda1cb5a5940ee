import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createDeliveryQueue, createRedisConnection, type DeliveryQueue } from '@hooklane/queue';
import type { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../../../test/support/redis-server.js';
import { createWorkerTestEnv, eventually, seedDelivery, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';
import { metricsPort, spawnWorker, waitForStart, type WorkerProcess } from './spawn-worker.js';

// A private Redis, so this file can flush and kill it without touching other test files.
let redisServer: RedisServer;
let env: WorkerTestEnv;
let producer: Redis;
let queue: DeliveryQueue;
let receiver: Receiver;
let worker: WorkerProcess;
const seen = new Set<string>();

beforeAll(async () => {
  redisServer = await startRedisServer();
  env = await createWorkerTestEnv('wredisloss');
  producer = createRedisConnection(redisServer.url, 'producer');
  producer.on('error', () => undefined);
  queue = createDeliveryQueue({ connection: producer, prefix: env.prefix });
  queue.on('error', () => undefined);
  // Every delivery fails its first attempt, so its retry waits in Redis as a delayed job.
  receiver = await startReceiver((req, res) => {
    const id = String(req.headers['x-webhook-delivery']);
    if (seen.has(id)) {
      res.writeHead(200).end('ok');
    } else {
      seen.add(id);
      res.writeHead(500).end('first try fails');
    }
  });
  worker = spawnWorker(env.database.url, env.prefix, { REDIS_URL: redisServer.url, SWEEPER_INTERVAL_MS: '500' });
  await waitForStart(worker);
});

afterAll(async () => {
  if (worker && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  await worker?.exited;
  await queue?.close().catch(() => undefined);
  producer?.disconnect();
  await receiver?.close();
  await env?.close();
  await redisServer?.stop();
});

async function healthStatus(): Promise<number> {
  return (await fetch(`http://127.0.0.1:${metricsPort(worker)}/healthz`)).status;
}

describe('the worker when Redis loses everything', () => {
  it('still delivers retries whose delayed jobs were flushed away', async () => {
    const seeded = [];
    for (let i = 0; i < 5; i++) {
      seeded.push(
        await seedDelivery({ ...env, queue }, { url: `${receiver.origin}/flushed`, webhook: { retriesCount: 3, retriesDelay: 2 } }),
      );
    }
    const ids = seeded.map((s) => s.deliveryId);
    // All first attempts made: the retries now exist only as delayed jobs in Redis.
    await eventually(async () => {
      const rows = await env.db.delivery.findMany({ where: { id: { in: ids } } });
      return rows.every((r) => r.attempts === 1) ? true : undefined;
    });
    await redisServer.flushall();

    await eventually(
      async () => ((await env.db.delivery.count({ where: { id: { in: ids }, status: 'succeeded' } })) === 5 ? true : undefined),
      30_000,
      'the flushed retries to be delivered',
    );
    const rows = await env.db.delivery.findMany({ where: { id: { in: ids } } });
    for (const row of rows) expect(row.attempts).toBe(2);
  });

  it('fails /healthz while Redis is down and recovers when it is back', async () => {
    expect(await healthStatus()).toBe(200);
    await redisServer.kill();
    await eventually(async () => ((await healthStatus()) === 503 ? true : undefined), 10_000, '/healthz to fail');
    await redisServer.start();
    await eventually(async () => ((await healthStatus()) === 200 ? true : undefined), 20_000, '/healthz to recover');

    // And it still delivers afterwards. The test's own producer fails fast while offline
    // (as the API's does), so it must have reconnected before it can queue.
    await eventually(async () => (producer.status === 'ready' ? true : undefined), 20_000, 'the producer to reconnect');
    const seeded = await seedDelivery({ ...env, queue }, { url: `${receiver.origin}/after`, webhook: { retriesCount: 1, retriesDelay: 0 } });
    await eventually(async () => {
      const row = await env.db.delivery.findUniqueOrThrow({ where: { id: seeded.deliveryId } });
      return row.status === 'succeeded' ? true : undefined;
    }, 20_000);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 60_000);
});
