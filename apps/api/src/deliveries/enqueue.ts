import type { OutboxQueue } from '@hooklane/db';
import { enqueueDeliveries, type DeliveryQueue } from '@hooklane/queue';

/** The outbox's queue side on BullMQ: first attempts, one round trip per chunk. */
export function createOutboxQueue(queue: DeliveryQueue): OutboxQueue {
  return {
    enqueueFirstAttempts: (deliveries) =>
      enqueueDeliveries(
        queue,
        deliveries.map((d) => ({ deliveryId: d.id, webhookId: d.webhookId, attempt: 1, ...(d.isTest ? { test: true } : {}) })),
      ),
  };
}
