import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { enqueueDeliveries } from '@hooklane/queue';
import { createWorkerTestEnv, eventually, seedDelivery, type SeededDelivery, type WorkerTestEnv } from './fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';
import { killWorkers, waitForStart, type WorkerProcess } from './spawn-worker.js';

// A job records one turn while it sends the next (the slot is freed at the exchange's end). If
// the later record fails while the earlier one is still being written, that failure must reach
// the job, not escape as an unhandled rejection, which ends a worker process with exit code 1
// and drops every attempt it had in flight. So the worker here is a real process.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let env: WorkerTestEnv;
let worker: WorkerProcess;
let receiver: Receiver;

function spawnFollowUpFailingWorker(): WorkerProcess {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', 'apps/worker/test/follow-up-failing-worker.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: env.database.url, QUEUE_PREFIX: env.prefix },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { child, output: () => output, exited };
}

beforeAll(async () => {
  env = await createWorkerTestEnv('wrecfail');
  receiver = await startReceiver(async (_req, res) => void res.writeHead(200).end('ok'));
  worker = spawnFollowUpFailingWorker();
  await waitForStart(worker);
}, 40_000);

afterAll(async () => {
  if (worker) await killWorkers([worker]);
  await receiver?.close();
  await env?.close();
});

describe('a record that fails while the one before it is still written', () => {
  it('fails its job, not the worker process, and both deliveries stay recorded once', async () => {
    const seeded: SeededDelivery[] = [];
    for (let i = 0; i < 2; i++) {
      seeded.push(await seedDelivery(env, { url: `${receiver.origin}/handoff`, webhookId: seeded[0]?.webhookId, enqueue: false }));
    }
    const webhookId = seeded[0]!.webhookId;
    const ids = seeded.map((s) => s.deliveryId);
    await enqueueDeliveries(env.queue, seeded.map((s) => ({ deliveryId: s.deliveryId, attempt: 1, webhookId })));

    await eventually(
      async () => ((await env.db.delivery.count({ where: { id: { in: ids }, status: 'succeeded' } })) === 2 ? true : undefined),
      10_000,
      'both deliveries to succeed',
    );
    await eventually(async () => (worker.output().includes('{"follow_up":2}') ? true : undefined), 5_000, 'both follow-ups');
    // Past the slow first follow-up, by when a stray rejection would have ended the process.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    // The process's own output when it has gone: the rejection that ended it.
    expect(worker.child.exitCode === null ? 'running' : worker.output().slice(-2_000)).toBe('running');
    expect(receiver.to('/handoff')).toHaveLength(2);
    const attempts = await env.db.attempt.groupBy({ by: ['deliveryId'], where: { deliveryId: { in: ids } }, _count: true });
    expect(attempts.map((a) => a._count)).toEqual([1, 1]);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 40_000);
});
