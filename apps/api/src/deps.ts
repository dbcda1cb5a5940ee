import type { Config } from '@hooklane/core';
import type { Db, OutboxQueue } from '@hooklane/db';
import type { DeliveryQueues, RedisClient } from '@hooklane/queue';
import type { Logger } from 'pino';
import { createOutboxQueue } from './deliveries/enqueue.js';
import { ApiKeyCache } from './http/api-key-cache.js';
import { createEventIngest, type EventIngest } from './ingest/ingest-events.js';
import type { ApiMetrics } from './metrics.js';

/** The services the API talks to, made by main.ts from config and by tests from real services. */
export interface ServiceDeps {
  config: Config;
  db: Db;
  /** A producer connection in any REDIS_MODE (a Redis, or a Cluster). */
  redis: RedisClient;
  /** A second connection for pub/sub (a subscribed connection takes no other commands). */
  subscriber: RedisClient;
  /** Every partition's delivery queue (QUEUE_PARTITIONS); each enqueue goes to its webhook's. */
  queues: DeliveryQueues;
  logger: Logger;
  metrics: ApiMetrics;
}

/** Everything the API needs from outside, including the stateful parts built once per process. */
export interface AppDeps extends ServiceDeps {
  outbox: OutboxQueue;
  ingest: EventIngest;
  apiKeys: ApiKeyCache;
}

/**
 * Builds the per-process state (ingest coalescer, key cache) on top of the services, so
 * nothing is kept in module-level maps: two apps in one process (tests) never share state.
 * Call `apiKeys.start()` before serving and `apiKeys.close()` when stopping.
 */
export function buildAppDeps(services: ServiceDeps): AppDeps {
  const outbox = createOutboxQueue(services.queues);
  const apiKeys = new ApiKeyCache({
    db: services.db,
    redis: services.redis,
    subscriber: services.subscriber,
    prefix: services.config.queuePrefix,
    logger: services.logger,
  });
  const ingest = createEventIngest({ db: services.db, outbox, logger: services.logger, metrics: services.metrics });
  return { ...services, outbox, ingest, apiKeys };
}
