import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { enqueueDeliveries, lineSpace, webhookLineKeys } from '@hooklane/queue';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { createWorkerTestEnv, eventually, seedDelivery, sleep, type SeededDelivery, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

// MAX_IN_FLIGHT_PER_WEBHOOK holds across workers: two workers with 20 slots each still
// send one webhook no more than 3 requests at a time.

const MAX_IN_FLIGHT = 3;
const DELIVERIES = 40;

let env: WorkerTestEnv;
let workers: TestWorker[] = [];
let receiver: Receiver;
let current = 0;
let maxConcurrent = 0;

beforeAll(async () => {
  env = await createWorkerTestEnv('winflight');
  const options = {
    databaseUrl: env.database.url,
    prefix: env.prefix,
    env: { MAX_IN_FLIGHT_PER_WEBHOOK: String(MAX_IN_FLIGHT), WORKER_CONCURRENCY: '20' },
  };
  workers = [await startTestWorker(options), await startTestWorker(options)];
  receiver = await startReceiver(async (_req, res) => {
    current++;
    maxConcurrent = Math.max(maxConcurrent, current);
    await sleep(300);
    current--;
    res.writeHead(200).end('ok');
  });
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await receiver?.close();
  await env?.close();
});

describe('MAX_IN_FLIGHT_PER_WEBHOOK', () => {
  it('keeps one webhook at the cap across two workers; the rest wait without failing or counting attempts', async () => {
    const seeded: SeededDelivery[] = [];
    for (let i = 0; i < DELIVERIES; i++) {
      seeded.push(
        await seedDelivery(env, {
          url: `${receiver.origin}/capped`,
          webhookId: seeded[0]?.webhookId,
          webhook: { retriesCount: 5, retriesDelay: 1 },
          enqueue: false,
        }),
      );
    }
    const ids = seeded.map((s) => s.deliveryId);
    // All at once, so both workers pull far more jobs than the webhook may take.
    await enqueueDeliveries(env.queue, seeded.map((s) => ({ deliveryId: s.deliveryId, attempt: 1, webhookId: s.webhookId })));

    await eventually(
      async () => ((await env.db.delivery.count({ where: { id: { in: ids }, status: 'succeeded' } })) === DELIVERIES ? true : undefined),
      60_000,
      'every delivery to succeed',
    );
    expect(maxConcurrent).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(maxConcurrent).toBeGreaterThanOrEqual(2);
    expect(receiver.to('/capped')).toHaveLength(DELIVERIES);
    const rows = await env.db.delivery.findMany({ where: { id: { in: ids } } });
    for (const row of rows) expect(row.attempts).toBe(1);
    const attempts = await env.db.attempt.groupBy({ by: ['deliveryId'], where: { deliveryId: { in: ids } }, _count: true });
    expect(attempts).toHaveLength(DELIVERIES);
    for (const a of attempts) expect(a._count).toBe(1);
    // Nothing left waiting in line or holding a slot (the last slots are freed as their exchanges end).
    const lineKeys = webhookLineKeys(lineSpace(env.queue), seeded[0]!.webhookId);
    await eventually(
      async () =>
        (await env.redis.zcard(lineKeys.slots)) + (await env.redis.llen(lineKeys.line)) === 0
          ? true
          : undefined,
      5_000,
      'every slot to be released',
    );
  }, 90_000);
});
