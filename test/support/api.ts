import { parseConfig, type Config } from '@hooklane/core';
import { createDb } from '@hooklane/db';
import { connectRedis, createDeliveryQueues } from '@hooklane/queue';
import { pino } from 'pino';
import { createApp } from '../../apps/api/src/app.js';
import { buildAppDeps, type AppDeps } from '../../apps/api/src/deps.js';
import { createApiMetrics } from '../../apps/api/src/metrics.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from './redis.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestApi {
  app: ReturnType<typeof createApp>;
  deps: AppDeps;
  database: TestDatabase;
  prefix: string;
  admin: { Authorization: string };
  close(): Promise<void>;
}

/**
 * A real API on its own database and queue prefix: each test file calls it once in
 * beforeAll, so files run in parallel without seeing each other's rows or jobs.
 */
export async function startTestApi(label: string, env: Record<string, string> = {}): Promise<TestApi> {
  const database = await createTestDatabase(label);
  const prefix = randomQueuePrefix(label);
  const config: Config = parseConfig({
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    ADMIN_TOKEN,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    ALLOW_PRIVATE_TARGETS: 'true',
    ...env,
  });
  const db = createDb(config.databaseUrl, { connectionTimeoutMs: config.dbTimeoutMs });
  const redis = connectRedis(config, 'producer');
  const queues = createDeliveryQueues(config, redis);
  const logger = pino({ level: config.logLevel });
  const subscriber = connectRedis(config, 'worker');
  const deps = buildAppDeps({ config, db, redis, subscriber, queues, logger, metrics: createApiMetrics(queues.all) });
  await deps.apiKeys.start();
  return {
    app: createApp(deps),
    deps,
    database,
    prefix,
    admin: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    async close() {
      deps.apiKeys.close();
      await queues.close();
      await db.$disconnect();
      redis.disconnect();
      subscriber.disconnect();
      if (config.redisMode === 'standalone') await deletePrefix(prefix, config.redisUrl);
      await database.drop();
    },
  };
}
