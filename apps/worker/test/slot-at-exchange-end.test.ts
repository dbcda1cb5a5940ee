import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { enqueueDeliveries } from '@hooklane/queue';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { createWorkerTestEnv, eventually, seedDelivery, type SeededDelivery, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

// A webhook's MAX_IN_FLIGHT_PER_WEBHOOK slot is held for the HTTP exchange, not for the
// database write that records it: the next delivery goes out while the last one's attempt is
// still being written. The write is held back here by a real row lock on the webhook (every
// record updates its webhook's row), so with the cap at 1 a second request can only reach the
// receiver if the first attempt's slot was handed on before its record was committed.

let env: WorkerTestEnv;
let worker: TestWorker;
let receiver: Receiver;
let current = 0;
let maxConcurrent = 0;

beforeAll(async () => {
  env = await createWorkerTestEnv('wsettle');
  worker = await startTestWorker({
    databaseUrl: env.database.url,
    prefix: env.prefix,
    env: { MAX_IN_FLIGHT_PER_WEBHOOK: '1', WORKER_CONCURRENCY: '5' },
  });
  receiver = await startReceiver(async (_req, res) => {
    current++;
    maxConcurrent = Math.max(maxConcurrent, current);
    await new Promise((resolve) => setTimeout(resolve, 20));
    current--;
    res.writeHead(200).end('ok');
  });
});

afterAll(async () => {
  await worker?.close();
  await receiver?.close();
  await env?.close();
});

describe('a slot held for the exchange only', () => {
  it('sends the next delivery of a webhook at its cap while the previous attempt is still being recorded, and records every one once', async () => {
    const seeded: SeededDelivery[] = [];
    for (let i = 0; i < 3; i++) {
      seeded.push(
        await seedDelivery(env, { url: `${receiver.origin}/settle`, webhookId: seeded[0]?.webhookId, enqueue: false }),
      );
    }
    const webhookId = seeded[0]!.webhookId;
    const ids = seeded.map((s) => s.deliveryId);

    await env.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM webhooks WHERE id = ${webhookId} FOR UPDATE`;
        await enqueueDeliveries(env.queue, seeded.map((s) => ({ deliveryId: s.deliveryId, attempt: 1, webhookId })));
        await eventually(async () => (receiver.to('/settle').length >= 2 ? true : undefined), 5_000, 'a second request while the first record waits');
        // Nothing is recorded yet, so the second request went out on a slot freed at the first exchange's end.
        expect(await env.db.attempt.count({ where: { deliveryId: { in: ids } } })).toBe(0);
        // One record behind at most: the third waits for the first record.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(receiver.to('/settle')).toHaveLength(2);
      },
      { timeout: 30_000, maxWait: 10_000 },
    );

    await eventually(
      async () => ((await env.db.delivery.count({ where: { id: { in: ids }, status: 'succeeded' } })) === 3 ? true : undefined),
      20_000,
      'every delivery to succeed once the lock is gone',
    );
    expect(receiver.to('/settle')).toHaveLength(3);
    expect(maxConcurrent).toBe(1);
    const attempts = await env.db.attempt.groupBy({ by: ['deliveryId'], where: { deliveryId: { in: ids } }, _count: true });
    expect(attempts.map((a) => a._count)).toEqual([1, 1, 1]);
  }, 60_000);
});
