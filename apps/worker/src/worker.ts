import type { LookupFunction } from 'node:net';
import type { Worker, ConnectionOptions } from 'bullmq';
import type { Config } from '@hooklane/core';
import { createAttemptRecorder, createDeliveryLoader, type AttemptRecorder, type Db, type DeliveryLoader } from '@hooklane/db';
import { isRedisClient, probePartitions, type DeliverJobData, type DeliveryQueues, type RedisClient } from '@hooklane/queue';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { createDefaultPolicies, type DeliveryPolicies } from './attempt-policies.js';
import { watchDatabaseOutage } from './database-outage.js';
import { createHttpClient } from './deliver.js';
import { DEFAULT_FAILING_THROTTLE, type FailingThrottle } from './failing-throttle.js';
import type { WorkerMetrics } from './metrics.js';
import { startPartitionConsumers } from './partition-consumer.js';
import { createPartitionLines } from './partition-lines.js';
import { startSweeper, type Sweeper } from './sweeper.js';
import { createTargetGuard, type AddressPolicy } from './target-guard.js';
import { createWebhookDisabledAnnouncer } from './webhook-disabled.js';

export interface WorkerDeps {
  config: Config;
  db: Db;
  /** Coalesced delivery loads and attempt writes; built per process (main.ts), made here when absent. */
  loader?: DeliveryLoader;
  recorder?: AttemptRecorder;
  /** An ioredis connection made with role 'worker' (maxRetriesPerRequest: null), or options for one. */
  connection: ConnectionOptions;
  /** Every partition's queue (QUEUE_PARTITIONS): this worker consumes all of them. */
  queues: DeliveryQueues;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Name resolution for receivers (Node's dns.lookup signature); tests map names to loopback. */
  lookup?: LookupFunction;
  /** Which resolved addresses the private-address guard refuses; defaults to core's isPrivateAddress. */
  isRefusedAddress?: AddressPolicy;
  /** Reactions to outcomes (auto-disable); defaults to 410 Gone and 24 h-failing handling. */
  policies?: DeliveryPolicies;
  /** A webhook failing for a while is attempted at a trickle (failing-throttle.ts); false never slows one. */
  failingThrottle?: FailingThrottle | false;
  /** Overrides for the outbox sweeper; false runs none. */
  sweeper?: { graceMs?: number; batchSize?: number; pagesPerSweep?: number } | false;
}

export interface RunningWorker {
  /** Stops taking jobs, waits up to config.shutdownGraceMs for those in flight, stops the sweeper. */
  close(): Promise<void>;
  /** True while the worker holds a working Redis connection. */
  isHealthy(): Promise<boolean>;
  /** One BullMQ Worker per partition, partition p at index p. */
  workers: Array<Worker<DeliverJobData>>;
  sweeper: Sweeper | null;
}

export { LOCK_DURATION_MS, STALLED_INTERVAL_MS, MAX_STALLED_COUNT } from './partition-consumer.js';
const HEALTH_TIMEOUT_MS = 1_000;

export async function startDeliveryWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const { config, db, queues, logger, metrics } = deps;
  const http = createHttpClient(createTargetGuard({ allowPrivateTargets: config.allowPrivateTargets, lookup: deps.lookup, isRefused: deps.isRefusedAddress }));
  const redis = isRedisClient(deps.connection) ? deps.connection : undefined;
  // Given connection options instead of a connection, the lines get one of their own.
  const ownRedis = redis ? undefined : new Redis({ ...(deps.connection as RedisOptions), maxRetriesPerRequest: null });
  const lineRedis = (redis ?? ownRedis)!;
  const policies = deps.policies ?? defaultPolicies(deps);
  // Each partition's line in its queue's key space; the cap is published in every partition.
  const lines = createPartitionLines({ redis: lineRedis, queues, cap: config.maxInFlightPerWebhook });
  await lines.routed.publishCap();
  let stopping = false;
  const workers: Array<Worker<DeliverJobData>> = [];

  const outage = watchDatabaseOutage({
    db,
    logger,
    // Pausing without waiting: the jobs in flight are the ones handing themselves back.
    pause: async () => void (await Promise.all(workers.map((w) => w.pause(true)))),
    resume: async () => void (await Promise.all(workers.map((w) => w.resume()))),
  });
  const loader = deps.loader ?? createDeliveryLoader(db);
  const recorder = deps.recorder ?? createAttemptRecorder(db);
  const failingThrottle = deps.failingThrottle ?? DEFAULT_FAILING_THROTTLE;
  const context = { db, loader, recorder, logger, metrics, http, policies, outage, failingThrottle, stopping: () => stopping };
  // A BullMQ Worker, processor and line reaper per partition: every process serves every partition.
  const consumers = await startPartitionConsumers({
    context,
    queues: queues.all,
    lines: lines.all,
    connection: deps.connection,
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    logger,
  });
  workers.push(...consumers.map((c) => c.worker));

  const sweeper =
    deps.sweeper === false
      ? null
      : startSweeper({ db, queues, logger, line: lines.routed, redis: lineRedis, intervalMs: config.sweeperIntervalMs, ...deps.sweeper });

  const close = closer({
    config,
    logger,
    workers,
    sweeper,
    onStop: () => {
      stopping = true;
      for (const c of consumers) c.reaper.stop();
      outage.stop();
    },
    release: () => {
      http.close();
      ownRedis?.disconnect();
    },
  });
  return { close, isHealthy: () => healthy(redis, config, workers[0]!), workers, sweeper };
}

function defaultPolicies({ config, db, queues, logger }: WorkerDeps): DeliveryPolicies {
  return createDefaultPolicies({
    db,
    logger,
    autoDisableAfterMs: config.autoDisableAfterMs,
    onWebhookDisabled: createWebhookDisabledAnnouncer({ db, queues, logger }),
  });
}

interface CloserDeps {
  config: Config;
  logger: Logger;
  workers: Array<Worker<DeliverJobData>>;
  sweeper: Sweeper | null;
  /** Stops taking more work (reapers, outage watch); called first. */
  onStop(): void;
  /** Releases the HTTP agents and connections once every job has finished. */
  release(): void;
}

function closer(deps: CloserDeps): () => Promise<void> {
  const { config, logger, workers, sweeper } = deps;
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= (async () => {
      deps.onStop();
      await sweeper?.stop();
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.shutdownGraceMs);
      });
      // Every partition's worker stops taking jobs at once and drains within the same grace.
      const drained = Promise.all(workers.map((w) => w.close())).then(() => 'drained' as const);
      const outcome = await Promise.race([drained, graceOver]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        // Jobs still in flight keep their Redis lock until it lapses; another worker then takes
        // them over. No forced close: BullMQ hands back the first close()'s promise, which waits
        // for those very jobs, and closing the agents would record their attempts as failures.
        logger.warn('shutdown grace over: leaving jobs in flight to be taken over');
        return;
      }
      deps.release();
    })();
    return closing;
  };
}

// Worker connections queue commands forever while Redis is away, so the probe needs its own deadline.
async function healthy(redis: RedisClient | undefined, config: Config, worker: Worker<DeliverJobData>): Promise<boolean> {
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
