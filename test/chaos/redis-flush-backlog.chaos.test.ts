import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateSecret, newId } from '@hooklane/core';
import { createDb, type Db } from '@hooklane/db';
import { createDeliveryQueue, createRedisConnection, enqueueDeliveries, type DeliveryQueue } from '@hooklane/queue';
import type { Redis } from 'ioredis';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { randomQueuePrefix } from '../support/redis.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { waitUntil } from './chaos-helpers.js';

/**
 * Chaos 5 (issue 11's sweeper at scale): a 20,000-delivery backlog to one webhook whose
 * queue keys are lost (FLUSHALL right after queueing). The sweeper sees the lines' epoch key
 * gone and queues every pending delivery again by keyset pages. The promise: all delivered,
 * at most the attempts in flight at the flush twice, at no less than 80% of the rate of the same drain with Redis intact.
 */

const BACKLOG = 20_000;
const TEAM = 45;

let redis: RedisServer;
let database: TestDatabase;
let db: Db;
let producer: Redis;
let queue: DeliveryQueue;
let receiver: Receiver;
let worker: WorkerProcess;
const prefix = randomQueuePrefix('chaosbacklog');

beforeAll(async () => {
  redis = await startRedisServer();
  database = await createTestDatabase('chaosbacklog');
  db = createDb(database.url);
  producer = createRedisConnection(redis.url, 'worker');
  queue = createDeliveryQueue({ connection: producer, prefix });
  receiver = await startReceiver((_req, res) => res.writeHead(200).end('ok'));
});

afterAll(async () => {
  if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
  await worker?.exited;
  await receiver?.close();
  await queue?.close();
  producer?.disconnect();
  await db?.$disconnect();
  await database?.drop();
  await redis?.stop();
});

/** A backlog of pending deliveries to one new webhook, stored as ingest stores them. */
async function seedBacklog(): Promise<Array<{ deliveryId: string; webhookId: string }>> {
  const webhookId = newId('wh');
  await db.webhook.create({ data: { id: webhookId, teamId: TEAM, url: `${receiver.origin}/${webhookId}`, events: ['*'], secret: generateSecret() } });
  const out: Array<{ deliveryId: string; webhookId: string }> = [];
  for (let start = 0; start < BACKLOG; start += 2_000) {
    const events = [];
    const deliveries = [];
    for (let i = start; i < start + 2_000; i++) {
      const eventId = newId('evt');
      const deliveryId = newId('dlv');
      events.push({ id: eventId, teamId: TEAM, type: 'create:task', timestamp: new Date(), data: { task: { id: i } } });
      deliveries.push({ id: deliveryId, teamId: TEAM, webhookId, eventId, eventType: 'create:task', nextAttemptAt: new Date() });
      out.push({ deliveryId, webhookId });
    }
    await db.event.createMany({ data: events });
    await db.delivery.createMany({ data: deliveries });
  }
  return out;
}

async function drain(flush: boolean): Promise<{ seconds: number; distinct: number; total: number }> {
  const backlog = await seedBacklog();
  const path = `/${backlog[0]!.webhookId}`;
  const started = Date.now();
  for (let i = 0; i < backlog.length; i += 1_000) {
    await enqueueDeliveries(queue, backlog.slice(i, i + 1_000).map((d) => ({ ...d, attempt: 1 })));
  }
  if (flush) await redis.flushall();
  await waitUntil(async () => new Set(receiver.to(path).map((r) => String(r.headers['x-webhook-delivery']))).size >= BACKLOG, 240_000, 'the backlog');
  const seconds = (Date.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // late duplicates would show by now
  const arrivals = receiver.to(path);
  return { seconds, distinct: new Set(arrivals.map((r) => String(r.headers['x-webhook-delivery']))).size, total: arrivals.length };
}

describe('a 20,000-delivery backlog whose Redis keys are flushed', () => {
  it('is delivered completely at no less than 80% of the intact drain rate', async () => {
    worker = spawnWorker(database.url, prefix, { REDIS_URL: redis.url, SWEEPER_INTERVAL_MS: '1000' });
    await waitForStart(worker);

    const intact = await drain(false);
    const flushed = await drain(true);
    const rate = (r: { seconds: number }) => BACKLOG / r.seconds;
    console.log(
      `redis-flush-backlog: intact ${BACKLOG} in ${intact.seconds.toFixed(1)} s (${rate(intact).toFixed(0)}/s); ` +
        `flushed ${BACKLOG} in ${flushed.seconds.toFixed(1)} s (${rate(flushed).toFixed(0)}/s, ${((rate(flushed) / rate(intact)) * 100).toFixed(0)}%); ` +
        `duplicates ${intact.total - intact.distinct} / ${flushed.total - flushed.distinct}`,
    );
    expect(flushed.distinct).toBe(BACKLOG);
    // At least once: only attempts in flight at the flush (at most the cap, 10) may be sent twice.
    expect(flushed.total - flushed.distinct).toBeLessThanOrEqual(10);
    expect(rate(flushed)).toBeGreaterThanOrEqual(0.8 * rate(intact));
    expect(await db.delivery.count({ where: { teamId: TEAM, status: { not: 'succeeded' } } })).toBe(0);
  }, 600_000);
});
