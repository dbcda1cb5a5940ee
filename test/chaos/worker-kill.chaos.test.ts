import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { killWorkers, spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { waitUntil } from './chaos-helpers.js';

/**
 * Chaos 1: a worker is SIGKILLed in the middle of a 2,000-event run. The promise: nothing is
 * lost (every delivery ends `succeeded` and the receiver saw every one), and the price is at
 * most a duplicate per attempt the killed worker had not recorded yet. A job frees its slot at
 * the exchange's end and sends its next delivery while the last one is written, so each of its
 * jobs may hold two: one on the wire, one answered but not yet recorded.
 */

const TEAM = 41;
const EVENTS = 2_000;
const BATCH = 1_000;
const KILLED_CONCURRENCY = 20;
const KILL_AFTER_RECEIVED = 500;
const DUPLICATE_LIMIT = 2 * KILLED_CONCURRENCY;

let api: TestApi;
let receiver: Receiver;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  api = await startTestApi('chaoskill');
  receiver = await startReceiver(async (_req, res) => {
    // Slow enough that a worker is always mid-attempt when it dies.
    await new Promise((resolve) => setTimeout(resolve, 15));
    res.writeHead(200).end('ok');
  });
});

afterAll(async () => {
  await killWorkers(workers);
  await receiver?.close();
  await api?.close();
});

function countDeliveries(): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of receiver.requests) {
    const id = String(r.headers['x-webhook-delivery']);
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
}

describe('a worker killed mid-run', () => {
  it('loses nothing and duplicates at most what it had not recorded', async () => {
    const hook = await request(api.app)
      .post('/v1/webhooks')
      .set(api.admin)
      .send({ team_id: TEAM, url: `${receiver.origin}/hook`, events: ['*'], retries_count: 5, retries_delay: 1 });
    expect(hook.status).toBe(201);

    // One webhook takes every delivery, so the in-flight cap is raised to let both workers work.
    const env = { WORKER_CONCURRENCY: String(KILLED_CONCURRENCY), MAX_IN_FLIGHT_PER_WEBHOOK: '50', SWEEPER_INTERVAL_MS: '2000' };
    const [victim, survivor] = [spawnWorker(api.database.url, api.prefix, env), spawnWorker(api.database.url, api.prefix, env)];
    workers.push(victim!, survivor!);
    await Promise.all([waitForStart(victim!), waitForStart(survivor!)]);

    const started = Date.now();
    const batches = await Promise.all(
      Array.from({ length: EVENTS / BATCH }, (_, b) =>
        request(api.app)
          .post('/v1/events/batch')
          .set(api.admin)
          .send({
            events: Array.from({ length: BATCH }, (_, i) => ({
              event: 'create:task',
              team_id: TEAM,
              data: { task: { id: b * BATCH + i, name: `task ${b * BATCH + i}` } },
            })),
          }),
      ),
    );
    for (const res of batches) {
      expect(res.status).toBe(202);
      expect(res.body.results.every((r: { deliveries?: number }) => r.deliveries === 1)).toBe(true);
    }

    await waitUntil(() => receiver.requests.length >= KILL_AFTER_RECEIVED, 60_000, 'the run to be under way');
    victim!.child.kill('SIGKILL');
    expect(await victim!.exited).toBe('SIGKILL');
    const receivedAtKill = receiver.requests.length;

    // The killed worker's jobs are taken over once their locks lapse (30 s lock + 15 s stall check).
    await waitUntil(
      async () => (await api.deps.db.delivery.count({ where: { teamId: TEAM, status: 'succeeded' } })) === EVENTS,
      120_000,
      'every delivery to succeed',
    );
    const elapsedMs = Date.now() - started;

    const deliveries = await api.deps.db.delivery.findMany({ where: { teamId: TEAM }, select: { id: true, status: true, attempts: true } });
    const seen = countDeliveries();
    const lost = deliveries.filter((d) => d.status !== 'succeeded' || !seen.has(d.id));
    const duplicated = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0);
    console.log(
      `worker-kill: events ${EVENTS}, deliveries ${deliveries.length}, killed after ${receivedAtKill} received, lost ${lost.length}, duplicated ${duplicated} (limit ${DUPLICATE_LIMIT}), all succeeded in ${elapsedMs} ms`,
    );

    expect(deliveries).toHaveLength(EVENTS);
    expect(lost).toEqual([]);
    expect(duplicated).toBeLessThanOrEqual(DUPLICATE_LIMIT);
    // One recorded attempt each: a duplicate is a repeat of the same attempt, never a second one on record.
    expect(deliveries.every((d) => d.attempts === 1)).toBe(true);

    survivor!.child.kill('SIGTERM');
    expect(await survivor!.exited).toBe(0);
  }, 170_000);
});
