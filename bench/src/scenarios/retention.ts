import { loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { runRetentionOn, type RetentionOptions, type RetentionRun } from '@hooklane/db';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startRetentionTask, type RetentionTask } from '../../../apps/worker/src/retention.js';
import { adminPost } from '../api-client.js';
import type { BenchContext } from '../context.js';
import { paddedData } from '../context.js';
import { runAutocannon } from '../load/autocannon-load.js';
import { heading, note, progressLine, sleep } from '../progress.js';
import { startApi, startWorker } from '../stack.js';
import { arrivalRate, watchDeliveries } from './deliveries-watch.js';
import { BENCH_EVENT, prepareDeliveries } from './delivery-setup.js';
import { startBackendCpuSampler, type BackendCpuSampler } from './retention-cpu.js';
import { oldRowsLeft, seedOldRows, type OldRows } from './retention-seed.js';

/**
 * Retention's cost to the hot path: ingest requests/s and drain rate measured twice in the
 * same run, first on a database with no old rows and no retention work, then with a few
 * million old rows and the retention task running through both measurements. The task is
 * the worker's own (startRetentionTask, apps/worker/src/retention.ts, every second, first
 * run at once), run in the bench process so its first run starts with the measured window;
 * its work is done by PostgreSQL, which the measured processes share.
 */

const INGEST_TEAM = 7;

export interface RetentionPhase {
  ingestRequestsPerSecond: number;
  ingestNon2xx: number;
  ingestErrors: number;
  drainDeliveriesPerSecond: number;
  drainComplete: boolean;
  drainLost: number;
  /** One-minute load average when the measurement started (the machine is shared). */
  loadAverage: number;
}

export interface RetentionRunTiming {
  /** ms since the phase's ingest window started. */
  startMs: number;
  durationMs: number;
  ran: boolean;
  partitionsDropped: number;
  rowsDropped: number;
  defaultRowsDeleted: number;
  /** From the run's start to its last day dropped or kept (counting, drops); the rest is the default-partition sweep. */
  daysMs: number;
  /** DROP TABLE statement time of each day dropped (lock wait included), and days that failed (lock timeout). */
  dropMs: number[];
  failedDays: number;
}

export interface RetentionResult {
  oldRows: OldRows;
  /** Measured before and after the half with retention; the baseline is their mean (load drifts on a shared machine). */
  withoutBefore: RetentionPhase;
  withoutAfter: RetentionPhase;
  without: RetentionPhase;
  with: RetentionPhase;
  runs: RetentionRunTiming[];
  /** Windows (ms since the ingest window started) of the two measurements, for the overlap with the runs. */
  windows: { ingest: [number, number]; drain: [number, number] };
  oldRowsLeftAfter: number;
  longestDropMs: number;
  /** CPU ms of the PostgreSQL backend running retention within each window (2 cores = 2,000 ms a second). */
  backendCpuMs: { ingest: number; drain: number };
}

interface Recorder {
  runs: RetentionRunTiming[];
  longestDropMs: number;
  origin: number;
}

/** The worker's retention task, on a clock-free schedule of one run a second, every run timed. */
function startRetention(databaseUrl: string, rec: Recorder): RetentionTask {
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const run = async (url: string, options: RetentionOptions): Promise<RetentionRun> => {
    const started = Date.now();
    let lastDayAt = started;
    const result = await runRetentionOn(url, { ...options, onDay: (day) => ((lastDayAt = Date.now()), options.onDay?.(day)) });
    const dropped = result.days.filter((d) => d.outcome === 'dropped');
    for (const d of dropped) rec.longestDropMs = Math.max(rec.longestDropMs, d.dropMs);
    rec.runs.push({
      startMs: started - rec.origin,
      durationMs: Date.now() - started,
      ran: result.ran,
      partitionsDropped: dropped.length * 3,
      rowsDropped: dropped.reduce((n, d) => n + d.rows.events + d.rows.deliveries + d.rows.attempts, 0),
      defaultRowsDeleted: result.defaultRows.events + result.defaultRows.deliveries + result.defaultRows.attempts,
      daysMs: lastDayAt - started,
      dropMs: dropped.map((d) => Math.round(d.dropMs * 10) / 10),
      failedDays: result.days.filter((d) => d.outcome === 'failed').length,
    });
    return result;
  };
  return startRetentionTask({
    databaseUrl,
    retentionDays: 30,
    intervalMs: 1_000,
    firstRunInMs: 0,
    logger: pino({ level: 'info' }, sink),
    registry: new Registry(),
    run,
  });
}

async function measureIngest(ctx: BenchContext, prefix: string, label: string, onWindow: () => void) {
  const { settings, db } = ctx;
  const api = await startApi(settings, db.url, prefix, { name: `api-retention-${label}` });
  try {
    const key = await adminPost<{ key: string }>(api.baseUrl, '/v1/api-keys', { team_id: INGEST_TEAM }, 201);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key.key}` };
    // A team with no webhook: ingest writes events only, so it adds nothing to the drain measured next.
    const body = Buffer.from(JSON.stringify({ event: BENCH_EVENT, team_id: INGEST_TEAM, data: paddedData(settings.payloadBytes) }));
    const url = `${api.baseUrl}/v1/events`;
    const connections = settings.ingestConnections;
    await runAutocannon({ url, headers, body, connections, durationMs: settings.warmupMs });
    onWindow();
    return await runAutocannon({
      url,
      headers,
      body,
      connections,
      durationMs: settings.retentionIngestMs,
      onTick: (n, ms) => progressLine(`${label}: POST /v1/events`, n, null, ms),
    });
  } finally {
    await api.stop();
  }
}

async function measureDrain(ctx: BenchContext, prefix: string, label: string, expected: Set<string>) {
  await ctx.receiver.reset();
  const worker = startWorker(ctx.settings, ctx.db.url, prefix, { name: `worker-retention-${label}` });
  try {
    const watched = await watchDeliveries(ctx.receiver, `${label}: drain`, expected.size, {
      stallMs: ctx.settings.stallMs,
      maxMs: 3 * 60_000,
      processes: [worker.child],
    });
    await sleep(500);
    const stats = await ctx.receiver.stats();
    const found = (await ctx.receiver.deliveryIds()).filter((id) => expected.has(id)).length;
    return { rate: arrivalRate(stats, found), complete: watched.complete, lost: expected.size - found };
  } finally {
    await worker.stop();
  }
}

/** One measurement: a fresh backlog, old rows and the retention task when `withRetention`, then ingest, then drain. */
async function phase(ctx: BenchContext, label: string, result: Partial<RetentionResult>, rec: Recorder): Promise<RetentionPhase> {
  const withRetention = label === 'with retention';
  const loadAverage = loadavg()[0] ?? 0;
  heading(`retention: ${label}${withRetention ? `, ${ctx.settings.retentionOldRows.toLocaleString('en-US')} old rows` : ''}`);
  const setup = await prepareDeliveries(ctx, { events: ctx.settings.retentionDrainEvents, webhooks: ctx.settings.webhooks });
  let task: RetentionTask | undefined;
  let sampler: BackendCpuSampler | undefined;
  try {
    if (withRetention) {
      result.oldRows = await seedOldRows(ctx.db.pool, ctx.settings.retentionOldRows);
      note(`old rows: ${JSON.stringify(result.oldRows)}`);
    }
    // Every half starts from flushed buffers, so none pays for the writes of its setup.
    await ctx.db.pool.query('CHECKPOINT');
    const ingest = await measureIngest(ctx, setup.prefix, label, () => {
      rec.origin = Date.now();
      // BENCH_RETENTION_CONTROL=1: the old rows without the task, to tell their presence from retention's work.
      if (!withRetention || ctx.settings.retentionControl) return;
      task = startRetention(ctx.db.url, rec);
      sampler = startBackendCpuSampler(ctx.db.pool, () => rec.origin);
    });
    const ingestEnd = Date.now() - rec.origin;
    const drainStart = Date.now() - rec.origin;
    const drain = await measureDrain(ctx, setup.prefix, label, new Set(setup.deliveries.map((d) => d.deliveryId)));
    const out: RetentionPhase = {
      ingestRequestsPerSecond: ingest.requestsPerSecond,
      ingestNon2xx: ingest.non2xx,
      ingestErrors: ingest.errors,
      drainDeliveriesPerSecond: drain.rate,
      drainComplete: drain.complete,
      drainLost: drain.lost,
      loadAverage,
    };
    note(`${label}: ingest ${Math.round(out.ingestRequestsPerSecond)} req/s (non-2xx ${out.ingestNon2xx}), drain ${Math.round(out.drainDeliveriesPerSecond)} deliveries/s (lost ${out.drainLost}), load average ${loadAverage.toFixed(1)}`);
    if (withRetention) result.windows = { ingest: [0, ingestEnd], drain: [drainStart, Date.now() - rec.origin] };
    await sampler?.stop();
    if (sampler && result.windows) result.backendCpuMs = { ingest: sampler.cpuMsIn(...result.windows.ingest), drain: sampler.cpuMsIn(...result.windows.drain) };
    return out;
  } finally {
    await sampler?.stop();
    await task?.close();
    await setup.cleanup();
  }
}

function meanPhase(a: RetentionPhase, b: RetentionPhase): RetentionPhase {
  return {
    ingestRequestsPerSecond: (a.ingestRequestsPerSecond + b.ingestRequestsPerSecond) / 2,
    ingestNon2xx: a.ingestNon2xx + b.ingestNon2xx,
    ingestErrors: a.ingestErrors + b.ingestErrors,
    drainDeliveriesPerSecond: (a.drainDeliveriesPerSecond + b.drainDeliveriesPerSecond) / 2,
    drainComplete: a.drainComplete && b.drainComplete,
    drainLost: a.drainLost + b.drainLost,
    loadAverage: (a.loadAverage + b.loadAverage) / 2,
  };
}

export async function runRetentionBench(ctx: BenchContext): Promise<RetentionResult> {
  const result: Partial<RetentionResult> = {};
  // Without, with, without again: a trend in the machine's load falls on both sides of the baseline.
  const rec: Recorder = { runs: [], longestDropMs: 0, origin: 0 };
  result.withoutBefore = await phase(ctx, 'without (before)', result, rec);
  result.with = await phase(ctx, 'with retention', result, rec);
  // Read once the task has closed (its last run finished).
  result.runs = rec.runs;
  result.backendCpuMs ??= { ingest: 0, drain: 0 };
  result.longestDropMs = rec.longestDropMs;
  result.oldRowsLeftAfter = await oldRowsLeft(ctx.db.pool);
  result.withoutAfter = await phase(ctx, 'without (after)', result, rec);
  result.without = meanPhase(result.withoutBefore, result.withoutAfter);
  const r = result as RetentionResult;
  const busy = (from: number, to: number) =>
    r.runs.reduce((ms, run) => ms + Math.max(0, Math.min(to, run.startMs + run.durationMs) - Math.max(from, run.startMs)), 0);
  note(
    `retention runs: ${r.runs.length}, busy ${busy(...r.windows.ingest)} of ${r.windows.ingest[1] - r.windows.ingest[0]} ms of the ingest window, ` +
      `${busy(...r.windows.drain)} of ${r.windows.drain[1] - r.windows.drain[0]} ms of the drain window; ` +
      `dropped ${r.runs.reduce((n, x) => n + x.partitionsDropped, 0)} partitions (${r.runs.reduce((n, x) => n + x.rowsDropped, 0)} rows), ` +
      `deleted ${r.runs.reduce((n, x) => n + x.defaultRowsDeleted, 0)} default-partition rows; old rows left ${r.oldRowsLeftAfter}`,
  );
  for (const run of r.runs.filter((x) => x.partitionsDropped > 0 || x.failedDays > 0)) {
    note(`retention run at ${run.startMs} ms: days ${run.daysMs} ms (DROP ms ${run.dropMs.join(', ')}; ${run.failedDays} failed), whole run ${run.durationMs} ms`);
  }
  const share = (cpu: number, [from, to]: [number, number]) => `${Math.round(cpu)} ms = ${((cpu / (to - from)) * 100).toFixed(1)}% of one core`;
  note(`retention backend CPU: ${share(r.backendCpuMs.ingest, r.windows.ingest)} over the ingest window, ${share(r.backendCpuMs.drain, r.windows.drain)} over the drain window`);
  note(`ratios with/without: ingest ${(r.with.ingestRequestsPerSecond / r.without.ingestRequestsPerSecond * 100).toFixed(1)}%, drain ${(r.with.drainDeliveriesPerSecond / r.without.drainDeliveriesPerSecond * 100).toFixed(1)}%`);
  return r;
}
