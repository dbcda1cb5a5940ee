import type { Db } from './client.js';
import type { Prisma } from './generated/prisma/client.js';
import { advanceLines, dropLines, type WokenDelivery } from './ordering-lines.js';

/**
 * Erasure (DELETE /v1/events/:id, DELETE /v1/teams/:team_id). Each erasure is one
 * transaction: once it commits, a worker loading one of the deliveries finds nothing and
 * drops the job, and a worker recording an attempt it was making meanwhile records nothing
 * (its UPDATE finds no pending row, so its INSERT of the attempt selects nothing). Children
 * go first (attempts, deliveries, then events and webhooks) because the partitioned tables
 * have no foreign keys between them to cascade (see prisma/migrations, "partitioned").
 */

type Tx = Prisma.TransactionClient;

export interface ErasedEvent {
  eventId: string;
  /** Webhooks whose deliveries of this event were still pending: attempts may be in flight. */
  pendingWebhookIds: string[];
  deliveries: number;
  /** Deliveries of fifo lines the erased ones held: to be queued after the commit. */
  woken: WokenDelivery[];
}

/**
 * Erases one event with its deliveries and their attempts (response bodies included), and
 * frees its idempotency key. `teamId` confines a team key to its own events; null for the
 * admin. Null when there is no such event (already erased, or another team's).
 */
export async function eraseEvent(db: Db, eventId: string, teamId: number | null): Promise<ErasedEvent | null> {
  return retryOnDeadlock(() => db.$transaction(async (tx) => {
    const found = await tx.$queryRawUnsafe<Array<{ id: string }>>(
      `SELECT id FROM events WHERE id = $1 AND ($2::int IS NULL OR team_id = $2::int) FOR UPDATE`,
      eventId,
      teamId,
    );
    if (found.length === 0) return null;
    // Locking the pending deliveries first makes a concurrent attempt write wait for us
    // (then find nothing) instead of recording onto rows we are about to delete.
    const pending = await tx.$queryRawUnsafe<Array<{ id: string; webhook_id: string }>>(
      `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = now()
        WHERE event_id = $1 AND status = 'pending' RETURNING id, webhook_id`,
      eventId,
    );
    // An erased event leaves its numbers unused; the next of each line it held goes on.
    const woken = await advanceLines(tx, pending.map((p) => p.id));
    await tx.$executeRawUnsafe(
      `DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = $1)`,
      eventId,
    );
    const deliveries = await tx.$executeRawUnsafe(`DELETE FROM deliveries WHERE event_id = $1`, eventId);
    await deleteIdempotencyClaims(tx, `event_id = $1`, [eventId]);
    await tx.$executeRawUnsafe(`DELETE FROM events WHERE id = $1`, eventId);
    return { eventId, pendingWebhookIds: [...new Set(pending.map((p) => p.webhook_id))], deliveries, woken };
  }));
}

export interface ErasedTeam {
  webhooks: number;
  events: number;
  deliveries: number;
  apiKeys: number;
  /** Every webhook the team had (deleted ones included): attempts to them may be in flight. */
  webhookIds: string[];
}

/**
 * Erases everything of a team in one transaction: attempts, deliveries, events, webhooks
 * (soft-deleted ones too) and API keys. The webhook rows are locked first, in id order,
 * the same order the worker's attempt write takes them, so the two queue rather than
 * deadlock. Counts are of rows removed, so a repeat gives zeros.
 *
 * An ingest for the team running meanwhile read the webhooks before they went and may
 * commit its event and deliveries just after this (no foreign key stops it, see the
 * partitioning migration). So the caller runs this a second time a moment later with the
 * first run's `webhookIds` as `formerWebhookIds`, which finds those stragglers.
 */
export async function eraseTeam(db: Db, teamId: number, formerWebhookIds: string[] = []): Promise<ErasedTeam> {
  return retryOnDeadlock(() => db.$transaction(
    async (tx) => {
      const hooks = await tx.$queryRawUnsafe<Array<{ id: string }>>(
        `SELECT id FROM webhooks WHERE team_id = $1 ORDER BY id FOR UPDATE`,
        teamId,
      );
      const webhookIds = [...new Set([...hooks.map((h) => h.id), ...formerWebhookIds])];
      // By webhook rather than deliveries.team_id: the webhook index finds them, team_id has none.
      await tx.$executeRawUnsafe(
        `DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE webhook_id = ANY($1::text[]))`,
        webhookIds,
      );
      const deliveries = await tx.$executeRawUnsafe(`DELETE FROM deliveries WHERE webhook_id = ANY($1::text[])`, webhookIds);
      // Events that reached no webhook have no deliveries; their own team index finds them.
      await deleteIdempotencyClaims(tx, `team_id = $1`, [teamId]);
      const events = await tx.$executeRawUnsafe(`DELETE FROM events WHERE team_id = $1`, teamId);
      await dropLines(tx, webhookIds);
      const webhooks = await tx.$executeRawUnsafe(`DELETE FROM webhooks WHERE id = ANY($1::text[])`, webhookIds);
      const apiKeys = await tx.$executeRawUnsafe(`DELETE FROM api_keys WHERE team_id = $1`, teamId);
      return { webhooks, events, deliveries, apiKeys, webhookIds };
    },
    // A large team is many rows; the default 5 s would abort the erasure half way (it then rolls back whole).
    { timeout: 10 * 60_000, maxWait: 10_000 },
  ));
}

const DEADLOCK_TRIES = 5;

/**
 * The worker's attempt write may lock a delivery row before the webhook rows (the order of
 * a statement's CTEs is PostgreSQL's choice), so it can deadlock with an erasure holding
 * the webhooks. PostgreSQL then aborts one of the two whole; an erasure is idempotent, so
 * it simply runs again.
 */
async function retryOnDeadlock<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= DEADLOCK_TRIES || !/40P01|40001|deadlock detected/i.test(String((err as Error)?.message ?? err))) throw err;
    }
  }
}

/** Frees the erased events' idempotency keys (their own table since events are partitioned). */
async function deleteIdempotencyClaims(tx: Tx, where: string, params: unknown[]): Promise<void> {
  await tx.$executeRawUnsafe(`DELETE FROM idempotency_keys WHERE ${where}`, ...params);
}
