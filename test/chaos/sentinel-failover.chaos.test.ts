import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { killWorkers, spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { startRedisSentinel, type RedisSentinelSet } from '../support/redis-sentinel.js';
import { expectCleanStops, waitUntil } from './chaos-helpers.js';

/**
 * Sentinel failover: the master is SIGKILLed while events keep coming. The sentinels promote
 * the replica; the API answers every request with 202 or 503 within seconds (never a hang,
 * never a 500), the workers find the new master by themselves, and every accepted event is
 * delivered (what the dead master held but had not replicated is queued again by the sweeper).
 */

const TEAM = 151;
const BATCH = 20;
const BATCHES_BEFORE = 15;
const RUN_AFTER_KILL_MS = 8_000;
const REQUEST_LIMIT_MS = 10_000;

let set: RedisSentinelSet;
let api: TestApi;
let receiver: Receiver;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  set = await startRedisSentinel();
  api = await startTestApi('sentinel', { REDIS_MODE: 'sentinel', REDIS_URL: set.url, REDIS_SENTINEL_NAME: set.name });
  // The refused connections while the master is gone are expected here; the API logs them, the test need not.
  api.deps.queues.all[0]!.on('error', () => undefined);
  api.deps.redis.on('error', () => undefined);
  receiver = await startReceiver(async (_req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    res.writeHead(200).end('ok');
  });
}, 60_000);

afterAll(async () => {
  await killWorkers(workers);
  await receiver?.close();
  await api?.close();
  await set?.stop();
});

interface Sent {
  status: number;
  ms: number;
}

async function emit(from: number): Promise<Sent> {
  const started = Date.now();
  const res = await request(api.app)
    .post('/v1/events/batch')
    .set(api.admin)
    .timeout(REQUEST_LIMIT_MS)
    .send({
      events: Array.from({ length: BATCH }, (_, i) => ({ event: 'create:task', team_id: TEAM, data: { task: { id: from + i } } })),
    })
    .then(
      (r) => r.status,
      () => 0, // no answer within the limit: a hang
    );
  return { status: res, ms: Date.now() - started };
}

describe('Sentinel: the master killed mid-run', () => {
  it('fails over; the API answers 202 or 503 throughout, workers resume, nothing accepted is lost', async () => {
    const hook = await request(api.app)
      .post('/v1/webhooks')
      .set(api.admin)
      .send({ team_id: TEAM, url: `${receiver.origin}/hook`, events: ['*'], retries_count: 5, retries_delay: 1 });
    expect(hook.status).toBe(201);
    const env = {
      REDIS_MODE: 'sentinel',
      REDIS_URL: set.url,
      REDIS_SENTINEL_NAME: set.name,
      WORKER_CONCURRENCY: '10',
      MAX_IN_FLIGHT_PER_WEBHOOK: '20',
      SWEEPER_INTERVAL_MS: '1000',
    };
    workers.push(spawnWorker(api.database.url, api.prefix, env), spawnWorker(api.database.url, api.prefix, env));
    await Promise.all(workers.map((w) => waitForStart(w)));

    const sent: Sent[] = [];
    let next = 0;
    const started = Date.now();
    for (let b = 0; b < BATCHES_BEFORE; b++, next += BATCH) sent.push(await emit(next));
    await waitUntil(() => receiver.requests.length > 0, 30_000, 'deliveries before the failover');

    const oldMaster = await set.killMaster();
    const killedAt = Date.now();
    const promoted = set
      .waitForMasterPort(oldMaster === set.master.port ? set.replica.port : set.master.port)
      .then(() => Date.now() - killedAt);
    // Keep emitting through the failover.
    while (Date.now() - killedAt < RUN_AFTER_KILL_MS) {
      sent.push(await emit(next));
      next += BATCH;
    }
    const promotedAfterMs = await promoted;
    for (let b = 0; b < 5; b++, next += BATCH) sent.push(await emit(next));

    const statuses = new Map<number, number>();
    for (const s of sent) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);
    const accepted = sent.filter((s) => s.status === 202).length * BATCH;
    expect([...statuses.keys()].every((status) => status === 202 || status === 503)).toBe(true);
    expect(accepted).toBeGreaterThan(0);

    await waitUntil(
      async () => (await api.deps.db.delivery.count({ where: { teamId: TEAM, status: 'succeeded' } })) >= accepted,
      120_000,
      'every accepted event to be delivered',
    );
    const allDoneMs = Date.now() - started;
    const deliveries = await api.deps.db.delivery.findMany({ where: { teamId: TEAM }, select: { id: true, status: true } });
    const seen = new Map<string, number>();
    for (const r of receiver.requests) {
      const id = String(r.headers['x-webhook-delivery']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    const lost = deliveries.filter((d) => d.status !== 'succeeded' || !seen.has(d.id));
    const duplicated = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0);
    const slowest = Math.max(...sent.map((s) => s.ms));
    console.log(
      `sentinel-failover: requests ${sent.length} (${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}), accepted events ${accepted}, ` +
        `promoted ${promotedAfterMs} ms after the kill, slowest request ${slowest} ms, lost ${lost.length}, duplicated ${duplicated}, all delivered ${allDoneMs} ms after the first event`,
    );
    expect(lost).toEqual([]);
    expect(slowest).toBeLessThan(REQUEST_LIMIT_MS);
    // Workers resumed on the new master: deliveries kept arriving after the failover.
    expect(receiver.requests.some((r) => r.at > killedAt + promotedAfterMs)).toBe(true);

    await expectCleanStops(workers);
  }, 175_000);
});
