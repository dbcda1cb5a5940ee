import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { connectRedis, createDeliveryQueues, enqueueToPartitions, type DeliveryQueues, type RedisMode } from '@hooklane/queue';

// Prefixes handed out and not yet deleted, so an interrupted run can still clean up Redis.
const activePrefixes = new Set<string>();

export function randomQueuePrefix(): string {
  const prefix = `hooklane_bench_${randomBytes(4).toString('hex')}`;
  activePrefixes.add(prefix);
  return prefix;
}

export async function deleteActivePrefixes(redisUrl: string): Promise<void> {
  for (const prefix of [...activePrefixes]) await deletePrefix(redisUrl, prefix);
}

export interface BenchQueue {
  prefix: string;
  queues: DeliveryQueues;
  enqueueFirstAttempts(deliveries: Array<{ deliveryId: string; webhookId: string }>): Promise<void>;
  close(): Promise<void>;
}

/** REDIS_MODE and QUEUE_PARTITIONS of a scenario that does not use the run's one Redis (a cluster). */
export interface BenchRedisLayout {
  redisMode: RedisMode;
  queuePartitions: number;
}

/** The producer side, as the API uses it (each delivery to its webhook's partition), on a prefix of this run's own. */
export function openBenchQueue(redisUrl: string, prefix: string, layout?: BenchRedisLayout): BenchQueue {
  const { redisMode, queuePartitions } = layout ?? { redisMode: 'standalone', queuePartitions: 1 };
  const connection = connectRedis({ redisMode, redisUrl }, 'worker');
  const queues = createDeliveryQueues({ redisMode, queuePartitions, queuePrefix: prefix }, connection);
  return {
    prefix,
    queues,
    async enqueueFirstAttempts(deliveries) {
      const CHUNK = 1000;
      for (let i = 0; i < deliveries.length; i += CHUNK) {
        await enqueueToPartitions(
          queues,
          deliveries.slice(i, i + CHUNK).map(({ deliveryId, webhookId }) => ({ deliveryId, attempt: 1, webhookId })),
        );
      }
    },
    async close() {
      await queues.close();
      connection.disconnect();
    },
  };
}

/** Removes every key under a prefix. */
export async function deletePrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    activePrefixes.delete(prefix);
  } finally {
    redis.disconnect();
  }
}
