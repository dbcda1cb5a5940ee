import { ID_ALPHABET, ID_BLOCK_COUNTER_CHARS, ID_BLOCK_SIZE, idInBlock, newIdBlock, withTimeout } from '@hooklane/core';
import { isRootClient, type Db } from './client.js';
import { appendToLines, LINE_TX_OPTIONS, lineCtes } from './ordering-lines.js';
import type { Delivery, Prisma } from './generated/prisma/client.js';

/**
 * The outbox: the one place that writes pending deliveries. A delivery row is made inside
 * the caller's transaction (with its event, or for an event that exists), and only after
 * the commit is its first attempt queued (`enqueueCreated`); if that fails, the row is the
 * record and the worker's sweeper queues it later. Delivery ids are always numbered from a
 * block of core's `newIdBlock`, in SQL (`fanOutCtes`) or here (`createDeliveries`).
 */

type Queryable = Db | Prisma.TransactionClient;

export interface CreatedDelivery {
  id: string;
  webhookId: string;
  /** A test ping's delivery: queued outside its webhook's line. */
  isTest?: boolean;
  /** Behind another delivery of its fifo line: not queued now, woken when its turn comes. */
  waiting?: boolean;
  /** Null on a row made by `createDeliveries` that waits in its fifo line (the same as `waiting`). */
  nextAttemptAt?: Date | null;
}

/** The queue side, as each process wires it (BullMQ in both apps); the db package does no Redis. */
export interface OutboxQueue {
  enqueueFirstAttempts(deliveries: readonly CreatedDelivery[]): Promise<void>;
}

/** Where the outbox says that queueing failed (the process's logger). */
export interface OutboxLog {
  warn(fields: object, message: string): void;
}

/**
 * The fan-out, as CTEs to follow a CTE `fan_out_events(id, team_id, project_id, type, idx,
 * ordering_key)`: one pending delivery per event and live webhook subscribed to it (same
 * team, active, not deleted, `events` holding the type or "*", `project_id` null or equal; an
 * event without a project reaches only team-wide webhooks because `NULL = NULL` is not true).
 * Deliveries are numbered in event order, then webhook age, as ids of the block whose head is
 * `$head`. A fifo webhook's deliveries also join their lines (ordering-lines.ts) in event
 * order, and wait (no `next_attempt_at`) unless first in line. Adds CTE
 * `new_deliveries(id, event_id, webhook_id, waiting)`. `$now`, `$head`, `$alphabet`, `$max`
 * are the placeholders the caller binds (see `fanOutParams`).
 */
export function fanOutCtes(p: { now: string; head: string; alphabet: string; max: string }): string {
  const idOf = (n: string) => {
    const digits = Array.from({ length: ID_BLOCK_COUNTER_CHARS }, (_, i) => {
      const shift = 5 * (ID_BLOCK_COUNTER_CHARS - 1 - i);
      return `substr(${p.alphabet}::text, (((${n} >> ${shift}) & 31) + 1)::int, 1)`;
    });
    return `CASE WHEN ${n} < ${p.max}::bigint THEN ${p.head}::text || ${digits.join(' || ')} END`;
  };
  return `
    fan_out_targets AS (
      SELECT e.id AS event_id, e.team_id, e.type, w.id AS webhook_id,
             CASE WHEN w.ordering = 'fifo' THEN COALESCE(e.ordering_key, '') END AS line,
             row_number() OVER (ORDER BY e.idx, w.created_at, w.id) - 1 AS n
      FROM fan_out_events e
      JOIN webhooks w
        ON w.team_id = e.team_id
       AND w.is_active
       AND w.deleted_at IS NULL
       AND w.events && ARRAY[e.type, '*']
       AND (w.project_id IS NULL OR w.project_id = e.project_id)
    ), line_targets AS (
      SELECT n AS ref, webhook_id, line, n AS idx FROM fan_out_targets WHERE line IS NOT NULL
    ), ${lineCtes()}, new_deliveries AS (
      INSERT INTO deliveries (id, team_id, webhook_id, event_id, event_type, status, attempts,
                              next_attempt_at, is_test, created_at, updated_at)
      SELECT ${idOf('t.n')},
             t.team_id, t.webhook_id, t.event_id, t.type, 'pending', 0,
             CASE WHEN lp.head IS FALSE THEN NULL ELSE ${p.now}::timestamptz END,
             false, ${p.now}::timestamptz, ${p.now}::timestamptz
      FROM fan_out_targets t
      LEFT JOIN line_placed lp ON lp.ref = t.n
      RETURNING id, event_id, webhook_id, next_attempt_at IS NULL AS waiting
    ), new_line_entries AS (
      INSERT INTO line_entries (delivery_id, webhook_id, line, sequence)
      SELECT ${idOf('lp.ref')}, lp.webhook_id, lp.line, lp.sequence FROM line_placed lp
      RETURNING 1
    )`;
}

/** The values for `fanOutCtes`'s `head`, `alphabet` and `max` placeholders, in that order. */
export function fanOutParams(): [string, string, number] {
  return [newIdBlock('dlv'), ID_ALPHABET, ID_BLOCK_SIZE];
}

export interface DeliveryToCreate {
  teamId: number;
  webhookId: string;
  eventId: string;
  eventType: string;
}

/**
 * Pending deliveries of existing events to given webhooks (a redelivery, a recovery, a test
 * ping), in the caller's transaction, in the order given; ids ascend in that order.
 */
export async function createDeliveries(
  db: Queryable,
  rows: readonly DeliveryToCreate[],
  options: { now: Date; isTest?: boolean },
): Promise<Delivery[]> {
  if (rows.length === 0) return [];
  if (rows.length > ID_BLOCK_SIZE) throw new RangeError('too many deliveries for one statement');
  const head = newIdBlock('dlv');
  const { now } = options;
  const created: Delivery[] = rows.map((row, n) => ({
    id: idInBlock(head, n),
    teamId: row.teamId,
    webhookId: row.webhookId,
    eventId: row.eventId,
    eventType: row.eventType,
    status: 'pending',
    attempts: 0,
    lastStatusCode: null,
    nextAttemptAt: now,
    isTest: options.isTest ?? false,
    createdAt: now,
    updatedAt: now,
  }));
  // A fifo line's lock must be held until the rows are committed: one transaction.
  const write = async (tx: Prisma.TransactionClient) => {
    await tx.delivery.createMany({ data: created });
    if (options.isTest) return;
    const parked = await appendToLines(tx, created);
    for (const delivery of created) if (parked.has(delivery.id)) delivery.nextAttemptAt = null;
  };
  if (isRootClient(db)) await db.$transaction(write, LINE_TX_OPTIONS);
  else await write(db);
  return created;
}

// A queue that waits for a lost Redis to come back (BullMQ does) would otherwise hang the
// request that has already committed its deliveries.
export const ENQUEUE_TIMEOUT_MS = 2000;
const ENQUEUE_CHUNK = 1000;

/**
 * Queues the first attempt of committed deliveries. Never throws: the rows are stored, and
 * the sweeper queues any pending delivery without a job, so a failure here only delays
 * delivery. Returns whether everything was queued.
 */
export async function enqueueCreated(
  queue: OutboxQueue,
  log: OutboxLog,
  deliveries: readonly CreatedDelivery[],
): Promise<boolean> {
  const due = deliveries.filter((d) => d.waiting !== true && d.nextAttemptAt !== null);
  for (let start = 0; start < due.length; start += ENQUEUE_CHUNK) {
    const chunk = due.slice(start, start + ENQUEUE_CHUNK);
    try {
      await withTimeout(queue.enqueueFirstAttempts(chunk), ENQUEUE_TIMEOUT_MS, 'enqueue');
    } catch (err) {
      log.warn(
        { err: { message: err instanceof Error ? err.message : String(err) }, deliveries: due.length - start },
        'could not queue deliveries; they are stored and the sweeper will queue them',
      );
      return false;
    }
  }
  return true;
}
