import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { waitUntil } from './chaos-helpers.js';
import { freePort } from '../support/free-port.js';

/**
 * Chaos 4 (issue 10's collapse, at a small size): a dead webhook (connection refused, 5
 * retries 1 s apart) with a 1,000-delivery backlog next to a healthy webhook taking 100
 * events/s for 30 s, one worker at the defaults. The promise: the healthy webhook's
 * deliveries keep flowing at no less than 80% of the rate they had alone, every one of them
 * arrives, and no dead delivery is lost: each is still pending or has failed after its 6
 * attempts. Ten seconds into its failures the dead webhook is throttled to 10 attempts a
 * second (apps/worker/src/failing-throttle.ts), so its retries outlast the test.
 */

const TEAM = 44;
const DEAD_BACKLOG = 1_000;
const RATE = 100;
const ALONE_SECONDS = 10;
const LOADED_SECONDS = 30;

let api: TestApi;
let receiver: Receiver;
let worker: WorkerProcess;

beforeAll(async () => {
  api = await startTestApi('chaosoverload');
  receiver = await startReceiver((_req, res) => res.writeHead(200).end('ok'));
});

afterAll(async () => {
  if (worker && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  await worker?.exited;
  await receiver?.close();
  await api?.close();
});

async function createHook(url: string, project: number): Promise<string> {
  const res = await request(api.app)
    .post('/v1/webhooks')
    .set(api.admin)
    .send({ team_id: TEAM, project_id: project, url, events: ['*'], retries_count: 5, retries_delay: 1 });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function emit(project: number, from: number, count: number): Promise<void> {
  const res = await request(api.app)
    .post('/v1/events/batch')
    .set(api.admin)
    .send({
      events: Array.from({ length: count }, (_, i) => ({
        event: 'create:task',
        team_id: TEAM,
        project_id: project,
        data: { task: { id: from + i, name: `task ${from + i}` } },
      })),
    });
  expect(res.status).toBe(202);
}

/** RATE events/s to the healthy webhook for `seconds`, in tenths; returns how many the receiver got meanwhile per second. */
async function loadHealthy(from: number, seconds: number): Promise<number> {
  const before = receiver.requests.length;
  const started = Date.now();
  for (let tick = 0; tick < seconds * 10; tick++) {
    await emit(2, from + tick * (RATE / 10), RATE / 10);
    const next = started + (tick + 1) * 100;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  return (receiver.requests.length - before) / ((Date.now() - started) / 1000);
}

describe('a dead webhook with a backlog next to a loaded healthy one', () => {
  it('keeps the healthy webhook flowing and delivers everything', async () => {
    const deadHook = await createHook(`http://127.0.0.1:${await freePort()}/dead`, 1);
    await createHook(`${receiver.origin}/alive`, 2);
    worker = spawnWorker(api.database.url, api.prefix);
    await waitForStart(worker);

    const alone = await loadHealthy(0, ALONE_SECONDS);
    for (let i = 0; i < DEAD_BACKLOG; i += 500) await emit(1, i, 500);
    const loaded = await loadHealthy(100_000, LOADED_SECONDS);
    const healthyTotal = RATE * (ALONE_SECONDS + LOADED_SECONDS);

    await waitUntil(() => new Set(receiver.requests.map((r) => String(r.headers['x-webhook-delivery']))).size >= healthyTotal, 30_000, 'every healthy delivery');
    const db = api.deps.db;
    const dead = await db.delivery.groupBy({ by: ['status'], where: { webhookId: deadHook }, _count: true, _max: { attempts: true } });
    const deadAttempts = await db.attempt.count({ where: { delivery: { webhookId: deadHook } } });
    // The last 20 s of the load, well after the throttle set in (10 s of failures).
    const lateFrom = new Date(Date.now() - 20_000);
    const lateAttempts = await db.attempt.count({ where: { delivery: { webhookId: deadHook }, startedAt: { gte: lateFrom } } });
    console.log(
      `overload: healthy ${alone.toFixed(0)}/s alone, ${loaded.toFixed(0)}/s next to a dead backlog of ${DEAD_BACKLOG} (${((loaded / alone) * 100).toFixed(0)}%); ` +
        `${healthyTotal} healthy delivered; dead: ${dead.map((d) => `${d._count} ${d.status}`).join(', ')} after ${deadAttempts} attempts, ${lateAttempts} in the last 20 s`,
    );
    expect(loaded).toBeGreaterThanOrEqual(0.8 * alone);
    expect(dead.reduce((n, d) => n + d._count, 0)).toBe(DEAD_BACKLOG);
    expect(dead.every((d) => d.status === 'pending' || d.status === 'failed')).toBe(true);
    expect(Math.max(...dead.map((d) => d._max.attempts ?? 0))).toBeLessThanOrEqual(6);
    // 10 a second in any 1,050 ms, plus the ten slots' attempts under way as the window opens.
    expect(lateAttempts).toBeLessThanOrEqual(20 * 10 + 10 + 10);
    expect(worker.child.exitCode).toBeNull();
  }, 240_000);
});
