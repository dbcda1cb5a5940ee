import { newId } from '@hooklane/core';
import { enqueueCreated, findWebhookProject, insertEventsWithFanOut, type Db, type DeliveryForAttempt, type OutboxQueue } from '@hooklane/db';
import { enqueueToPartitions, type DeliveryQueues } from '@hooklane/queue';
import type { Logger } from 'pino';
import type { DisabledReason } from './attempt-policies.js';

export const WEBHOOK_DISABLED_EVENT = 'webhook.disabled';

export interface WebhookDisabledAnnouncerDeps {
  db: Db;
  /** Every partition's queue: each delivery goes to its webhook's. */
  queues: DeliveryQueues;
  logger: Logger;
}

/**
 * Emits `webhook.disabled` ({webhook_id, reason}) when the service turns a webhook off,
 * through the ingest statement like any event: the event and its fan-out in one statement,
 * then queued by the outbox. The event carries the disabled webhook's project, so it reaches
 * the team-wide webhooks and those of that project. The disabled webhook itself is inactive
 * by now and does not get it. If queueing fails, the sweeper queues the stored deliveries.
 */
export function createWebhookDisabledAnnouncer(deps: WebhookDisabledAnnouncerDeps) {
  const outbox: OutboxQueue = {
    enqueueFirstAttempts: (deliveries) =>
      enqueueToPartitions(deps.queues, deliveries.map((d) => ({ deliveryId: d.id, webhookId: d.webhookId, attempt: 1 }))),
  };
  return async function announceWebhookDisabled(
    webhook: DeliveryForAttempt['webhook'],
    reason: DisabledReason,
  ): Promise<void> {
    const { db } = deps;
    const now = new Date();
    const event = {
      id: newId('evt'),
      teamId: webhook.teamId,
      projectId: await findWebhookProject(db, webhook.id),
      type: WEBHOOK_DISABLED_EVENT,
      timestamp: now,
      data: { webhook_id: webhook.id, reason },
      sender: null,
      idempotencyKey: null,
    };
    const [stored] = await insertEventsWithFanOut(db, { now, idempotencyTtlMs: 0, events: [event] });
    const deliveries = stored?.deliveries ?? [];
    deps.logger.info(
      { event_id: event.id, webhook_id: webhook.id, reason, deliveries: deliveries.length },
      'webhook.disabled emitted',
    );
    await enqueueCreated(outbox, deps.logger, deliveries);
  };
}
