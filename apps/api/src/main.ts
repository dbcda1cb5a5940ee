import { once } from 'node:events';
import { parseConfig } from '@hooklane/core';
import { createDb } from '@hooklane/db';
import { connectRedis, createDeliveryQueues } from '@hooklane/queue';
import { createApp } from './app.js';
import { buildAppDeps } from './deps.js';
import { createApiServer } from './http/server.js';
import { createMetricsApp } from './metrics-app.js';
import { createLogger } from './logger.js';
import { createApiMetrics } from './metrics.js';

const config = parseConfig(process.env);
const logger = createLogger(config.logLevel);
const db = createDb(config.databaseUrl, { connectionTimeoutMs: config.dbTimeoutMs, poolSize: config.dbPoolSize });
const redis = connectRedis(config, 'producer');
redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis error'));
// One queue per partition (QUEUE_PARTITIONS); with one standalone partition, `deliveries` as ever.
const queues = createDeliveryQueues(config, redis);

// Waits for Redis forever and resubscribes after a reconnect; until then keys are read from PostgreSQL.
const subscriber = connectRedis(config, 'worker');
subscriber.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis subscriber error'));

const metrics = createApiMetrics(queues.all);
const deps = buildAppDeps({ config, db, redis, subscriber, queues, logger, metrics });
// Not awaited: the API serves without Redis (keys then come from PostgreSQL on every request).
void deps.apiKeys.start().catch((err: unknown) => logger.warn({ err: { message: (err as Error).message } }, 'key revocation channel not started'));
const app = createApp(deps);
const server = createApiServer(app);
server.listen(config.port, config.host);
await once(server, 'listening');
logger.info({ port: config.port }, 'api listening');
// METRICS_HOST: /metrics only on a private address (see metrics-app.ts).
const metricsServer = config.metricsHost ? createMetricsApp(deps).listen(config.metricsPort, config.metricsHost) : undefined;
if (metricsServer) {
  await once(metricsServer, 'listening');
  logger.info({ host: config.metricsHost, port: config.metricsPort }, 'api metrics listening');
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'api stopping: finishing requests in flight');
  // Stop accepting, let in-flight requests finish, then release the pools.
  server.close();
  server.closeIdleConnections();
  metricsServer?.close();
  metricsServer?.closeAllConnections();
  const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
  grace.unref();
  await once(server, 'close').catch(() => undefined);
  deps.apiKeys.close();
  await Promise.allSettled([queues.close(), db.$disconnect()]);
  redis.disconnect();
  subscriber.disconnect();
  logger.info('api stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
