import { generateSecret } from '@hooklane/core';
import { applyOrderingChange, dropLines, LINE_TX_OPTIONS, type Db, type Prisma, type Webhook, type WokenDelivery } from '@hooklane/db';
import { encodeCursor } from './cursor.js';
import { filterWhere, subscribedTo } from './list-filters.js';
import type { ListWebhooksQuery } from './list-query.js';
import { previousSecretFields } from './secrets.js';

export interface WebhookPage {
  rows: Webhook[];
  nextCursor: string | null;
}

/** One page of live webhooks, oldest first; `teamId` undefined means every team (admin only). */
export async function listWebhooks(db: Db, teamId: number | undefined, query: ListWebhooksQuery): Promise<WebhookPage> {
  const and: Prisma.WebhookWhereInput[] = [{ deletedAt: null }];
  if (teamId !== undefined) and.push({ teamId });
  if (query.project_id !== undefined) and.push({ projectId: query.project_id });
  if (query.event !== undefined) and.push(subscribedTo(query.event));
  if (query.is_active !== undefined) and.push({ isActive: query.is_active });
  if (query.ordering !== undefined) and.push({ ordering: query.ordering });
  for (const filter of query.filters ?? []) and.push(filterWhere(filter));
  if (query.cursor) {
    const { createdAt, id } = query.cursor;
    and.push({ OR: [{ createdAt: { gt: createdAt } }, { createdAt, id: { gt: id } }] });
  }
  // One row more than the page tells whether another page exists without a count.
  const rows = await db.webhook.findMany({
    where: { AND: and },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

/**
 * Soft-deletes a webhook and cancels its pending deliveries in one transaction, so a
 * worker never picks up a delivery for a webhook the user has already removed.
 */
export async function deleteWebhook(db: Db, id: string, now: Date = new Date()): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const removed = await tx.webhook.updateMany({ where: { id, deletedAt: null }, data: { deletedAt: now, isActive: false } });
    if (removed.count === 0) return false;
    await tx.delivery.updateMany({ where: { webhookId: id, status: 'pending' }, data: { status: 'cancelled', nextAttemptAt: null } });
    await dropLines(tx, [id]);
    return true;
  });
}

/**
 * Applies a PATCH. A change of `ordering` moves the pending deliveries with it in the same
 * transaction (ordering-lines.ts): to "none" the waiting ones are due at once and come back in
 * `woken`, to be queued after the commit. Null when the webhook is gone.
 */
export async function updateWebhook(
  db: Db,
  current: Webhook,
  changes: Prisma.WebhookUpdateManyMutationInput,
): Promise<{ woken: WokenDelivery[] } | null> {
  return db.$transaction(async (tx) => {
    const updated = await tx.webhook.updateMany({ where: { id: current.id, deletedAt: null }, data: changes });
    if (updated.count === 0) return null;
    const ordering = changes.ordering;
    if (ordering === undefined || ordering === current.ordering) return { woken: [] };
    if (ordering !== 'none' && ordering !== 'fifo') throw new TypeError('ordering must be none or fifo');
    return { woken: await applyOrderingChange(tx, current.id, ordering) };
  }, LINE_TX_OPTIONS); // a switch moves every pending delivery of the webhook: Prisma's 5 s default may not do
}

/** Replaces the secret and keeps the old one for the grace period. Null when the webhook is gone. */
export async function rotateSecret(db: Db, current: Webhook, newSecret = generateSecret(), now = new Date()): Promise<string | null> {
  const updated = await db.webhook.updateMany({
    // Matching the old secret makes two concurrent rotations safe: the loser changes nothing.
    where: { id: current.id, deletedAt: null, secret: current.secret },
    data: { secret: newSecret, ...previousSecretFields(current.secret, now) },
  });
  return updated.count === 1 ? newSecret : null;
}
