import type { ConnectionOptions } from 'bullmq';
import { partitionHashTag, webhookPartition } from '@hooklane/core';
import type { RedisClient, RedisMode } from './connection.js';
import { QUEUE_NAMES } from './names.js';
import { createDeliveryQueue, enqueueDeliveries, type DeliveryQueue, type DeliveryToEnqueue } from './producer.js';

/**
 * Delivery queues per partition (QUEUE_PARTITIONS). Each partition is a BullMQ queue whose
 * name carries the partition's hash tag, `deliveries-{p1-4}`, so all of its keys
 * (`<prefix>:deliveries-{p1-4}:wait`, `...:<jobId>`) share one cluster slot and its Lua
 * scripts run; different partitions land on different masters. A webhook always maps to
 * one partition, and its line keys (line-keys.ts) live in that queue's key space
 * (`<prefix>:deliveries-{p1-4}:wh:<id>:line`), so every line script touches one slot.
 *
 * One standalone partition keeps today's names exactly (`deliveries`, `<prefix>:deliveries:wh:<id>:line`),
 * so an existing install upgrades without moving a key.
 */

/** REDIS_MODE, QUEUE_PARTITIONS and QUEUE_PREFIX as core's parseConfig returns them (a Config fits). */
export interface QueueLayout {
  redisMode: RedisMode;
  queuePartitions: number;
  queuePrefix: string;
}

function untagged(layout: QueueLayout): boolean {
  return layout.redisMode === 'standalone' && layout.queuePartitions === 1;
}

export function deliveryQueueName(layout: QueueLayout, partition: number): string {
  if (untagged(layout)) return QUEUE_NAMES.deliveries;
  return `${QUEUE_NAMES.deliveries}-{${partitionHashTag(partition, layout.queuePartitions)}}`;
}

/** The partition a webhook's deliveries and line keys live in. */
export function partitionOfWebhook(layout: QueueLayout, webhookId: string): number {
  return webhookPartition(webhookId, layout.queuePartitions);
}

/**
 * The key space of a webhook's line keys (webhookLineKeys): its partition queue's own base,
 * the same string lineSpace() gives for that queue, so the keys share its hash tag and slot.
 */
export function webhookKeySpace(layout: QueueLayout, webhookId: string): string {
  return `${layout.queuePrefix}:${deliveryQueueName(layout, partitionOfWebhook(layout, webhookId))}`;
}

export interface DeliveryQueues {
  readonly layout: QueueLayout;
  /** Every partition's queue, partition p at index p. */
  readonly all: readonly DeliveryQueue[];
  forWebhook(webhookId: string): DeliveryQueue;
  close(): Promise<void>;
}

export function createDeliveryQueues(layout: QueueLayout, connection: ConnectionOptions): DeliveryQueues {
  // Only the three fields: a whole Config handed in must not be kept alive (or logged) through the queues.
  layout = { redisMode: layout.redisMode, queuePartitions: layout.queuePartitions, queuePrefix: layout.queuePrefix };
  const all: DeliveryQueue[] = Array.from(
    { length: layout.queuePartitions },
    (_, p) => createDeliveryQueue({ connection, prefix: layout.queuePrefix, name: deliveryQueueName(layout, p) }),
  );
  return {
    layout,
    all,
    forWebhook: (webhookId) => all[partitionOfWebhook(layout, webhookId)]!,
    async close() {
      await Promise.allSettled(all.map((q) => q.close()));
    },
  };
}

export type PartitionedDelivery = DeliveryToEnqueue & { webhookId: string };

/** Items grouped by their webhook's partition, in the order given within each group. */
export function groupByPartition<T>(layout: QueueLayout, items: readonly T[], webhookIdOf: (item: T) => string): Map<number, T[]> {
  const byPartition = new Map<number, T[]>();
  for (const item of items) {
    const p = partitionOfWebhook(layout, webhookIdOf(item));
    const group = byPartition.get(p);
    if (group) group.push(item);
    else byPartition.set(p, [item]);
  }
  return byPartition;
}

/** Adds jobs to their webhooks' partitions: one round trip per partition touched, in parallel. */
export async function enqueueToPartitions(queues: DeliveryQueues, items: readonly PartitionedDelivery[]): Promise<void> {
  const byPartition = groupByPartition(queues.layout, items, (item) => item.webhookId);
  await Promise.all([...byPartition].map(([p, group]) => enqueueDeliveries(queues.all[p]!, group)));
}

/**
 * Resolves when every partition's master answers: one keyed read per partition, which a
 * cluster client routes to the master holding that partition's slot (a PING would reach
 * any one node and miss a dead shard). Rejects when any of them fails.
 */
export async function probePartitions(client: RedisClient, layout: QueueLayout): Promise<void> {
  await Promise.all(
    Array.from({ length: layout.queuePartitions }, (_, p) => client.exists(`${layout.queuePrefix}:${deliveryQueueName(layout, p)}:meta`)),
  );
}
