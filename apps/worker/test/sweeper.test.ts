import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { deliverJobId } from '@hooklane/queue';
import { startTestWorker, type TestWorker } from '../../../test/support/worker.js';
import { attemptLog, createWorkerTestEnv, eventually, seedDelivery, sleep, waitForFinished, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

let env: WorkerTestEnv;
let workers: TestWorker[] = [];
let receiver: Receiver;
const failFirst = new Set<string>();

beforeAll(async () => {
  env = await createWorkerTestEnv('wsweeper');
  // Two workers on one prefix, both sweeping often, to show the sweep is safe with N workers.
  const options = {
    databaseUrl: env.database.url,
    prefix: env.prefix,
    env: { SWEEPER_INTERVAL_MS: '300' },
    sweeper: { graceMs: 500 },
  };
  workers = [await startTestWorker(options), await startTestWorker(options)];
  receiver = await startReceiver((req, res) => {
    if (failFirst.delete(req.path)) res.writeHead(500).end('not yet');
    else res.writeHead(200).end('ok');
  });
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await receiver?.close();
  await env?.close();
});

describe('outbox sweeper', () => {
  it('delivers committed deliveries that never got a job, each exactly once', async () => {
    const seeded = [];
    for (let i = 0; i < 10; i++) {
      seeded.push(await seedDelivery(env, { url: `${receiver.origin}/orphan-${i}`, enqueue: false, nextAttemptAt: new Date(Date.now() - 10_000) }));
    }
    for (const s of seeded) expect((await waitForFinished(env.db, s.deliveryId)).status).toBe('succeeded');
    await sleep(1000); // a few more sweeps: nothing is sent twice
    for (let i = 0; i < 10; i++) expect(receiver.to(`/orphan-${i}`)).toHaveLength(1);
  });

  it('re-creates a scheduled retry whose job vanished from Redis', async () => {
    failFirst.add('/lost-retry');
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/lost-retry`,
      webhook: { retriesCount: 2, retriesDelay: 1 },
    });
    const jobId = deliverJobId(seeded.deliveryId, 2);
    await eventually(async () => ((await env.queue.getJobState(jobId)) === 'delayed' ? true : undefined));
    await env.queue.remove(jobId);
    expect(await env.queue.getJobState(jobId)).toBe('unknown');

    const delivery = await waitForFinished(env.db, seeded.deliveryId);
    expect(delivery.status).toBe('succeeded');
    expect(delivery.attempts).toBe(2);
    expect((await attemptLog(env.db, seeded.deliveryId)).map((a) => a.statusCode)).toEqual([500, 200]);
  });

  it('leaves alone a delivery whose next attempt is not due yet', async () => {
    const seeded = await seedDelivery(env, {
      url: `${receiver.origin}/later`,
      enqueue: false,
      nextAttemptAt: new Date(Date.now() + 60_000),
    });
    await sleep(1500);
    const delivery = await env.db.delivery.findUniqueOrThrow({ where: { id: seeded.deliveryId } });
    expect(delivery.status).toBe('pending');
    expect(delivery.attempts).toBe(0);
    expect(receiver.to('/later')).toHaveLength(0);
  });
});
