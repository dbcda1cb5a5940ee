import type { LookupFunction } from 'node:net';
import { Worker, type ConnectionOptions } from 'bullmq';
import type { Config } from '@hooklane/core';
import { createAttemptRecorder, createDeliveryLoader, type AttemptRecorder, type Db, type DeliveryLoader } from '@hooklane/db';
import { isRedisClient, probePartitions, type DeliverJobData, type DeliveryQueue } from '@hooklane/queue';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { createDefaultPolicies, type DeliveryPolicies } from './attempt-policies.js';
import { watchDatabaseOutage } from './database-outage.js';
import { createHttpClient } from './deliver.js';
import type { WorkerMetrics } from './metrics.js';
import { createDeliveryProcessor } from './process-delivery.js';
import { startSweeper, type Sweeper } from './sweeper.js';
import { createTargetGuard, type AddressPolicy } from './target-guard.js';
import { startLineReaper } from './line-reaper.js';
import { createWebhookDisabledAnnouncer } from './webhook-disabled.js';
import { createWebhookLine } from './webhook-line.js';

export interface WorkerDeps {
  config: Config;
  db: Db;
  /** Coalesced delivery loads and attempt writes; built per process (main.ts), made here when absent. */
  loader?: DeliveryLoader;
  recorder?: AttemptRecorder;
  /** An ioredis connection made with role 'worker' (maxRetriesPerRequest: null), or options for one. */
  connection: ConnectionOptions;
  queue: DeliveryQueue;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Name resolution for receivers (Node's dns.lookup signature); tests map names to loopback. */
  lookup?: LookupFunction;
  /** Which resolved addresses the private-address guard refuses; defaults to core's isPrivateAddress. */
  isRefusedAddress?: AddressPolicy;
  /** Reactions to outcomes (auto-disable); defaults to 410 Gone and 24 h-failing handling. */
  policies?: DeliveryPolicies;
  /** Overrides for the outbox sweeper; false runs none. */
  sweeper?: { graceMs?: number; batchSize?: number; pagesPerSweep?: number } | false;
}

export interface RunningWorker {
  /** Stops taking jobs, waits up to config.shutdownGraceMs for those in flight, stops the sweeper. */
  close(): Promise<void>;
  /** True while the worker holds a working Redis connection. */
  isHealthy(): Promise<boolean>;
  worker: Worker<DeliverJobData>;
  sweeper: Sweeper | null;
}

// A killed worker's job is taken over by another once its lock lapses: lockDuration plus
// at most one stalledInterval, under a minute. Stalls are counted generously because a
// crash is not the delivery's fault.
export const LOCK_DURATION_MS = 30_000;
export const STALLED_INTERVAL_MS = 15_000;
export const MAX_STALLED_COUNT = 5;
const HEALTH_TIMEOUT_MS = 1_000;

export async function startDeliveryWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const { config, db, queue, logger, metrics } = deps;
  const guard = createTargetGuard({
    allowPrivateTargets: config.allowPrivateTargets,
    lookup: deps.lookup,
    isRefused: deps.isRefusedAddress,
  });
  const http = createHttpClient(guard);
  const redis = isRedisClient(deps.connection) ? deps.connection : undefined;
  // Given connection options instead of a connection, the lines get one of their own.
  const ownRedis = redis ? undefined : new Redis({ ...(deps.connection as RedisOptions), maxRetriesPerRequest: null });
  const lineRedis = (redis ?? ownRedis)!;
  const policies =
    deps.policies ??
    createDefaultPolicies({
      db,
      logger,
      autoDisableAfterMs: config.autoDisableAfterMs,
      onWebhookDisabled: createWebhookDisabledAnnouncer({ db, queue, logger }),
    });
  const line = createWebhookLine({ redis: lineRedis, queue, cap: config.maxInFlightPerWebhook });
  await line.publishCap();
  let stopping = false;

  const outage = watchDatabaseOutage({
    db,
    logger,
    // Pausing without waiting: the jobs in flight are the ones handing themselves back.
    pause: () => worker.pause(true),
    resume: () => worker.resume(),
  });
  const processor = createDeliveryProcessor({
    db,
    loader: deps.loader ?? createDeliveryLoader(db),
    recorder: deps.recorder ?? createAttemptRecorder(db),
    queue,
    logger,
    metrics,
    http,
    policies,
    outage,
    line,
    stopping: () => stopping,
  });

  // The queue's own name: partitioned and cluster layouts carry a hash tag in it.
  const worker = new Worker<DeliverJobData>(queue.name, processor, {
    connection: deps.connection,
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    lockDuration: LOCK_DURATION_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: MAX_STALLED_COUNT,
    autorun: false,
  });
  // An 'error' event without a listener would crash the process on a Redis blip.
  worker.on('error', (err) => logger.warn({ err: { message: err.message } }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (!job) return;
    logger.error(
      { delivery_id: job.data.deliveryId, attempt: job.data.attempt, err: { message: err.message } },
      'delivery job failed; the sweeper will queue it again',
    );
  });
  worker.on('stalled', (jobId) => logger.warn({ job_id: jobId }, 'stalled job taken over'));
  void worker.run().catch((err: unknown) => logger.error({ err: { message: (err as Error).message } }, 'worker stopped'));
  await worker.waitUntilReady();

  const sweeper =
    deps.sweeper === false
      ? null
      : startSweeper({ db, queue, logger, line, redis: lineRedis, intervalMs: config.sweeperIntervalMs, ...deps.sweeper });
  const reaper = startLineReaper({ line, logger });

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing ??= (async () => {
      stopping = true;
      reaper.stop();
      outage.stop();
      await sweeper?.stop();
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.shutdownGraceMs);
      });
      const drained = worker.close().then(() => 'drained' as const);
      const outcome = await Promise.race([drained, graceOver]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        // Jobs still in flight keep their Redis lock until it lapses; another worker then takes
        // them over. No forced close: BullMQ hands back the first close()'s promise, which waits
        // for those very jobs, and closing the agents would record their attempts as failures.
        logger.warn('shutdown grace over: leaving jobs in flight to be taken over');
        return;
      }
      http.close();
      ownRedis?.disconnect();
    })();
    return closing;
  }

  // Worker connections queue commands forever while Redis is away, so the probe needs its own deadline.
  async function isHealthy(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
    });
    const probe = (async () => {
      // Every partition's master (a keyed read routed to its slot), not just any cluster node.
      if (redis) return redis.status === 'ready' && (await probePartitions(redis, config).then(() => true));
      return (await worker.getBackend().client).status === 'ready';
    })().catch(() => false);
    try {
      return await Promise.race([probe, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  return { close, isHealthy, worker, sweeper };
}
