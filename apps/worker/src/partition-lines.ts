import type { DeliveryQueues, RedisClient } from '@hooklane/queue';
import { createWebhookLine, type WebhookLine } from './webhook-line.js';

/**
 * The webhook lines of every partition (QUEUE_PARTITIONS): partition p's line works in its
 * queue's key space, so its keys share that queue's hash tag (one cluster slot per script).
 * `routed` is one WebhookLine over all of them, each webhook's calls going to its partition's
 * line, for code that meets deliveries of any webhook (the sweeper).
 */
export interface PartitionLines {
  /** Partition p's line at index p. */
  all: readonly WebhookLine[];
  routed: WebhookLine;
}

export function createPartitionLines(options: { redis: RedisClient; queues: DeliveryQueues; cap: number }): PartitionLines {
  const { queues } = options;
  const all = queues.all.map((queue) => createWebhookLine({ redis: options.redis, queue, cap: options.cap }));
  const of = (webhookId: string) => all[queues.all.indexOf(queues.forWebhook(webhookId))]!;
  const routed: WebhookLine = {
    start: (webhookId, entry, leased) => of(webhookId).start(webhookId, entry, leased),
    release: (webhookId, entry, then) => of(webhookId).release(webhookId, entry, then),
    settle: (webhookId, entry) => of(webhookId).settle(webhookId, entry),
    putBack: (webhookId, entry, backoffMs) => of(webhookId).putBack(webhookId, entry, backoffMs),
    renew: (webhookId, entry) => of(webhookId).renew(webhookId, entry),
    reserveStart: (webhookId, entry, rateLimit, confirm) => of(webhookId).reserveStart(webhookId, entry, rateLimit, confirm),
    queueGranted: (webhookId, entries) => of(webhookId).queueGranted(webhookId, entries),
    async dueWebhooks(limit) {
      return (await Promise.all(all.map((line) => line.dueWebhooks(limit)))).flat();
    },
    pump: (webhookId) => of(webhookId).pump(webhookId),
    async publishCap() {
      await Promise.all(all.map((line) => line.publishCap()));
    },
    holds: (webhookId, entries) => of(webhookId).holds(webhookId, entries),
  };
  return { all, routed };
}
