import { once } from 'node:events';
import { parseConfig } from '@hooklane/core';
import { createDb } from '@hooklane/db';
import { connectRedis, createSingleDeliveryQueue } from '@hooklane/queue';
import { createApp } from './app.js';
import { createLogger } from './logger.js';
import { createApiMetrics } from './metrics.js';

const config = parseConfig(process.env);
const logger = createLogger(config.logLevel);
const db = createDb(config.databaseUrl, { connectionTimeoutMs: config.dbTimeoutMs, poolSize: config.dbPoolSize });
const redis = connectRedis(config, 'producer');
redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis error'));
const queue = createSingleDeliveryQueue(config, redis);

const metrics = createApiMetrics(queue);
const app = createApp({ config, db, redis, queue, logger, metrics });
const server = app.listen(config.port, config.host);
await once(server, 'listening');
logger.info({ port: config.port }, 'api listening');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'api stopping: finishing requests in flight');
  // Stop accepting, let in-flight requests finish, then release the pools.
  server.close();
  server.closeIdleConnections();
  const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
  grace.unref();
  await once(server, 'close').catch(() => undefined);
  await Promise.allSettled([queue.close(), db.$disconnect()]);
  redis.disconnect();
  logger.info('api stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
