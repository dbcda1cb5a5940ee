import { parseConfig } from '@hooklane/core';
import { createAttemptRecorder, createDb, createDeliveryLoader } from '@hooklane/db';
import { connectRedis, createDeliveryQueues } from '@hooklane/queue';
import { createLogger } from './logger.js';
import { createWorkerMetrics } from './metrics.js';
import { startMetricsServer } from './metrics-server.js';
import { startRetentionTask } from './retention.js';
import { startDeliveryWorker } from './worker.js';

const config = parseConfig(process.env);
const logger = createLogger(config.logLevel);
// Deliveries of one worker share a small pool: their loads and attempt writes are coalesced
// into few statements, and a pool sized by concurrency let two workers exhaust PostgreSQL's
// max_connections (`too many clients`, a stalled worker, duplicate deliveries).
const db = createDb(config.databaseUrl, {
  connectionTimeoutMs: config.dbTimeoutMs,
  poolSize: config.dbPoolSize,
});
const redis = connectRedis(config, 'worker');
redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis error'));
// One queue per partition (QUEUE_PARTITIONS), all consumed here; one standalone partition is `deliveries` as ever.
const queues = createDeliveryQueues(config, redis);
for (const queue of queues.all) queue.on('error', (err) => logger.warn({ err: { message: err.message }, queue: queue.name }, 'queue error'));
const metrics = createWorkerMetrics(queues.all);

// One loader and one recorder per process: concurrent attempts share their statements.
const loader = createDeliveryLoader(db);
const recorder = createAttemptRecorder(db);
const running = await startDeliveryWorker({ config, db, loader, recorder, connection: redis, queues, logger, metrics });
const retention = startRetentionTask({ databaseUrl: config.databaseUrl, retentionDays: config.retentionDays, intervalMs: config.retentionIntervalMs, logger, registry: metrics.registry });
const metricsServer = await startMetricsServer({
  port: config.metricsPort,
  host: config.metricsHost ?? config.host,
  token: config.metricsToken,
  registry: metrics.registry,
  isHealthy: running.isHealthy,
  logger,
});
logger.info({ concurrency: config.workerConcurrency, partitions: queues.all.length, metrics_port: metricsServer.port }, 'worker started');

const FORCED_EXIT_EXTRA_MS = 10_000;
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'worker stopping: no new jobs, finishing those in flight');
  // Closing connections to an unreachable Redis can wait forever; jobs not finished by
  // then are handed over through their lapsing locks either way.
  setTimeout(() => {
    logger.warn('shutdown took too long: exiting');
    process.exit(0);
  }, config.shutdownGraceMs + FORCED_EXIT_EXTRA_MS).unref();
  // A close that fails (Redis gone mid-drain) leaves its jobs to their lapsing locks, as a timeout does.
  await running.close().catch((err: unknown) => logger.error({ err: { message: (err as Error).message } }, 'worker close failed: jobs left to be taken over'));
  await Promise.allSettled([retention.close(), metricsServer.close(), queues.close(), db.$disconnect()]);
  redis.disconnect();
  logger.info('worker stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
