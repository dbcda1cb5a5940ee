import type { LookupFunction } from 'node:net';
import { parseConfig } from '@hooklane/core';
import { createDb } from '@hooklane/db';
import { connectRedis, createDeliveryQueues } from '@hooklane/queue';
import { pino } from 'pino';
import { createWorkerMetrics, type WorkerMetrics } from '../../apps/worker/src/metrics.js';
import type { DeliveryPolicies } from '../../apps/worker/src/attempt-policies.js';
import type { FailingThrottle } from '../../apps/worker/src/failing-throttle.js';
import type { AddressPolicy } from '../../apps/worker/src/target-guard.js';
import { startDeliveryWorker, type RunningWorker } from '../../apps/worker/src/worker.js';
import { TEST_REDIS_URL } from './redis.js';

export interface TestWorkerOptions {
  databaseUrl: string;
  prefix: string;
  /** Extra environment for parseConfig, e.g. { ALLOW_PRIVATE_TARGETS: 'false', WORKER_CONCURRENCY: '5' }. */
  env?: Record<string, string>;
  /** Name resolution for receivers, so tests can point names like `hooks.example.test` at loopback. */
  lookup?: LookupFunction;
  /** Which resolved addresses the private-address guard refuses (only with ALLOW_PRIVATE_TARGETS=false). */
  isRefusedAddress?: AddressPolicy;
  /** Outbox sweeper overrides; false runs none. */
  sweeper?: { graceMs?: number; batchSize?: number } | false;
  /** Replaces the default per-webhook policies (admission before an attempt, reaction after one). */
  policies?: DeliveryPolicies;
  /** How a webhook that keeps failing is slowed down; false never slows one. */
  failingThrottle?: FailingThrottle | false;
}

export interface TestWorker {
  metrics: WorkerMetrics;
  running: RunningWorker;
  close(): Promise<void>;
}

/**
 * A real in-process delivery worker on a test file's database and queue prefix, so
 * end-to-end tests see events actually delivered. Private targets are allowed by default
 * (receivers live on 127.0.0.1). The caller still owns (and deletes) the prefix.
 */
export async function startTestWorker(options: TestWorkerOptions): Promise<TestWorker> {
  const config = parseConfig({
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: options.prefix,
    LOG_LEVEL: 'silent',
    ALLOW_PRIVATE_TARGETS: 'true',
    METRICS_PORT: '0',
    WORKER_CONCURRENCY: '20',
    SWEEPER_INTERVAL_MS: '1000',
    SHUTDOWN_GRACE_MS: '5000',
    ...options.env,
  });
  const db = createDb(config.databaseUrl, { connectionTimeoutMs: config.dbTimeoutMs });
  const redis = connectRedis(config, 'worker');
  redis.on('error', () => undefined);
  const queues = createDeliveryQueues(config, redis);
  const metrics = createWorkerMetrics(queues.all);
  const running = await startDeliveryWorker({
    config,
    db,
    connection: redis,
    queues,
    logger: pino({ level: config.logLevel }),
    metrics,
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.isRefusedAddress ? { isRefusedAddress: options.isRefusedAddress } : {}),
    ...(options.sweeper !== undefined ? { sweeper: options.sweeper } : {}),
    ...(options.policies ? { policies: options.policies } : {}),
    ...(options.failingThrottle !== undefined ? { failingThrottle: options.failingThrottle } : {}),
  });
  return {
    metrics,
    running,
    async close() {
      await running.close();
      await queues.close();
      await db.$disconnect();
      redis.disconnect();
    },
  };
}
