import { sql, withPgTransaction, type Db, type SqlTransaction } from './client.js';
import type { Prisma } from './generated/prisma/client.js';

/**
 * Ordered delivery (`ordering: "fifo"`): a webhook's deliveries wait in lines, one per
 * ordering key ("" for events without one). A line is a `delivery_lines` row (the last
 * sequence handed out, how many have not ended) and one `line_entries` row per delivery not
 * yet ended. Only a line's lowest sequence is due; the others are pending with
 * `next_attempt_at` null, which no sweep, reaper or queue looks at, so a waiting delivery
 * costs nothing until the one before it ends and wakes it (`advanceLines`).
 *
 * Whoever adds to a line and whoever ends its head both lock the line's row first, so the
 * second one sees the first's work: a new delivery is the head exactly when `pending` was 0
 * (read through the upsert, which always sees the latest row), and an ending head wakes
 * whatever the line holds once it has the lock.
 */

type Queryable = Db | SqlTransaction;

/**
 * For the line transactions that go through Prisma (createDeliveries): its defaults (2 s to
 * get a connection, 5 s in all) would fail them on a busy pool.
 */
export const LINE_TX_OPTIONS = { maxWait: 10_000, timeout: 20_000 } as const;

export interface WokenDelivery {
  id: string;
  webhookId: string;
  /** The attempt it is due for (1 unless it was attempted before it had to wait). */
  attempt: number;
}

/**
 * CTEs that place `line_targets(ref, webhook_id, line, idx)` at the tail of their lines:
 * adds `line_placed(ref, webhook_id, line, sequence, head)`, sequences in `idx` order. The
 * line rows are locked in key order, so two writers queue rather than deadlock.
 */
export function lineCtes(): string {
  return `
    line_counts AS (
      SELECT webhook_id, line, count(*)::int AS n FROM line_targets GROUP BY webhook_id, line
    ), line_bumps AS (
      INSERT INTO delivery_lines AS l (webhook_id, line, last_sequence, pending)
      SELECT webhook_id, line, n, n FROM line_counts ORDER BY webhook_id, line
      ON CONFLICT (webhook_id, line) DO UPDATE
        SET last_sequence = l.last_sequence + EXCLUDED.last_sequence, pending = l.pending + EXCLUDED.pending
      RETURNING webhook_id, line, last_sequence, pending
    ), line_placed AS (
      SELECT t.ref, t.webhook_id, t.line,
             b.last_sequence - c.n + row_number() OVER w AS sequence,
             (b.pending = c.n AND row_number() OVER w = 1) AS head
        FROM line_targets t
        JOIN line_counts c ON c.webhook_id = t.webhook_id AND c.line = t.line
        JOIN line_bumps b ON b.webhook_id = t.webhook_id AND b.line = t.line
      WINDOW w AS (PARTITION BY t.webhook_id, t.line ORDER BY t.idx)
    )`;
}

/**
 * Puts deliveries just created in the caller's transaction (redeliver, recover) at the end
 * of their lines when their webhook is fifo, in the order given; all but a line's head are
 * parked. Returns the ids parked (not to be queued).
 */
export async function appendToLines(
  tx: Queryable,
  deliveries: ReadonlyArray<{ id: string; webhookId: string; eventId: string }>,
): Promise<Set<string>> {
  if (deliveries.length === 0) return new Set();
  const rows = await sql<{ id: string }>(
    tx,
    `
    WITH input AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS c(delivery_id, webhook_id, event_id, idx)
    ), line_targets AS (
      SELECT c.delivery_id AS ref, c.webhook_id, COALESCE(e.ordering_key, '') AS line, c.idx
        FROM input c
        JOIN webhooks w ON w.id = c.webhook_id AND w.ordering = 'fifo'
        JOIN events e ON e.id = c.event_id
    ), ${lineCtes()}, entries AS (
      INSERT INTO line_entries (delivery_id, webhook_id, line, sequence)
      SELECT ref, webhook_id, line, sequence FROM line_placed
      RETURNING 1
    ), parked AS (
      UPDATE deliveries d SET next_attempt_at = NULL
        FROM line_placed p
       WHERE d.id = p.ref AND NOT p.head
      RETURNING d.id
    )
    SELECT id FROM parked`,
    [deliveries.map((d) => d.id), deliveries.map((d) => d.webhookId), deliveries.map((d) => d.eventId)],
  );
  return new Set(rows.map((r) => r.id));
}

// A line whose heads keep turning out ended (cancelled rows) is walked this many steps per call.
const MAX_ADVANCE_ROUNDS = 100;

/**
 * Takes ended deliveries (succeeded, failed, cancelled, or about to be erased) out of their
 * lines and wakes each line's next delivery: due now, returned for the caller to queue after
 * its commit (or found by the sweeper if that never happens). Needs a transaction: the line
 * locks must be held until the commit. Deliveries not in any line are ignored.
 */
export async function advanceLines(tx: SqlTransaction, deliveryIds: readonly string[]): Promise<WokenDelivery[]> {
  const woken: WokenDelivery[] = [];
  let ended = [...deliveryIds];
  for (let round = 0; round < MAX_ADVANCE_ROUNDS && ended.length > 0; round++) {
    const lines = await lockLinesOf(tx, ended);
    if (lines.length === 0) break;
    await sql(
      tx,
      `
      WITH gone AS (
        DELETE FROM line_entries WHERE delivery_id = ANY($1::text[]) RETURNING webhook_id, line
      ), per_line AS (
        SELECT webhook_id, line, count(*)::int AS n FROM gone GROUP BY webhook_id, line
      )
      UPDATE delivery_lines l SET pending = l.pending - p.n
        FROM per_line p WHERE l.webhook_id = p.webhook_id AND l.line = p.line`,
      [ended],
    );
    const heads = await wakeHeads(tx, lines);
    woken.push(...heads.woken);
    ended = heads.stale;
  }
  return woken;
}

async function lockLinesOf(tx: Queryable, deliveryIds: string[]): Promise<Array<{ webhook_id: string; line: string }>> {
  return sql<{ webhook_id: string; line: string }>(
    tx,
    `
    SELECT l.webhook_id, l.line FROM delivery_lines l
     WHERE (l.webhook_id, l.line) IN (SELECT webhook_id, line FROM line_entries WHERE delivery_id = ANY($1::text[]))
     ORDER BY l.webhook_id, l.line
       FOR UPDATE`,
    [deliveryIds],
  );
}

/**
 * Each line's lowest entry becomes due if it waits. An entry whose delivery is no longer
 * pending (ended by a path that did not advance, or erased) comes back as stale, to be
 * taken out in turn.
 */
async function wakeHeads(
  tx: Queryable,
  lines: Array<{ webhook_id: string; line: string }>,
): Promise<{ woken: WokenDelivery[]; stale: string[] }> {
  const rows = await sql<{ id: string; webhook_id: string; attempts: number; state: 'woken' | 'stale' | 'due' }>(
    tx,
    `
    WITH lines AS (
      SELECT * FROM unnest($1::text[], $2::text[]) AS l(webhook_id, line)
    ), heads AS (
      SELECT h.delivery_id, l.webhook_id, d.status, d.next_attempt_at, d.attempts
        FROM lines l
        CROSS JOIN LATERAL (
          SELECT le.delivery_id FROM line_entries le
           WHERE le.webhook_id = l.webhook_id AND le.line = l.line
           ORDER BY le.sequence LIMIT 1
        ) h
        LEFT JOIN deliveries d ON d.id = h.delivery_id
    ), woken AS (
      UPDATE deliveries d SET next_attempt_at = now(), updated_at = now()
        FROM heads h
       WHERE d.id = h.delivery_id AND h.status = 'pending' AND h.next_attempt_at IS NULL
      RETURNING d.id
    )
    SELECT h.delivery_id AS id, h.webhook_id, COALESCE(h.attempts, 0) AS attempts,
           CASE WHEN h.status IS DISTINCT FROM 'pending' THEN 'stale'
                WHEN h.delivery_id IN (SELECT id FROM woken) THEN 'woken'
                ELSE 'due' END AS state
      FROM heads h`,
    [lines.map((l) => l.webhook_id), lines.map((l) => l.line)],
  );
  return {
    woken: rows.filter((r) => r.state === 'woken').map((r) => ({ id: r.id, webhookId: r.webhook_id, attempt: r.attempts + 1 })),
    stale: rows.filter((r) => r.state === 'stale').map((r) => r.id),
  };
}

/**
 * A fifo delivery found with an earlier one of its line still pending (a job queued before
 * the webhook turned fifo, a sweep racing a wake) goes back to waiting. Under the line's
 * lock, so a wake cannot slip in between the check and the park. False when it is the head
 * after all (or in no line): then it may be attempted.
 */
export async function parkIfBlocked(db: Db, deliveryId: string): Promise<boolean> {
  return withPgTransaction(db, async (tx) => {
    const lines = await lockLinesOf(tx, [deliveryId]);
    if (lines.length === 0) return false;
    const parked = await sql<{ id: string }>(
      tx,
      `
      UPDATE deliveries d SET next_attempt_at = NULL
        FROM line_entries me
       WHERE me.delivery_id = $1 AND d.id = me.delivery_id AND d.status = 'pending'
         AND EXISTS (SELECT 1 FROM line_entries b
                      WHERE b.webhook_id = me.webhook_id AND b.line = me.line AND b.sequence < me.sequence)
      RETURNING d.id`,
      [deliveryId],
    );
    return parked.length > 0;
  });
}

/** Ends a pending delivery without an attempt and lets its line move on. */
export async function cancelInLine(db: Db, deliveryId: string): Promise<{ cancelled: boolean; woken: WokenDelivery[] }> {
  return withPgTransaction(db, async (tx) => {
    const cancelled = await sql<{ id: string }>(
      tx,
      `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = now()
        WHERE id = $1 AND status = 'pending' RETURNING id`,
      [deliveryId],
    );
    const woken = await advanceLines(tx, [deliveryId]);
    return { cancelled: cancelled.length > 0, woken };
  });
}

/** A deleted or erased webhook's lines are gone with it (its pending deliveries are cancelled by the caller). */
export async function dropLines(tx: Queryable, webhookIds: readonly string[]): Promise<void> {
  if (webhookIds.length === 0) return;
  await sql(tx, `DELETE FROM line_entries WHERE webhook_id = ANY($1::text[])`, [webhookIds]);
  await sql(tx, `DELETE FROM delivery_lines WHERE webhook_id = ANY($1::text[])`, [webhookIds]);
}

/**
 * `ordering` changed. To "none": every waiting delivery is due now (returned, to be queued)
 * and the lines are emptied (their numbers are kept, never reused). To "fifo": the pending
 * deliveries not yet attempted join lines in creation order, so they go out in order from
 * here on; one already on its way is let through.
 */
export async function applyOrderingChange(
  tx: Prisma.TransactionClient,
  webhookId: string,
  ordering: 'none' | 'fifo',
): Promise<WokenDelivery[]> {
  if (ordering === 'fifo') {
    const pending = await sql<{ id: string; webhook_id: string; event_id: string }>(
      tx,
      `SELECT d.id, d.webhook_id, d.event_id FROM deliveries d
        WHERE d.webhook_id = $1 AND d.status = 'pending' AND d.attempts = 0 AND NOT d.is_test
          AND NOT EXISTS (SELECT 1 FROM line_entries le WHERE le.delivery_id = d.id)
        ORDER BY d.id`,
      [webhookId],
    );
    await appendToLines(tx, pending.map((p) => ({ id: p.id, webhookId: p.webhook_id, eventId: p.event_id })));
    return [];
  }
  await sql(tx, `SELECT 1 FROM delivery_lines WHERE webhook_id = $1 ORDER BY line FOR UPDATE`, [webhookId]);
  const woken = await sql<{ id: string; webhook_id: string; attempts: number }>(
    tx,
    `UPDATE deliveries d SET next_attempt_at = now(), updated_at = now()
       FROM line_entries le
      WHERE le.webhook_id = $1 AND d.id = le.delivery_id AND d.status = 'pending' AND d.next_attempt_at IS NULL
     RETURNING d.id, d.webhook_id, d.attempts`,
    [webhookId],
  );
  await sql(tx, `DELETE FROM line_entries WHERE webhook_id = $1`, [webhookId]);
  await sql(tx, `UPDATE delivery_lines SET pending = 0 WHERE webhook_id = $1`, [webhookId]);
  return woken.map((w) => ({ id: w.id, webhookId: w.webhook_id, attempt: w.attempts + 1 }));
}
