import type { LogSummary } from '../children/registry.js';
import { scrapeMemory, type MemoryBreakdown } from '../children/worker-metrics.js';
import type { BenchContext } from '../context.js';
import { startCostMeter, type DeliveryCosts } from '../costs.js';
import type { BenchRedisLayout } from '../queue.js';
import { startShardCostMeter, type ShardCost } from '../shard-costs.js';
import { activityPer, attemptOutcomes, countRows, databaseActivity, type DatabaseActivity } from '../database.js';
import { heading, note, sleep } from '../progress.js';
import { readCpuMs, startWorker, type Worker } from '../stack.js';
import { arrivalRate, cpuPerDeliveryMeter, watchDeliveries } from './deliveries-watch.js';
import { prepareDeliveries } from './delivery-setup.js';

export interface DrainResult {
  workers: number;
  events: number;
  webhooks: number;
  /** The webhooks' `ordering` and the ordering keys the events were spread over (fifo scenario). */
  ordering: 'none' | 'fifo';
  keys: number | null;
  complete: boolean;
  stopReason: string | null;
  deliveriesPerSecond: number;
  /** Wall time from spawning the workers to the last arrival (includes process start-up). */
  wallSeconds: number;
  received: number;
  lost: number;
  duplicates: number;
  unexpected: number;
  /** Deliveries the database shows as succeeded a few seconds after the last arrival. */
  succeededInDb: number;
  peakRssBytes: number[];
  /** Each worker's heap and external memory, scraped from its /metrics halfway through. */
  memoryHalfway: (MemoryBreakdown | null)[];
  /** Worker CPU (all workers, user + system) per delivery once deliveries flow; null if too few polls. */
  workerCpuMsPerDelivery: number | null;
  /** PostgreSQL work per delivery (pg_stat_database), the harness's few queries included. */
  databasePerDelivery: DatabaseActivity;
  /** Attempts recorded in the database, by outcome. */
  attemptOutcomes: Record<string, number>;
  /** A few duplicated deliveries with the X-Webhook-Attempt of each arrival. */
  duplicateSamples: Record<string, string[]>;
  /** What the workers logged at warn level and above (they run with LOG_LEVEL=warn). */
  workerLogs: LogSummary[];
  workerExitCodes: (number | null)[];
  /** Redis and PostgreSQL work per delivery (own Redis server; the run's database backends). */
  costs: DeliveryCosts | null;
  /** With `redis` (a cluster): Redis CPU and commands per delivery on each master. */
  shardCosts?: ShardCost[] | null;
}

export interface DrainOptions {
  /** Webhooks the backlog goes to (default the settings'; 1 = the hot scenario). */
  webhooks?: number;
  label?: string;
  /** Events in the backlog (default the settings' drainEvents). */
  events?: number;
  /** The webhooks' `ordering` (default "none"). */
  ordering?: 'none' | 'fifo';
  /** Spread the events over this many ordering keys, round-robin (default none given). */
  keys?: number;
  /** A Redis of the scenario's own instead of the run's: its URL, layout and each master's URL. */
  redis?: { url: string; layout: BenchRedisLayout; nodeUrls: string[] };
}

/** Waits (bounded) for the database to catch up with what the receiver already saw. */
async function settledSucceeded(ctx: BenchContext, expected: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < 20; i++) {
    n = await countRows(ctx.db.pool, `SELECT count(*) AS n FROM deliveries WHERE status = 'succeeded'`);
    if (n >= expected) return n;
    await sleep(500);
  }
  return n;
}

/** Scenario 2 (and 6): a backlog of deliveries drained by N fresh workers; peak RSS sampled from /proc. */
export async function runDrain(ctx: BenchContext, workerCount: number, options: DrainOptions = {}): Promise<DrainResult> {
  const { settings, receiver } = ctx;
  const events = options.events ?? settings.drainEvents;
  const webhooks = options.webhooks ?? settings.webhooks;
  const label = options.label ?? 'drain';
  const ordering = options.ordering ?? 'none';
  const keys = options.keys ?? null;
  const lines = keys === null ? '' : `, ordering ${ordering}, ${keys} ordering key(s)`;
  heading(`${label}: ${events} queued deliveries to ${webhooks} webhook(s)${lines}, ${workerCount} worker(s) at concurrency ${settings.concurrency}`);
  const setup = await prepareDeliveries(ctx, { events, webhooks, ordering, keys: keys ?? undefined, ...(options.redis ? { redis: options.redis } : {}) });
  const redisEnv = options.redis
    ? { REDIS_URL: options.redis.url, REDIS_MODE: options.redis.layout.redisMode, QUEUE_PARTITIONS: String(options.redis.layout.queuePartitions) }
    : undefined;
  await receiver.reset();
  await sleep(700); // let the seeding's statistics reach pg_stat_database
  const activityBefore = await databaseActivity(ctx.db.pool, ctx.db.name);
  const meter = await startCostMeter(settings.redisUrl, ctx.db.pool, ctx.db.name);
  const shardMeter = options.redis ? await startShardCostMeter(options.redis.nodeUrls) : null;
  let polls = 0;
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < workerCount; i++) {
      workers.push(
        startWorker(settings, ctx.db.url, setup.prefix, { name: `worker-${options.redis ? label : 'drain'}${workerCount}-${i + 1}`, profileRunId: ctx.runId, ...(redisEnv ? { env: redisEnv } : {}) }),
      );
    }
    const peaks = workers.map(() => 0);
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const values = await Promise.all(workers.map((w) => w.peakRssBytes()));
        values.forEach((v, i) => {
          if (v !== null) peaks[i] = Math.max(peaks[i] ?? 0, v);
        });
        await sleep(250);
      }
    })();
    const cpu = cpuPerDeliveryMeter(() => workers.map((w) => w.child.pid), readCpuMs);
    let memoryHalfway: (MemoryBreakdown | null)[] = [];
    const watched = await watchDeliveries(receiver, `${label} ${workerCount}w`, events, {
      onPoll: async (stats) => {
        await cpu.onPoll(stats);
        if (++polls % 5 === 0) await meter.sample();
        if (memoryHalfway.length === 0 && stats.unique >= events / 2) {
          memoryHalfway = await Promise.all(workers.map((w) => scrapeMemory(w.child.pid)));
        }
      },
      stallMs: settings.stallMs,
      maxMs: 4 * 60_000,
      processes: workers.map((w) => w.child),
    });
    // Late duplicates (a stalled job taken over) would arrive after the last original.
    await sleep(1000);
    const stats = await receiver.stats();
    const succeededInDb = await settledSucceeded(ctx, events);
    sampling = false;
    await sampler;

    const expected = new Set(setup.deliveries.map((d) => d.deliveryId));
    const seen = await receiver.deliveryIds();
    let unexpected = 0;
    let found = 0;
    for (const id of seen) {
      if (expected.has(id)) found++;
      else unexpected++;
    }
    const costs = await meter.finish(found).catch(() => null);
    const shardCosts = shardMeter ? await shardMeter.finish(found).catch(() => null) : undefined;
    const exitCodes: (number | null)[] = [];
    for (const w of workers) exitCodes.push(await w.stop());
    await sleep(700);
    const databasePerDelivery = activityPer(activityBefore, await databaseActivity(ctx.db.pool, ctx.db.name), found);
    const result: DrainResult = {
      workers: workerCount,
      events,
      webhooks,
      ordering,
      keys,
      complete: watched.complete,
      stopReason: watched.stopReason,
      deliveriesPerSecond: arrivalRate(stats, found),
      wallSeconds: watched.wallMs / 1000,
      received: stats.total,
      lost: events - found,
      duplicates: stats.duplicates,
      unexpected,
      succeededInDb,
      peakRssBytes: peaks,
      memoryHalfway,
      workerCpuMsPerDelivery: cpu.msPerDelivery(),
      databasePerDelivery,
      attemptOutcomes: await attemptOutcomes(ctx.db.pool),
      duplicateSamples: await receiver.duplicateSamples(),
      workerLogs: workers.map((w) => w.child.logSummary()),
      workerExitCodes: exitCodes,
      costs,
      ...(shardCosts !== undefined ? { shardCosts } : {}),
    };
    note(
      `${label} ${workerCount}w: ${Math.round(result.deliveriesPerSecond)} deliveries/s, lost ${result.lost}, ` +
        `duplicates ${result.duplicates}, succeeded in db ${succeededInDb}, peak RSS ${peaks.map((p) => `${(p / 2 ** 20).toFixed(0)} MB`).join(', ')}`,
    );
    const mbOf = (n: number | null | undefined) => (n == null ? '?' : `${Math.round(n / 2 ** 20)} MB`);
    for (const m of memoryHalfway) {
      if (m) note(`worker memory halfway: RSS ${mbOf(m.residentBytes)}, heap ${mbOf(m.heapUsedBytes)} used of ${mbOf(m.heapTotalBytes)}, external ${mbOf(m.externalBytes)}`);
    }
    note(`worker CPU per delivery: ${result.workerCpuMsPerDelivery?.toFixed(2) ?? '?'} ms`);
    if (costs) note(`per delivery: ${JSON.stringify(costs)}`);
    if (shardCosts) note(`Redis per delivery and shard: ${JSON.stringify(shardCosts)}`);
    note(`attempts recorded: ${JSON.stringify(result.attemptOutcomes)}`);
    note(`PostgreSQL per delivery: ${JSON.stringify(databasePerDelivery)}`);
    if (result.duplicates > 0) note(`duplicated deliveries (X-Webhook-Attempt of each arrival): ${JSON.stringify(result.duplicateSamples)}`);
    for (const [i, logs] of result.workerLogs.entries()) {
      if (Object.keys(logs.counts).length > 0) note(`worker ${i + 1} logged ${JSON.stringify(logs.counts)}: ${logs.samples.join(' | ')}`);
    }
    if (watched.stopReason) note(`stopped early: ${watched.stopReason}`);
    return result;
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await setup.cleanup();
  }
}
