import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { enqueueDeliveries } from '@hooklane/queue';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { createWorkerTestEnv, eventually, seedDelivery, type SeededDelivery, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

// A webhook's rate_limit caps deliveries per second across workers; deliveries over it
// wait (they are neither failed nor counted as attempts).

const RATE = 5;
const DELIVERIES = 20;
/**
 * The pace is read from the attempts' recorded start times, taken right after the worker's
 * reserved start (arrival times at the receiver add scheduling jitter that a loaded 2-core
 * machine stretches past 150 ms). The README's claim is exact: never 6 starts within one
 * second, so any 6 consecutive starts span at least 1,000 ms, no allowance.
 */
const SECOND_MS = 1_000;

let env: WorkerTestEnv;
let workers: TestWorker[] = [];
let receiver: Receiver;

beforeAll(async () => {
  env = await createWorkerTestEnv('wratelimit');
  const options = { databaseUrl: env.database.url, prefix: env.prefix, env: { WORKER_CONCURRENCY: '20' } };
  workers = [await startTestWorker(options), await startTestWorker(options)];
  receiver = await startReceiver();
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await receiver?.close();
  await env?.close();
});

async function seedMany(path: string, count: number, rateLimit: number | null): Promise<SeededDelivery[]> {
  const seeded: SeededDelivery[] = [];
  for (let i = 0; i < count; i++) {
    seeded.push(
      await seedDelivery(env, {
        url: `${receiver.origin}${path}`,
        webhookId: seeded[0]?.webhookId,
        webhook: { rateLimit, retriesCount: 5, retriesDelay: 1 },
        enqueue: false,
      }),
    );
  }
  await enqueueDeliveries(env.queue, seeded.map((s) => ({ deliveryId: s.deliveryId, attempt: 1, webhookId: s.webhookId })));
  return seeded;
}

async function allSucceeded(ids: string[], timeoutMs: number): Promise<void> {
  await eventually(
    async () => ((await env.db.delivery.count({ where: { id: { in: ids }, status: 'succeeded' } })) === ids.length ? true : undefined),
    timeoutMs,
    'every delivery to succeed',
  );
}

describe('rate_limit', () => {
  it('sends no more than rate_limit deliveries in any second, and every one of them once', async () => {
    const seeded = await seedMany('/limited', DELIVERIES, RATE);
    const ids = seeded.map((s) => s.deliveryId);
    await allSucceeded(ids, 30_000);

    expect(receiver.to('/limited')).toHaveLength(DELIVERIES);
    const attempts = await env.db.attempt.findMany({ where: { deliveryId: { in: ids } }, select: { startedAt: true } });
    const arrivals = attempts.map((a) => a.startedAt.getTime()).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(DELIVERIES);
    // 20 at 5 per second: the 1st and the 20th are at least three seconds apart...
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(3 * SECOND_MS);
    // ...and no 1-second window holds more than 5: any 6 arrivals in a row span a second.
    for (let i = 0; i + RATE < arrivals.length; i++) {
      expect(arrivals[i + RATE]! - arrivals[i]!).toBeGreaterThanOrEqual(SECOND_MS);
    }
    // Waiting is not starving: the backlog drains at about the rate, not far behind it.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeLessThan(10_000);

    const rows = await env.db.delivery.findMany({ where: { id: { in: ids } } });
    for (const row of rows) expect(row.attempts).toBe(1);
    expect(await env.db.attempt.count({ where: { deliveryId: { in: ids } } })).toBe(DELIVERIES);
  });

  it('does not hold back a webhook without rate_limit', async () => {
    const seeded = await seedMany('/unlimited', DELIVERIES, null);
    await allSucceeded(seeded.map((s) => s.deliveryId), 30_000);
    const arrivals = receiver.to('/unlimited').map((r) => r.at).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(DELIVERIES);
    // More than 5 within one second: nothing like the limited webhook's pace.
    expect(arrivals[RATE]! - arrivals[0]!).toBeLessThan(1_000);
  });
});
