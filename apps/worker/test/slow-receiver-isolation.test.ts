import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { enqueueDeliveries } from '@hooklane/queue';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { createWorkerTestEnv, eventually, seedDelivery, sleep, type SeededDelivery, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

// A receiver that never answers must not starve the others: MAX_IN_FLIGHT_PER_WEBHOOK
// keeps its backlog to 5 of the worker's 20 slots. Without the cap the hanging webhook's
// backlog, queued first, would hold all 20 slots for its whole 5 s timeout, round after
// round, and the healthy deliveries would wait behind it for tens of seconds.

const MAX_IN_FLIGHT = 5;
const HANGING_BACKLOG = 100;
const HEALTHY = 60;
/** Run-to-run noise on a shared machine; the failure this guards against costs 5 s and more. */
const NOISE_FLOOR_MS = 1_500;

let env: WorkerTestEnv;
let worker: TestWorker;
let healthy: Receiver;
let hanging: Receiver;
let hangingOpen = 0;
let hangingMaxOpen = 0;

beforeAll(async () => {
  env = await createWorkerTestEnv('wisolation');
  worker = await startTestWorker({
    databaseUrl: env.database.url,
    prefix: env.prefix,
    env: { MAX_IN_FLIGHT_PER_WEBHOOK: String(MAX_IN_FLIGHT), WORKER_CONCURRENCY: '20', SHUTDOWN_GRACE_MS: '1000' },
  });
  healthy = await startReceiver(async (_req, res) => {
    await sleep(20);
    res.writeHead(200).end('ok');
  });
  // Reads the request and never answers; the worker gives up after the webhook's timeout.
  hanging = await startReceiver((_req, res) => {
    hangingOpen++;
    hangingMaxOpen = Math.max(hangingMaxOpen, hangingOpen);
    res.on('close', () => hangingOpen--);
  });
});

afterAll(async () => {
  await hanging?.close();
  await worker?.close();
  await healthy?.close();
  await env?.close();
});

async function seedMany(url: string, count: number, webhook: { timeout: number }): Promise<SeededDelivery[]> {
  const seeded: SeededDelivery[] = [];
  for (let i = 0; i < count; i++) {
    seeded.push(await seedDelivery(env, { url, webhookId: seeded[0]?.webhookId, webhook, enqueue: false }));
  }
  return seeded;
}

/** Enqueues the deliveries and returns how long until every one of them succeeded. */
async function timeToDeliver(seeded: SeededDelivery[]): Promise<number> {
  const ids = seeded.map((s) => s.deliveryId);
  const started = Date.now();
  await enqueueDeliveries(env.queue, seeded.map((s) => ({ deliveryId: s.deliveryId, attempt: 1, webhookId: s.webhookId })));
  await eventually(
    async () => ((await env.db.delivery.count({ where: { id: { in: ids }, status: 'succeeded' } })) === ids.length ? true : undefined),
    60_000,
    'the healthy deliveries',
  );
  return Date.now() - started;
}

describe('a hanging receiver next to a healthy one', () => {
  it('does not slow the healthy webhook down', async () => {
    const baselineIds = await seedMany(`${healthy.origin}/a`, HEALTHY, { timeout: 10 });
    const hangingIds = await seedMany(`${hanging.origin}/hang`, HANGING_BACKLOG, { timeout: 5 });
    const contendedIds = await seedMany(`${healthy.origin}/b`, HEALTHY, { timeout: 10 });

    const alone = await timeToDeliver(baselineIds);

    // The hanging webhook's whole backlog is queued first and has been pulled by the worker:
    // 5 attempts hang at the receiver, the rest wait for a slot.
    await enqueueDeliveries(env.queue, hangingIds.map((s) => ({ deliveryId: s.deliveryId, attempt: 1, webhookId: s.webhookId })));
    await eventually(async () => (hangingOpen === MAX_IN_FLIGHT ? true : undefined), 10_000, 'the hanging attempts');
    await eventually(
      async () => ((await env.queue.getWaitingCount()) === 0 ? true : undefined),
      10_000,
      'the hanging backlog to be pulled',
    );
    const contended = await timeToDeliver(contendedIds);

    console.log(
      `healthy webhook: ${HEALTHY} deliveries in ${alone} ms alone, ${contended} ms next to a hanging webhook with ${HANGING_BACKLOG} queued (ratio ${(contended / alone).toFixed(2)}); hanging receiver saw at most ${hangingMaxOpen} requests at once`,
    );
    expect(hangingMaxOpen).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(contended <= alone * 1.1 || contended - alone <= NOISE_FLOOR_MS).toBe(true);
    // The hanging deliveries were held back, not failed for it: none of them failed before its timeout.
    const early = await env.db.attempt.count({ where: { deliveryId: { in: hangingIds.map((s) => s.deliveryId) }, durationMs: { lt: 4_500 } } });
    expect(early).toBe(0);
  }, 120_000);
});
