import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { keySlot, partitionHashTag, partitionSlotRange } from '@hooklane/core';
import { Registry } from 'prom-client';
import { deletePrefix, randomQueuePrefix, TEST_REDIS_URL } from '../../../test/support/redis.js';
import {
  connectRedis,
  createDeliveryQueues,
  deliverJobId,
  deliveryQueueName,
  enqueueToPartitions,
  webhookKeySpace,
  webhookLineKeys,
  spaceKeys,
  lineSpace,
  partitionOfWebhook,
  probePartitions,
  registerQueueGauge,
  type DeliveryQueues,
  type QueueLayout,
  type RedisClient,
} from '../src/index.js';

const prefix = randomQueuePrefix('parts');
const layout: QueueLayout = { redisMode: 'standalone', queuePartitions: 3, queuePrefix: prefix };
let redis: RedisClient;
let queues: DeliveryQueues;

beforeAll(async () => {
  redis = connectRedis({ redisMode: 'standalone', redisUrl: TEST_REDIS_URL }, 'producer');
  queues = createDeliveryQueues(layout, redis);
  // A producer connection queues nothing while connecting, and the line scripts go straight to it.
  await queues.all[0]!.waitUntilReady();
});

afterAll(async () => {
  await queues.close();
  redis.disconnect();
  await deletePrefix(prefix);
});

describe('queue layout', () => {
  it("keeps today's names for one standalone partition and tags every other layout", () => {
    const one = { redisMode: 'standalone', queuePartitions: 1, queuePrefix: 'hooklane' } as const;
    expect(deliveryQueueName(one, 0)).toBe('deliveries');
    // The line keys of main's layout, unchanged: `<prefix>:deliveries:wh:<id>:...`.
    expect(webhookKeySpace(one, 'wh_1')).toBe('hooklane:deliveries');
    const cluster = { redisMode: 'cluster', queuePartitions: 1, queuePrefix: 'hooklane' } as const;
    expect(deliveryQueueName(cluster, 0)).toBe(`deliveries-{${partitionHashTag(0, 1)}}`);
    for (let p = 0; p < 3; p++) {
      const { start, end } = partitionSlotRange(p, 3);
      const slot = keySlot(`${prefix}:${deliveryQueueName(layout, p)}:wait`);
      expect(slot >= start && slot < end).toBe(true);
    }
  });

  it("puts a webhook's line keys in the slot of the queue its deliveries go to", () => {
    for (const webhookId of ['wh_a', 'wh_b', 'wh_c', 'wh_d', 'wh_e']) {
      const queue = queues.forWebhook(webhookId);
      const queueSlot = keySlot(`${prefix}:${queue.name}:wait`);
      const space = webhookKeySpace(layout, webhookId);
      expect(space).toBe(lineSpace(queue));
      const keys = [...Object.values(webhookLineKeys(space, webhookId)), ...Object.values(spaceKeys(space))];
      for (const key of keys) expect(keySlot(key)).toBe(queueSlot);
    }
  });
});

describe('partitioned queues on a real Redis', () => {
  it("queues each delivery in its webhook's partition, and the gauge counts every partition", async () => {
    const items = Array.from({ length: 30 }, (_, i) => ({ deliveryId: `dlv_${i}`, attempt: 1, webhookId: `wh_${i % 10}` }));
    await enqueueToPartitions(queues, items);
    for (const item of items) {
      const home = partitionOfWebhook(layout, item.webhookId);
      const jobId = deliverJobId(item.deliveryId, 1);
      const found = await Promise.all(queues.all.map((q) => q.getJob(jobId)));
      expect(found.map((job, p) => (job ? p : -1)).filter((p) => p >= 0)).toEqual([home]);
    }
    // The ten webhooks do not all hash to one partition.
    expect(new Set(items.map((i) => partitionOfWebhook(layout, i.webhookId))).size).toBeGreaterThan(1);

    const registry = new Registry();
    registerQueueGauge(registry, queues.all);
    const text = await registry.metrics();
    expect(text).toMatch(/webhook_queue_jobs\{state="waiting"\} 30\b/);
  });

  it('probes every partition, and fails when Redis is unreachable', async () => {
    await expect(probePartitions(redis, layout)).resolves.toBeUndefined();
    const dead = connectRedis({ redisMode: 'standalone', redisUrl: 'redis://127.0.0.1:1' }, 'producer');
    dead.on('error', () => undefined);
    try {
      await expect(probePartitions(dead, layout)).rejects.toThrow();
    } finally {
      dead.disconnect();
    }
  });
});
