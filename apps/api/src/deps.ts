import type { Config } from '@hooklane/core';
import type { Db } from '@hooklane/db';
import type { DeliveryQueue, RedisClient } from '@hooklane/queue';
import type { Logger } from 'pino';
import type { ApiMetrics } from './metrics.js';

/** Everything the API needs from outside; tests build it from real services, main.ts from config. */
export interface AppDeps {
  config: Config;
  db: Db;
  /** A producer connection in any REDIS_MODE (a Redis, or a Cluster). */
  redis: RedisClient;
  queue: DeliveryQueue;
  logger: Logger;
  metrics: ApiMetrics;
}
