import { sql, type Db } from './client.js';
import type { Prisma } from './generated/prisma/client.js';
import { fanOutCtes, fanOutParams, type CreatedDelivery } from './outbox.js';

/**
 * The ingest hot path in raw SQL: a whole request (one event or a batch of 1000) costs a
 * fixed handful of round trips, whatever the number of events and deliveries.
 */

type Queryable = Db | Prisma.TransactionClient;

export interface IdempotencyKeyRef {
  teamId: number;
  key: string;
}

export interface IdempotentEvent {
  teamId: number;
  key: string;
  eventId: string;
  /** Deliveries made with the event; later redeliveries and recoveries do not count. */
  deliveries: number;
}

/**
 * The events that still own these keys. Keys older than their expiry are released first
 * (the key is cleared on the old row), so the same key can start a new event after 24 h.
 * Both happen in one statement; the SELECT reads the snapshot from before the UPDATE but
 * only returns rows that are not expired, so it never returns a key it just released.
 */
export async function claimLiveIdempotencyKeys(
  db: Queryable,
  refs: IdempotencyKeyRef[],
  now: Date,
): Promise<IdempotentEvent[]> {
  if (refs.length === 0) return [];
  const teams = refs.map((r) => r.teamId);
  const keys = refs.map((r) => r.key);
  const rows = await db.$queryRaw<Array<{ team_id: number; idempotency_key: string; id: string; deliveries: number }>>`
    WITH refs AS (
      SELECT * FROM unnest(${teams}::int[], ${keys}::text[]) AS r(team_id, key)
    ), released AS (
      UPDATE events e SET idempotency_key = NULL
      FROM refs
      WHERE e.team_id = refs.team_id AND e.idempotency_key = refs.key AND e.idempotency_expires_at <= ${now}
      RETURNING e.id
    )
    SELECT e.team_id, e.idempotency_key, e.id,
      (SELECT count(*)::int FROM deliveries d
        WHERE d.event_id = e.id AND d.created_at = e.created_at AND NOT d.is_test) AS deliveries
    FROM events e
    JOIN refs ON e.team_id = refs.team_id AND e.idempotency_key = refs.key
    WHERE e.idempotency_expires_at > ${now}`;
  return rows.map((r) => ({ teamId: r.team_id, key: r.idempotency_key, eventId: r.id, deliveries: r.deliveries }));
}

export interface NewEventRow {
  id: string;
  teamId: number;
  projectId: number | null;
  type: string;
  timestamp: Date;
  data: unknown;
  sender: unknown;
  idempotencyKey: string | null;
  orderingKey?: string | null;
}

export interface InsertEventsWithFanOutInput {
  now: Date;
  idempotencyTtlMs: number;
  /** In the order their deliveries should be numbered (ids ascending, as `newId` makes them). */
  events: NewEventRow[];
}

export interface StoredEvent {
  eventId: string;
  /** The event's deliveries, in creation order (their ids ascend). */
  deliveries: CreatedDelivery[];
}

// Over 60 lines: mostly the text of the one SQL statement, kept whole so it reads as it runs.
/**
 * Stores events and fans them out (the outbox's `fanOutCtes`) in ONE statement: one round
 * trip, one transaction. An event whose idempotency key is already taken (a concurrent twin
 * won) is skipped with its deliveries; only stored events come back, in input order. The
 * caller queues the deliveries after this returns (`enqueueCreated`).
 */
export async function insertEventsWithFanOut(db: Queryable, input: InsertEventsWithFanOutInput): Promise<StoredEvent[]> {
  const { now, events } = input;
  if (events.length === 0) return [];
  const expiresAt = new Date(now.getTime() + input.idempotencyTtlMs);
  const rows = await sql<{ event_id: string; delivery_id: string | null; webhook_id: string | null }>(
    db,
    `
    WITH input AS (
      SELECT * FROM unnest(
        $1::text[],
        $2::int[],
        $3::int[],
        $4::text[],
        $5::timestamptz[],
        $6::text[],
        $7::text[],
        $8::text[]
      ) WITH ORDINALITY AS e(id, team_id, project_id, type, ts, data, sender, idem, idx)
    ), new_events AS (
      INSERT INTO events (id, team_id, project_id, type, "timestamp", data, sender,
                          idempotency_key, idempotency_expires_at, created_at)
      SELECT e.id, e.team_id, e.project_id, e.type, e.ts, e.data::jsonb, e.sender::jsonb,
             e.idem, CASE WHEN e.idem IS NULL THEN NULL ELSE $9::timestamptz END, $10::timestamptz
      FROM input e
      ON CONFLICT DO NOTHING
      RETURNING id
    ), fan_out_events AS (
      SELECT i.id, i.team_id, i.project_id, i.type, i.idx FROM new_events ne JOIN input i ON i.id = ne.id
    ), ${fanOutCtes({ now: '$10', head: '$11', alphabet: '$12', max: '$13' })}
    SELECT ne.id AS event_id, nd.id AS delivery_id, nd.webhook_id
    FROM new_events ne
    LEFT JOIN new_deliveries nd ON nd.event_id = ne.id`,
    [
      events.map((e) => e.id),
      events.map((e) => e.teamId),
      events.map((e) => e.projectId),
      events.map((e) => e.type),
      events.map((e) => e.timestamp.toISOString()),
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => (e.sender === null || e.sender === undefined ? null : JSON.stringify(e.sender))),
      events.map((e) => e.idempotencyKey),
      expiresAt,
      now,
      ...fanOutParams(),
    ],
  );
  const byEvent = new Map<string, CreatedDelivery[]>();
  for (const row of rows) {
    let deliveries = byEvent.get(row.event_id);
    if (!deliveries) {
      deliveries = [];
      byEvent.set(row.event_id, deliveries);
    }
    if (row.delivery_id !== null && row.webhook_id !== null) deliveries.push({ id: row.delivery_id, webhookId: row.webhook_id });
  }
  const stored: StoredEvent[] = [];
  for (const event of events) {
    const deliveries = byEvent.get(event.id);
    if (deliveries) stored.push({ eventId: event.id, deliveries: deliveries.sort((x, y) => (x.id < y.id ? -1 : 1)) });
  }
  return stored;
}
