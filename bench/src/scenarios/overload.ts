import type { BenchContext } from '../context.js';
import { paddedData } from '../context.js';
import { adminPost } from '../api-client.js';
import { insertWebhooks, seedEventsWithDeliveries, truncateAll } from '../database.js';
import { runOpenLoop } from '../load/open-loop.js';
import { percentiles, type Percentiles } from '../load/percentiles.js';
import { heading, note, progressLine } from '../progress.js';
import { deletePrefix, openBenchQueue, randomQueuePrefix } from '../queue.js';
import { startApi, startWorker } from '../stack.js';
import { BENCH_EVENT, BENCH_TEAM } from './delivery-setup.js';
import { watchDeliveries } from './deliveries-watch.js';

/**
 * Issue 10's collapse case: webhook A's receiver refuses connections with a backlog (retries 5,
 * 1 s apart), webhook B is healthy and gets an open-loop load through the API; then the
 * drain. Run twice, with and without A, so B's rate has its baseline from the same run.
 */

/** Port 9 (discard) is closed on loopback: connection refused, as in the issue. */
const DEAD_URL = 'http://127.0.0.1:9/hook';
const WINDOW_S = 15;

export interface OverloadRun {
  deadBacklog: number;
  healthySent: number;
  healthyDelivered: number;
  /** B's arrivals while the load lasted, per second. */
  healthyPerSecondUnderLoad: number;
  healthyEndToEndMs: Percentiles;
  /** Attempts started (all webhooks) per second, per 15 s window from the load's start. */
  attemptsPerSecond: number[];
  loadWindows: number;
}

export interface OverloadResult {
  withDead: OverloadRun;
  alone: OverloadRun;
  /** Lowest load window against the first minute's mean (target ≥ 0.8). */
  worstWindowRatio: number;
  /** B's rate under load next to A against alone (target ≥ 0.8). */
  healthyRateRatio: number;
  allDelivered: boolean;
}

async function runOnce(ctx: BenchContext, deadBacklog: number): Promise<OverloadRun> {
  const { settings, db, receiver } = ctx;
  const rate = settings.overloadRate;
  const durationMs = settings.overloadDurationMs;
  await truncateAll(db.pool);
  const prefix = randomQueuePrefix();
  const [deadId, healthyId] = await insertWebhooks(db.pool, [
    { teamId: BENCH_TEAM, projectId: 1, url: DEAD_URL, events: [BENCH_EVENT], timeoutSeconds: 10 },
    { teamId: BENCH_TEAM, projectId: 2, url: receiver.fastUrl, events: [BENCH_EVENT], timeoutSeconds: 10 },
  ]);
  await db.pool.query('UPDATE webhooks SET retries_count = 5, retries_delay = 1 WHERE id = $1', [deadId]);
  if (deadBacklog > 0) {
    const seeded = await seedEventsWithDeliveries(db.url, deadBacklog, [{ webhookId: deadId!, teamId: BENCH_TEAM, projectId: 1 }], BENCH_EVENT, paddedData(settings.payloadBytes));
    const queue = openBenchQueue(settings.redisUrl, prefix);
    try {
      await queue.enqueueFirstAttempts(seeded);
    } finally {
      await queue.close();
    }
  }
  const api = await startApi(settings, db.url, prefix, { name: 'api-overload', profileRunId: ctx.runId });
  const worker = startWorker(settings, db.url, prefix, { name: 'worker-overload', profileRunId: ctx.runId });
  try {
    const key = await adminPost<{ key: string }>(api.baseUrl, '/v1/api-keys', { team_id: BENCH_TEAM }, 201);
    const body = Buffer.from(JSON.stringify({ event: BENCH_EVENT, team_id: BENCH_TEAM, project_id: 2, data: paddedData(1024) }));
    await receiver.reset({ recordArrivals: true });
    const label = `overload ${deadBacklog > 0 ? 'with' : 'without'} dead ${rate}/s`;
    const loadStart = Date.now();
    const run = await runOpenLoop({
      url: `${api.baseUrl}/v1/events`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key.key}` },
      body: () => body,
      ratePerSecond: rate,
      durationMs,
      onTick: (sent, answered, ms) => progressLine(label, sent, null, ms, `answered ${answered}`),
    });
    const loadEnd = Date.now();
    const sentAt = new Map<string, number>();
    for (const s of run.sends) {
      const eventId = (s.json as { event_id?: unknown } | null)?.event_id;
      if (s.status === 202 && typeof eventId === 'string') sentAt.set(eventId, s.sentAt);
    }
    await watchDeliveries(receiver, `${label} drain`, sentAt.size, { stallMs: 30_000, maxMs: 120_000, processes: [worker.child, api.child] });
    const arrivals = await receiver.arrivals();
    const latencies: number[] = [];
    let underLoad = 0;
    for (const [eventId, at] of arrivals) {
      const sent = sentAt.get(eventId);
      if (sent === undefined) continue;
      latencies.push(at - sent);
      if (at <= loadEnd) underLoad++;
    }
    const windows = await db.pool.query<{ w: number; n: string }>(
      `SELECT floor(extract(epoch FROM started_at - $1::timestamptz) / ${WINDOW_S})::int AS w, count(*) AS n
         FROM attempts WHERE started_at >= $1 AND started_at < $2 GROUP BY 1 ORDER BY 1`,
      [new Date(loadStart), new Date(loadEnd)],
    );
    const loadWindows = Math.max(1, Math.floor((loadEnd - loadStart) / 1000 / WINDOW_S));
    const attemptsPerSecond = Array.from({ length: loadWindows }, (_, w) => Number(windows.rows.find((r) => r.w === w)?.n ?? 0) / WINDOW_S);
    const result: OverloadRun = {
      deadBacklog,
      healthySent: sentAt.size,
      healthyDelivered: latencies.length,
      healthyPerSecondUnderLoad: underLoad / ((loadEnd - loadStart) / 1000),
      healthyEndToEndMs: percentiles(latencies),
      attemptsPerSecond,
      loadWindows,
    };
    note(
      `${label}: attempts/s per ${WINDOW_S} s ${attemptsPerSecond.map((a) => a.toFixed(0)).join(', ')}; B delivered ${result.healthyDelivered}/${result.healthySent}, ` +
        `${result.healthyPerSecondUnderLoad.toFixed(0)}/s under load, p50 ${result.healthyEndToEndMs.p50.toFixed(0)} ms, p99 ${result.healthyEndToEndMs.p99.toFixed(0)} ms`,
    );
    return result;
  } finally {
    await Promise.allSettled([worker.stop(), api.stop()]);
    await deletePrefix(settings.redisUrl, prefix);
  }
}

/** Scenario `overload`: dead backlog + steady load to a healthy webhook, against the load alone. */
export async function runOverload(ctx: BenchContext): Promise<OverloadResult> {
  const { settings } = ctx;
  heading(
    `overload: dead webhook with ${settings.overloadBacklog} backlog + ${settings.overloadRate} events/s to a healthy one for ${settings.overloadDurationMs / 1000} s, then drain; and the load alone`,
  );
  const alone = await runOnce(ctx, 0);
  const withDead = await runOnce(ctx, settings.overloadBacklog);
  const firstMinute = withDead.attemptsPerSecond.slice(0, Math.max(1, Math.round(60 / WINDOW_S)));
  const firstMean = firstMinute.reduce((a, b) => a + b, 0) / firstMinute.length;
  const worstWindowRatio = firstMean > 0 ? Math.min(...withDead.attemptsPerSecond) / firstMean : 0;
  const healthyRateRatio = alone.healthyPerSecondUnderLoad > 0 ? withDead.healthyPerSecondUnderLoad / alone.healthyPerSecondUnderLoad : 0;
  const allDelivered = withDead.healthyDelivered === withDead.healthySent && alone.healthyDelivered === alone.healthySent;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  note(`overload target: no ${WINDOW_S} s window below 80% of the first minute: worst ${(worstWindowRatio * 100).toFixed(0)}% — ${verdict(worstWindowRatio >= 0.8)}`);
  note(`overload target: every event delivered: ${withDead.healthyDelivered}/${withDead.healthySent} — ${verdict(allDelivered)}`);
  note(`overload target: healthy rate ≥ 80% of the load alone: ${(healthyRateRatio * 100).toFixed(0)}% — ${verdict(healthyRateRatio >= 0.8)}`);
  return { withDead, alone, worstWindowRatio, healthyRateRatio, allDelivered };
}
