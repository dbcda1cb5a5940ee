import { isId } from '@hooklane/core';
import { createDeliveries, recoverFailedDeliveries, type Attempt, type Db, type Delivery, type Webhook } from '@hooklane/db';
import type { Auth } from '../http/auth.js';
import { conflict, notFound } from '../http/errors.js';
import { encodeCursor } from '../webhooks/cursor.js';
import type { ListDeliveriesQuery } from './delivery-schemas.js';

type DeliveryWithWebhook = Delivery & { webhook: Pick<Webhook, 'isActive' | 'deletedAt'> };

/**
 * The delivery as this caller may see it; 404 for a missing, malformed or other team's id.
 * Deliveries of a deleted webhook stay readable: their attempt history is an audit trail.
 */
export async function findDeliveryForAuth(db: Db, auth: Auth, id: string): Promise<DeliveryWithWebhook> {
  if (!isId('dlv', id)) throw notFound('Delivery');
  const row = await db.delivery.findFirst({
    where: { id, ...(auth.kind === 'team' ? { teamId: auth.teamId } : {}) },
    include: { webhook: { select: { isActive: true, deletedAt: true } } },
  });
  if (!row) throw notFound('Delivery');
  return row;
}

export async function findAttempts(db: Db, deliveryId: string): Promise<Attempt[]> {
  return db.attempt.findMany({ where: { deliveryId }, orderBy: [{ attempt: 'asc' }, { startedAt: 'asc' }] });
}

export interface DeliveryPage {
  rows: Delivery[];
  nextCursor: string | null;
}

/** Newest first, keyset-paged on (created_at, id) along the matching index. */
export async function listWebhookDeliveries(db: Db, webhookId: string, query: ListDeliveriesQuery): Promise<DeliveryPage> {
  const { cursor, limit, status } = query;
  const rows = await db.delivery.findMany({
    where: {
      webhookId,
      ...(status ? { status } : {}),
      ...(cursor
        ? {
            OR: [
              { createdAt: { lt: cursor.createdAt } },
              { createdAt: cursor.createdAt, id: { lt: cursor.id } },
            ],
          }
        : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

/** A webhook that is deleted or switched off receives nothing, so sending to it again is a conflict. */
export function assertWebhookReceives(webhook: Pick<Webhook, 'isActive' | 'deletedAt'>): void {
  if (webhook.deletedAt !== null) throw conflict('The webhook of this delivery was deleted');
  if (!webhook.isActive) throw conflict('The webhook is inactive; set is_active to true first');
}

/** A new pending delivery of the same event to the same webhook; the original stays as it was. */
export async function createRedelivery(db: Db, original: Delivery): Promise<Delivery> {
  const { teamId, webhookId, eventId, eventType, isTest } = original;
  const [created] = await createDeliveries(db, [{ teamId, webhookId, eventId, eventType }], { now: new Date(), isTest });
  if (!created) throw new Error('the redelivery was not created');
  return created;
}

export async function recoverWebhook(db: Db, webhook: Webhook, since: Date): Promise<Delivery[]> {
  return recoverFailedDeliveries(db, { webhookId: webhook.id, teamId: webhook.teamId, since, now: new Date() });
}
