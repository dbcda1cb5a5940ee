import type { OutboxQueue } from '@hooklane/db';
import { enqueueToPartitions, type DeliveryQueues } from '@hooklane/queue';

/** The outbox's queue side on BullMQ: first attempts, one round trip per chunk and partition (the webhook's). */
export function createOutboxQueue(queues: DeliveryQueues): OutboxQueue {
  return {
    enqueueFirstAttempts: (deliveries) =>
      enqueueToPartitions(
        queues,
        deliveries.map((d) => ({ deliveryId: d.id, webhookId: d.webhookId, attempt: 1, ...(d.isTest ? { test: true } : {}) })),
      ),
  };
}
