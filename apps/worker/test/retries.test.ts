import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { deliverJobId, enqueueDeliveries } from '@hooklane/queue';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { attemptLog, createWorkerTestEnv, eventually, seedDelivery, sleep, waitForFinished, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

let env: WorkerTestEnv;
let worker: TestWorker;
let receiver: Receiver;
const answers = new Map<string, Array<{ status: number; headers?: Record<string, string> }>>();

beforeAll(async () => {
  env = await createWorkerTestEnv('wretries');
  worker = await startTestWorker({ databaseUrl: env.database.url, prefix: env.prefix });
  // Each path answers from its script in turn; the last answer repeats.
  receiver = await startReceiver((req, res) => {
    const script = answers.get(req.path) ?? [{ status: 200 }];
    const answer = script.length > 1 ? script.shift()! : script[0]!;
    res.writeHead(answer.status, answer.headers).end(`status ${answer.status}`);
  });
});

afterAll(async () => {
  await worker?.close();
  await receiver?.close();
  await env?.close();
});

function gaps(path: string): number[] {
  const times = receiver.to(path).map((r) => r.at);
  return times.slice(1).map((t, i) => t - times[i]!);
}

describe('retries', () => {
  it('retries retries_count times, retries_delay apart, then fails with the whole attempt log', async () => {
    answers.set('/always-500', [{ status: 500 }]);
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/always-500`,
      webhook: { retriesCount: 2, retriesDelay: 1, retryBackoff: 'fixed' },
    });

    // Between attempts the delivery is pending with the next attempt scheduled about a second out.
    const between = await eventually(async () => {
      const d = await env.db.delivery.findUniqueOrThrow({ where: { id: seeded.deliveryId } });
      return d.attempts === 1 ? d : undefined;
    });
    expect(between.status).toBe('pending');
    expect(between.lastStatusCode).toBe(500);
    expect(between.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now() - 1000);

    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toBe(3);
    expect(delivery.nextAttemptAt).toBeNull();
    expect(receiver.to('/always-500')).toHaveLength(3);
    for (const gap of gaps('/always-500')) expect(gap).toBeGreaterThanOrEqual(950);

    const log = await attemptLog(env.db, seeded.deliveryId);
    expect(log.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
    ]);
    const webhook = await env.db.webhook.findUniqueOrThrow({ where: { id: seeded.webhookId } });
    expect(webhook.lastStatus).toBe(500);
    expect(webhook.failingSince).not.toBeNull();
    expect(webhook.isActive).toBe(true);
  });

  it('waits at least as long as a 429 Retry-After asks', async () => {
    answers.set('/busy-429', [{ status: 429, headers: { 'Retry-After': '2' } }, { status: 200 }]);
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/busy-429`,
      webhook: { retriesCount: 3, retriesDelay: 0 },
    });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('succeeded');
    expect(delivery.attempts).toBe(2);
    expect(gaps('/busy-429')[0]).toBeGreaterThanOrEqual(1990);
  });

  it('waits at least as long as a 503 Retry-After asks', async () => {
    answers.set('/busy-503', [{ status: 503, headers: { 'Retry-After': '2' } }, { status: 204 }]);
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/busy-503`,
      webhook: { retriesCount: 1, retriesDelay: 0 },
    });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('succeeded');
    expect(gaps('/busy-503')[0]).toBeGreaterThanOrEqual(1990);
  });

  it('makes one attempt when retries_count is 0', async () => {
    answers.set('/no-retries', [{ status: 502 }]);
    const seeded = await seedDelivery(env, { url: `${receiver.origin}/no-retries`, webhook: { retriesCount: 0 } });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toBe(1);
    await sleep(300);
    expect(receiver.to('/no-retries')).toHaveLength(1);
  });

  it('gives a test ping exactly one attempt whatever retries_count says', async () => {
    answers.set('/ping-fails', [{ status: 500 }]);
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/ping-fails`,
      webhook: { retriesCount: 5, retriesDelay: 0 },
      event: { type: 'ping' },
      isTest: true,
    });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toBe(1);
    await sleep(300);
    expect(receiver.to('/ping-fails')).toHaveLength(1);
    // A failing ping is no sign the webhook is unhealthy.
    const webhook = await env.db.webhook.findUniqueOrThrow({ where: { id: seeded.webhookId } });
    expect(webhook.failingSince).toBeNull();
  });

  it('stops at 410 Gone and turns the webhook off', async () => {
    answers.set('/gone', [{ status: 410 }]);
    const seeded = await seedDelivery(env, { url: `${receiver.origin}/gone`, webhook: { retriesCount: 5, retriesDelay: 0 } });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toBe(1);
    expect(delivery.lastStatusCode).toBe(410);
    const webhook = await eventually(async () => {
      const w = await env.db.webhook.findUniqueOrThrow({ where: { id: seeded.webhookId } });
      return w.isActive ? undefined : w;
    });
    expect(webhook.disabledReason).toBe('gone');

    // Later deliveries to the disabled webhook are cancelled without a request.
    const next = await seedDelivery(env, { url: `${receiver.origin}/gone`, webhookId: seeded.webhookId });
    expect((await waitForFinished(env.db, next.deliveryId)).status).toBe('cancelled');
    expect(receiver.to('/gone')).toHaveLength(1);
  });

  it('cancels a delivery whose webhook was deleted, without a request', async () => {
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/deleted`,
      webhook: { deletedAt: new Date() },
    });
    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('cancelled');
    expect(delivery.attempts).toBe(0);
    expect(receiver.to('/deleted')).toHaveLength(0);
  });

  it('ignores a duplicate job for a finished delivery', async () => {
    const seeded = await seedDelivery(env, { url: `${receiver.origin}/once` });
    expect((await waitForFinished(env.db, seeded.deliveryId)).status).toBe('succeeded');

    // Finished jobs are removed at once, so BullMQ accepts the same ids again: replay the
    // attempt and a stale next one through the webhook's line.
    expect(await env.queue.getJobState(deliverJobId(seeded.deliveryId, 1))).toBe('unknown');
    await enqueueDeliveries(env.queue, [
      { deliveryId: seeded.deliveryId, attempt: 1, webhookId: seeded.webhookId },
      { deliveryId: seeded.deliveryId, attempt: 2, webhookId: seeded.webhookId },
    ]);
    await sleep(1500);
    expect(receiver.to('/once')).toHaveLength(1);
    expect(await attemptLog(env.db, seeded.deliveryId)).toHaveLength(1);
  });
});
