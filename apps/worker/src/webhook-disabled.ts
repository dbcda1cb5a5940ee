import { newId } from '@hooklane/core';
import { findSubscribedWebhookIds, insertEventsWithDeliveries, type Db, type DeliveryForAttempt } from '@hooklane/db';
import { enqueueDeliveries, type DeliveryQueue } from '@hooklane/queue';
import type { Logger } from 'pino';
import type { DisabledReason } from './attempt-policies.js';

export const WEBHOOK_DISABLED_EVENT = 'webhook.disabled';

export interface WebhookDisabledAnnouncerDeps {
  db: Db;
  queue: DeliveryQueue;
  logger: Logger;
}

/**
 * Emits `webhook.disabled` ({webhook_id, reason}) when the service turns a webhook off, as
 * ingest would: the event and one delivery per subscribed webhook of the team, stored in
 * one statement, then queued. The event carries the disabled webhook's project, so it
 * reaches the team-wide webhooks and those of that project. The disabled webhook itself is
 * inactive by now and does not get it. If queueing fails, the sweeper queues the stored
 * deliveries later.
 */
export function createWebhookDisabledAnnouncer(deps: WebhookDisabledAnnouncerDeps) {
  return async function announceWebhookDisabled(
    webhook: DeliveryForAttempt['webhook'],
    reason: DisabledReason,
  ): Promise<void> {
    const { db } = deps;
    const row = await db.webhook.findUnique({ where: { id: webhook.id }, select: { projectId: true } });
    const projectId = row?.projectId ?? null;
    const [subscribers = []] = await findSubscribedWebhookIds(db, [
      { teamId: webhook.teamId, projectId, type: WEBHOOK_DISABLED_EVENT },
    ]);
    const targets = subscribers.filter((id) => id !== webhook.id);

    const now = new Date();
    const eventId = newId('evt');
    const deliveries = targets.map((webhookId) => ({
      id: newId('dlv'),
      teamId: webhook.teamId,
      webhookId,
      eventId,
      eventType: WEBHOOK_DISABLED_EVENT,
    }));
    await insertEventsWithDeliveries(db, {
      now,
      idempotencyTtlMs: 0,
      events: [
        {
          id: eventId,
          teamId: webhook.teamId,
          projectId,
          type: WEBHOOK_DISABLED_EVENT,
          timestamp: now,
          data: { webhook_id: webhook.id, reason },
          sender: null,
          idempotencyKey: null,
        },
      ],
      deliveries,
    });
    deps.logger.info(
      { event_id: eventId, webhook_id: webhook.id, reason, deliveries: deliveries.length },
      'webhook.disabled emitted',
    );
    try {
      await enqueueDeliveries(
        deps.queue,
        deliveries.map((d) => ({ deliveryId: d.id, attempt: 1, webhookId: d.webhookId })),
      );
    } catch (err) {
      deps.logger.warn({ event_id: eventId, err: { message: (err as Error).message } }, 'webhook.disabled stored, queueing left to the sweeper');
    }
  };
}
