import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { enqueueDeliveries } from '@hooklane/queue';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { createWorkerTestEnv, eventually, seedDelivery, sleep, type SeededDelivery, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

// A webhook none of whose attempts gets through for a while is attempted at a trickle, so a
// dead receiver's backlog and retries stop taking the worker from the healthy webhooks; the
// first success lifts it. Here: 500 on every attempt, retries 1 s apart.

const THROTTLE = { afterMs: 1_000, perSecond: 4 };
const DELIVERIES = 60;
/** Attempts counted from 1.5 s after the first failure (throttle on) for 3 s. */
const WINDOW = { fromMs: 1_500, lengthMs: 3_000 };

let env: WorkerTestEnv;
let receiver: Receiver;
let worker: TestWorker | undefined;

beforeAll(async () => {
  env = await createWorkerTestEnv('wthrottle');
  receiver = await startReceiver((req, res) => {
    res.writeHead(req.path.startsWith('/down') ? 500 : 200).end();
  });
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

afterAll(async () => {
  await receiver?.close();
  await env?.close();
});

async function seedFailing(path: string): Promise<SeededDelivery[]> {
  const seeded: SeededDelivery[] = [];
  for (let i = 0; i < DELIVERIES; i++) {
    seeded.push(
      await seedDelivery(env, {
        url: `${receiver.origin}${path}`,
        webhookId: seeded[0]?.webhookId,
        webhook: { retriesCount: 30, retriesDelay: 1 },
        enqueue: false,
      }),
    );
  }
  await enqueueDeliveries(env.queue, seeded.map((s) => ({ deliveryId: s.deliveryId, attempt: 1, webhookId: s.webhookId })));
  return seeded;
}

/** Attempts of the webhook started within the window after its first attempt. */
async function attemptsInWindow(webhookId: string): Promise<number> {
  const first = await eventually(
    async () => (await env.db.attempt.findFirst({ where: { delivery: { webhookId } }, orderBy: { startedAt: 'asc' } })) ?? undefined,
    20_000,
    'a first attempt',
  );
  const from = first.startedAt.getTime() + WINDOW.fromMs;
  const to = from + WINDOW.lengthMs;
  await sleep(Math.max(0, to - Date.now()) + 500);
  return env.db.attempt.count({ where: { delivery: { webhookId }, startedAt: { gte: new Date(from), lt: new Date(to) } } });
}

describe('a webhook that keeps failing', () => {
  it('without the throttle, its retries take as many attempts as the cap allows', async () => {
    worker = await startTestWorker({ databaseUrl: env.database.url, prefix: env.prefix, failingThrottle: false });
    const seeded = await seedFailing('/down-unthrottled');
    // 60 deliveries due every second: far more than the throttled 4 per second.
    expect(await attemptsInWindow(seeded[0]!.webhookId)).toBeGreaterThan(60);
  });

  it('is attempted at most perSecond times a second once it has failed for afterMs, and at full speed after a success', async () => {
    worker = await startTestWorker({ databaseUrl: env.database.url, prefix: env.prefix, failingThrottle: THROTTLE });
    const seeded = await seedFailing('/down-throttled');
    const { webhookId } = seeded[0]!;
    // 4 per second over 3 s, plus the attempts already started or reserved as it set in (cap 10).
    expect(await attemptsInWindow(webhookId)).toBeLessThanOrEqual(THROTTLE.perSecond * 3 + 10 + 4);

    receiver.setHandler((_req, res) => res.writeHead(200).end());
    const ids = seeded.map((s) => s.deliveryId);
    await eventually(
      async () => ((await env.db.delivery.count({ where: { id: { in: ids }, status: 'succeeded' } })) === ids.length ? true : undefined),
      30_000,
      'every delivery to succeed once the receiver answers',
    );
    const successes = (await env.db.attempt.findMany({ where: { deliveryId: { in: ids }, statusCode: 200 }, select: { startedAt: true } }))
      .map((a) => a.startedAt.getTime())
      .sort((a, b) => a - b);
    expect(successes).toHaveLength(DELIVERIES);
    // Throttled, 60 deliveries would take 15 s; the first success lifts the throttle.
    expect(successes.at(-1)! - successes[0]!).toBeLessThan(7_000);
  });
});
