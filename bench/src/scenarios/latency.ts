import type { Pool } from 'pg';
import type { Child } from '../children/registry.js';
import type { BenchContext } from '../context.js';
import { paddedData } from '../context.js';
import { truncateAll } from '../database.js';
import { adminPost } from '../api-client.js';
import { runOpenLoop } from '../load/open-loop.js';
import { percentiles, type Percentiles } from '../load/percentiles.js';
import { heading, note, progressLine, sleep } from '../progress.js';
import { deletePrefix, randomQueuePrefix } from '../queue.js';
import { startApi, startWorker } from '../stack.js';
import { BENCH_EVENT, BENCH_TEAM } from './delivery-setup.js';
import { watchDeliveries } from './deliveries-watch.js';

export interface LatencyRun {
  ratePerSecond: number;
  durationSeconds: number;
  sent: number;
  accepted: number;
  delivered: number;
  missing: number;
  /** Emit (just before the POST leaves) to the receiver having read the delivery's body. */
  endToEndMs: Percentiles;
  /** The API's own answer time for the same requests. */
  ingestAnswerMs: Percentiles;
  maxScheduleLagMs: number;
}

export interface LatencyResult extends LatencyRun {
  workers: number;
  /** The same measurement at a lower rate, for comparison (informational). */
  lowRate: LatencyRun;
}

interface Target {
  url: string;
  headers: Record<string, string>;
  body: (i: number) => Buffer;
  processes: Child[];
}

/** One open-loop run at `rate`, then a bounded wait for every accepted event to arrive. */
async function measureAt(ctx: BenchContext, target: Target, rate: number, durationMs: number): Promise<LatencyRun> {
  const { receiver } = ctx;
  const label = `latency ${rate}/s`;
  await receiver.reset({ recordArrivals: true });
  const run = await runOpenLoop({
    url: target.url,
    headers: target.headers,
    body: target.body,
    ratePerSecond: rate,
    durationMs,
    onTick: (sent, answered, ms) => progressLine(label, sent, null, ms, `answered ${answered}`),
  });
  const sentAtByEvent = new Map<string, number>();
  const answerMs: number[] = [];
  for (const s of run.sends) {
    const eventId = (s.json as { event_id?: unknown } | null)?.event_id;
    if (s.status === 202 && typeof eventId === 'string') sentAtByEvent.set(eventId, s.sentAt);
    if (s.answeredAt !== null) answerMs.push(s.answeredAt - s.sentAt);
  }
  await watchDeliveries(receiver, `${label} tail`, sentAtByEvent.size, { stallMs: 20_000, maxMs: 90_000, processes: target.processes });
  const arrivals = await receiver.arrivals();
  const endToEnd: number[] = [];
  for (const [eventId, at] of arrivals) {
    const sentAt = sentAtByEvent.get(eventId);
    if (sentAt !== undefined) endToEnd.push(at - sentAt);
  }
  const result: LatencyRun = {
    ratePerSecond: rate,
    durationSeconds: durationMs / 1000,
    sent: run.sends.length,
    accepted: sentAtByEvent.size,
    delivered: endToEnd.length,
    missing: sentAtByEvent.size - endToEnd.length,
    endToEndMs: percentiles(endToEnd),
    ingestAnswerMs: percentiles(answerMs),
    maxScheduleLagMs: run.maxScheduleLagMs,
  };
  note(
    `${label}: emit→receiver p50 ${result.endToEndMs.p50.toFixed(1)} ms, p95 ${result.endToEndMs.p95.toFixed(1)} ms, ` +
      `p99 ${result.endToEndMs.p99.toFixed(1)} ms; API answer p50 ${result.ingestAnswerMs.p50.toFixed(1)} ms ` +
      `(accepted ${result.accepted}, missing ${result.missing})`,
  );
  return result;
}

/** Scenario 4: an open-loop 200 events/s through the API and `workers` workers; emit-to-arrival percentiles. */
export async function runLatency(ctx: BenchContext, workers = 1): Promise<LatencyResult> {
  const { settings, db, receiver } = ctx;
  const rate = settings.latencyRate;
  heading(
    `latency: open loop ${settings.latencyLowRate} then ${rate} events/s for ${settings.latencyLowDurationMs / 1000} and ${settings.latencyDurationMs / 1000} s, API + ${workers} worker(s)`,
  );
  await truncateAll(db.pool);
  const prefix = randomQueuePrefix();
  const api = await startApi(settings, db.url, prefix, { name: 'api-latency', profileRunId: ctx.runId });
  const started = Array.from({ length: workers }, (_, i) => startWorker(settings, db.url, prefix, { name: `worker-latency-${i + 1}`, profileRunId: ctx.runId }));
  const processes = [...started.map((w) => w.child), api.child];
  try {
    const key = await adminPost<{ key: string }>(api.baseUrl, '/v1/api-keys', { team_id: BENCH_TEAM }, 201);
    for (let p = 1; p <= settings.webhooks; p++) {
      await adminPost(api.baseUrl, '/v1/webhooks', { team_id: BENCH_TEAM, project_id: p, url: receiver.fastUrl, events: [BENCH_EVENT] }, 201);
    }
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key.key}` };
    const url = `${api.baseUrl}/v1/events`;
    const bodies = Array.from({ length: settings.webhooks }, (_, p) =>
      Buffer.from(JSON.stringify({ event: BENCH_EVENT, team_id: BENCH_TEAM, project_id: p + 1, data: paddedData(1024) })),
    );
    const body = (i: number) => bodies[i % bodies.length] ?? Buffer.alloc(0);

    // Warm-up until the worker is up and delivering, then measure from a clean slate.
    await receiver.reset();
    const warm = await runOpenLoop({ url, headers, body, ratePerSecond: settings.latencyLowRate, durationMs: settings.warmupMs });
    const warmAccepted = warm.sends.filter((s) => s.status === 202).length;
    await watchDeliveries(receiver, 'latency warm-up', warmAccepted, { stallMs: 30_000, maxMs: 90_000, processes });
    await sleep(500);

    // A rate the system sustains first, so the report can tell path latency from queueing.
    const lowRate = await measureAt(ctx, { url, headers, body, processes }, settings.latencyLowRate, settings.latencyLowDurationMs);
    const mainFrom = new Date();
    const main = await measureAt(ctx, { url, headers, body, processes }, rate, settings.latencyDurationMs);
    await noteQueueWait(db.pool, mainFrom, `latency ${rate}/s, ${workers} worker(s)`);
    const result: LatencyResult = { ...main, workers, lowRate };
    return result;
  } finally {
    await Promise.allSettled([...started.map((w) => w.stop()), api.stop()]);
    await deletePrefix(settings.redisUrl, prefix);
  }
}

/**
 * Where the end-to-end time goes: from the event's created_at (the API's clock as it takes the
 * request, before its insert) to the first attempt's start is the API's insert and queueing plus
 * the worker's pickup; the rest is the request's trip to the API and the attempt itself.
 * Printed only.
 */
async function noteQueueWait(pool: Pool, from: Date, label: string): Promise<void> {
  const { rows } = await pool.query<{ p50: number | null; p99: number | null }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
       FROM (SELECT extract(epoch FROM a.started_at - e.created_at) * 1000 AS ms
               FROM attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN events e ON e.id = d.event_id
              WHERE a.attempt = 1 AND e.created_at >= $1) w`,
    [from],
  );
  const row = rows[0];
  if (row?.p50 != null && row.p99 != null) note(`${label}: event created_at → attempt start p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms`);
}
