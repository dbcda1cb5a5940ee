import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startReceiver, type Receiver } from '../../apps/worker/test/receiver.js';
import { killWorkers, spawnWorker, waitForStart, type WorkerProcess } from '../../apps/worker/test/spawn-worker.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { emitTaskBatch, waitUntil } from './chaos-helpers.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * Chaos 3, worker side: the workers lose PostgreSQL for ~20 s in the middle of a run (their
 * DATABASE_URL goes through a TCP proxy; the API keeps its own direct connection and keeps
 * accepting events). First the open connections freeze mid-query, then nothing listens.
 * The promise: the workers pause instead of failing jobs, stay up, and resume by themselves;
 * no delivery is lost or marked failed because of the outage (an attempt made but not
 * recorded is made again: a duplicate at worst).
 */

const TEAM = 43;
const EVENTS_BEFORE = 600;
const EVENTS_DURING = 200;
const CUT_AFTER_RECEIVED = 150;
const PHASE_MS = { frozen: 10_000, refused: 10_000 };

let api: TestApi;
let proxy: TcpProxy;
let receiver: Receiver;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  api = await startTestApi('chaospgworker');
  const target = new URL(api.database.url);
  proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
  receiver = await startReceiver(async (_req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    res.writeHead(200).end('ok');
  });
});

afterAll(async () => {
  await killWorkers(workers);
  await receiver?.close();
  await proxy?.close();
  await api?.close();
});

const countByStatus = async () => {
  const rows = await api.deps.db.delivery.groupBy({ by: ['status'], where: { teamId: TEAM }, _count: true });
  return Object.fromEntries(rows.map((r) => [r.status, r._count])) as Record<string, number>;
};

describe('PostgreSQL outage, worker side', () => {
  it('pauses the workers, fails nothing, and resumes when PostgreSQL is back', async () => {
    const hook = await request(api.app)
      .post('/v1/webhooks')
      .set(api.admin)
      .send({ team_id: TEAM, url: `${receiver.origin}/hook`, events: ['*'], retries_count: 5, retries_delay: 1 });
    expect(hook.status).toBe(201);

    const env = { WORKER_CONCURRENCY: '10', MAX_IN_FLIGHT_PER_WEBHOOK: '50', SWEEPER_INTERVAL_MS: '1000' };
    const databaseUrl = proxy.url(api.database.url);
    workers.push(spawnWorker(databaseUrl, api.prefix, env), spawnWorker(databaseUrl, api.prefix, env));
    await Promise.all(workers.map((w) => waitForStart(w)));

    await emitTaskBatch(api, TEAM, 0, EVENTS_BEFORE);
    await waitUntil(() => receiver.requests.length >= CUT_AFTER_RECEIVED, 60_000, 'the run to be under way');

    // Frozen: open connections stop answering mid-query; new ones hang.
    await proxy.cut('blackhole', { stallOpen: true });
    const cutAt = Date.now();
    const receivedAtCut = receiver.requests.length;
    // The platform keeps emitting: the API has its own way to PostgreSQL.
    await emitTaskBatch(api, TEAM, EVENTS_BEFORE, EVENTS_DURING);
    await new Promise((resolve) => setTimeout(resolve, PHASE_MS.frozen - (Date.now() - cutAt)));
    // Refused: nothing listens.
    await proxy.restore();
    await proxy.cut('refuse');
    const receivedMidOutage = receiver.requests.length;
    await new Promise((resolve) => setTimeout(resolve, PHASE_MS.refused));
    const receivedAtEnd = receiver.requests.length;
    const duringOutage = await countByStatus();
    const failedJobsDuring = await api.deps.queues.all[0]!.getJobCounts('failed');

    await proxy.restore();
    const restoredAt = Date.now();
    const total = EVENTS_BEFORE + EVENTS_DURING;
    await waitUntil(async () => (await countByStatus()).succeeded === total, 90_000, 'every delivery to succeed');
    const recoveredMs = Date.now() - restoredAt;

    const deliveries = await api.deps.db.delivery.findMany({ where: { teamId: TEAM }, select: { id: true, status: true } });
    const seen = new Map<string, number>();
    for (const r of receiver.requests) {
      const id = String(r.headers['x-webhook-delivery']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    const lost = deliveries.filter((d) => d.status !== 'succeeded' || !seen.has(d.id));
    const duplicated = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0);
    const failedAttempts = await api.deps.db.attempt.count({ where: { delivery: { teamId: TEAM }, statusCode: { not: 200 } } });
    const logs = workers.map((w) => w.output());
    console.log(
      [
        `postgres-outage (worker side): events ${total} (${EVENTS_DURING} emitted during the outage), lost ${lost.length}, duplicated ${duplicated}, failed deliveries ${duringOutage.failed ?? 0}, failed attempts ${failedAttempts}`,
        `  received at cut ${receivedAtCut}, after the frozen phase ${receivedMidOutage}, at restore ${receivedAtEnd}; BullMQ failed jobs during the outage ${failedJobsDuring.failed ?? 0}; all succeeded ${recoveredMs} ms after restore`,
        `  workers paused: ${logs.map((l) => l.includes('PostgreSQL is unreachable')).join(', ')}; resumed: ${logs.map((l) => l.includes('PostgreSQL is reachable again')).join(', ')}`,
      ].join('\n'),
    );

    expect(deliveries).toHaveLength(total);
    expect(lost).toEqual([]);
    // Nothing was marked failed, and no attempt was recorded as failed, because of the outage.
    expect(duringOutage.failed ?? 0).toBe(0);
    expect(failedAttempts).toBe(0);
    // The workers stayed up through it, paused, and resumed.
    for (const w of workers) expect(w.child.exitCode).toBeNull();
    for (const log of logs) {
      expect(log).toContain('PostgreSQL is unreachable');
      expect(log).toContain('PostgreSQL is reachable again');
    }
    // While paused they sent (next to) nothing: what went out after the cut is what was already in flight.
    expect(receivedAtEnd - receivedMidOutage).toBe(0);

    for (const w of workers) {
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    }
  }, 170_000);
});
