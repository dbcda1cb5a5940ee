import { sql, type Db } from './client.js';

// Raw statements on the pool (client.ts `sql`), not Prisma: the worker runs these every sweep, and
// Prisma's first query loads its query compiler, about 50 MB of a worker's resident memory.

/** Ends a pending delivery without an attempt (its webhook was deleted or switched off). */
export async function cancelPendingDelivery(db: Db, deliveryId: string): Promise<boolean> {
  const rows = await sql(
    db,
    `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = now()
      WHERE id = $1 AND status = 'pending' RETURNING id`,
    [deliveryId],
  );
  return rows.length > 0;
}

/** Turns a webhook off on the service's own initiative (`disabled_reason` says why). */
export async function disableWebhook(db: Db, webhookId: string, reason: string): Promise<boolean> {
  const rows = await sql(
    db,
    `UPDATE webhooks SET is_active = false, disabled_reason = $2, updated_at = now()
      WHERE id = $1 AND is_active AND deleted_at IS NULL RETURNING id`,
    [webhookId, reason],
  );
  return rows.length > 0;
}

/** The project a webhook belongs to (null: team-wide, or the webhook is gone). */
export async function findWebhookProject(db: Db, webhookId: string): Promise<number | null> {
  const [row] = await sql<{ project_id: number | null }>(db, `SELECT project_id FROM webhooks WHERE id = $1`, [webhookId]);
  return row?.project_id ?? null;
}

export interface PendingDelivery {
  id: string;
  webhookId: string;
  attempts: number;
  nextAttemptAt: Date | null;
  createdAt: Date;
}

/** Where a keyset page ends; the next page starts after it. */
export interface SweepCursor {
  at: Date;
  id: string;
}

interface PendingRow {
  id: string;
  webhook_id: string;
  attempts: number;
  next_attempt_at: Date | null;
  created_at: Date;
}

function toPending(r: PendingRow): PendingDelivery {
  return { id: r.id, webhookId: r.webhook_id, attempts: r.attempts, nextAttemptAt: r.next_attempt_at, createdAt: r.created_at };
}

/**
 * One keyset page of the pending deliveries due before `dueBefore`, in (next_attempt_at, id)
 * order after `after`: the sweeper walks the whole backlog page by page instead of reading the
 * oldest ones again each round. Written on the plain column so that the
 * (status, next_attempt_at) index serves the filter and the order on every partition (an
 * expression such as COALESCE(next_attempt_at, created_at) has no index). A pending row
 * without next_attempt_at waits in a fifo line (ordering-lines.ts) and is not due: the one
 * ahead of it wakes it, so waiting costs no sweep.
 */
export async function findDuePendingPage(
  db: Db,
  input: { dueBefore: Date; after: SweepCursor | null; limit: number },
): Promise<{ rows: PendingDelivery[]; next: SweepCursor | null }> {
  const after = input.after ?? { at: new Date(0), id: '' };
  const rows = await sql<PendingRow>(
    db,
    `SELECT id, webhook_id, attempts, next_attempt_at, created_at FROM deliveries
      WHERE status = 'pending' AND next_attempt_at <= $1 AND next_attempt_at >= $2
        AND (next_attempt_at, id) > ($2, $3)
      ORDER BY next_attempt_at, id
      LIMIT $4`,
    [input.dueBefore, after.at, after.id, input.limit],
  );
  const last = rows.at(-1);
  const next = last && rows.length === input.limit ? { at: last.next_attempt_at!, id: last.id } : null;
  return { rows: rows.map(toPending), next };
}

/**
 * One keyset page (by id) of every pending delivery, due or not (later retries), but not
 * those waiting in a fifo line: the re-queue after Redis lost its data.
 */
export async function findPendingPage(db: Db, input: { afterId: string; limit: number }): Promise<PendingDelivery[]> {
  const rows = await sql<PendingRow>(
    db,
    `SELECT id, webhook_id, attempts, next_attempt_at, created_at FROM deliveries
      WHERE status = 'pending' AND next_attempt_at IS NOT NULL AND id > $1
      ORDER BY id LIMIT $2`,
    [input.afterId, input.limit],
  );
  return rows.map(toPending);
}

/**
 * Of these (delivery, attempts) pairs, the ids still pending at exactly that attempt count.
 * The sweeper asks again after finding no trace in Redis: a delivery finished between its
 * first read and the Redis check must not be queued again.
 */
export async function filterStillPending(db: Db, items: Array<{ id: string; attempts: number }>): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const rows = await sql<{ id: string }>(
    db,
    `SELECT d.id FROM deliveries d
       JOIN unnest($1::text[], $2::int[]) AS c(id, attempts)
         ON c.id = d.id AND c.attempts = d.attempts
      WHERE d.status = 'pending'`,
    [items.map((i) => i.id), items.map((i) => i.attempts)],
  );
  return new Set(rows.map((r) => r.id));
}
