import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { startReceiver, type Receiver } from './receiver.js';
import { createWorkerTestEnv, eventually, seedDelivery, sleep, type WorkerTestEnv } from './fixtures.js';
import { spawnWorker, waitForStart, type WorkerProcess } from './spawn-worker.js';

// A receiver slow enough that a killed worker always dies mid-attempt.
const RECEIVER_DELAY_MS = 2_000;

let env: WorkerTestEnv;
let receiver: Receiver;
const processes: WorkerProcess[] = [];

beforeAll(async () => {
  env = await createWorkerTestEnv('wcrash');
  receiver = await startReceiver(async (_req, res) => {
    await sleep(RECEIVER_DELAY_MS);
    res.writeHead(200).end('ok');
  });
});

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  await receiver?.close();
  await env?.close();
});

async function statusCounts(ids: string[]): Promise<Record<string, number>> {
  const rows = await env.db.delivery.groupBy({ by: ['status'], where: { id: { in: ids } }, _count: true });
  return Object.fromEntries(rows.map((r) => [r.status, r._count]));
}

describe('at-least-once delivery across worker crashes', () => {
  it('finishes every delivery after a worker is killed mid-attempt', async () => {
    const [a, b] = [
      spawnWorker(env.database.url, env.prefix, { WORKER_CONCURRENCY: '10' }),
      spawnWorker(env.database.url, env.prefix, { WORKER_CONCURRENCY: '10' }),
    ];
    processes.push(a!, b!);
    await Promise.all([waitForStart(a!), waitForStart(b!)]);

    const seeded = [];
    for (let i = 0; i < 30; i++) {
      seeded.push(await seedDelivery(env, { url: `${receiver.origin}/slow`, webhook: { retriesCount: 5, retriesDelay: 1 } }));
    }
    // Both workers are now mid-attempt (the receiver holds every request for 2 s).
    await eventually(async () => (receiver.requests.length >= 15 ? true : undefined), 20_000, 'attempts in flight');
    a!.child.kill('SIGKILL');
    expect(await a!.exited).toBe('SIGKILL');

    const ids = seeded.map((s) => s.deliveryId);
    await eventually(
      async () => ((await statusCounts(ids)).succeeded === 30 ? true : undefined),
      90_000,
      'every delivery to succeed',
    );
    // Each event reached the receiver at least once; a duplicate carries the same webhook-id.
    const received = new Set(receiver.requests.map((r) => r.headers['webhook-id']));
    for (const s of seeded) expect(received.has(s.eventId)).toBe(true);

    // The survivor stops on SIGTERM and exits 0.
    b!.child.kill('SIGTERM');
    expect(await b!.exited).toBe(0);
  }, 150_000);

  it('on SIGTERM finishes the attempts in flight, then exits 0', async () => {
    const c = spawnWorker(env.database.url, env.prefix, { WORKER_CONCURRENCY: '10' });
    processes.push(c);
    await waitForStart(c);
    const before = receiver.requests.length;
    const seeded = [];
    for (let i = 0; i < 5; i++) seeded.push(await seedDelivery(env, { url: `${receiver.origin}/slow` }));
    await eventually(async () => (receiver.requests.length >= before + 5 ? true : undefined), 20_000, 'attempts in flight');

    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    expect(await statusCounts(seeded.map((s) => s.deliveryId))).toEqual({ succeeded: 5 });
    expect(c.output()).toContain('worker stopped');
  }, 60_000);
});
