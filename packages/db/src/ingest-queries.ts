import { sql, type Db } from './client.js';
import type { Prisma } from './generated/prisma/client.js';

/**
 * The ingest hot path in raw SQL: a whole request (one event or a batch of 1000) costs a
 * fixed handful of round trips, whatever the number of events and deliveries.
 */

type Queryable = Db | Prisma.TransactionClient;

export interface FanOutTarget {
  teamId: number;
  projectId: number | null;
  type: string;
}

function targetKey(t: FanOutTarget): string {
  return `${t.teamId}|${t.projectId ?? ''}|${t.type}`;
}

/**
 * For each target, the ids of the live webhooks subscribed to it (oldest first): same team,
 * active, not deleted, `events` holding the type or "*", and `project_id` null or equal. An
 * event without a project reaches only team-wide webhooks, because `NULL = NULL` is not true.
 * One query for all targets; each distinct (team, project, type) is looked up once.
 */
export async function findSubscribedWebhookIds(db: Queryable, targets: FanOutTarget[]): Promise<string[][]> {
  const distinct = new Map<string, FanOutTarget>();
  for (const target of targets) distinct.set(targetKey(target), target);
  if (distinct.size === 0) return [];
  const unique = [...distinct.values()];
  const rows = await db.$queryRaw<Array<{ idx: number; id: string }>>`
    SELECT t.idx::int AS idx, w.id
    FROM unnest(
      ${unique.map((t) => t.teamId)}::int[],
      ${unique.map((t) => t.projectId)}::int[],
      ${unique.map((t) => t.type)}::text[]
    ) WITH ORDINALITY AS t(team_id, project_id, type, idx)
    JOIN webhooks w
      ON w.team_id = t.team_id
     AND w.is_active
     AND w.deleted_at IS NULL
     AND w.events && ARRAY[t.type, '*']
     AND (w.project_id IS NULL OR w.project_id = t.project_id)
    ORDER BY t.idx, w.created_at, w.id`;
  const byKey = new Map<string, string[]>(unique.map((t) => [targetKey(t), []]));
  for (const row of rows) {
    const target = unique[row.idx - 1];
    if (target) byKey.get(targetKey(target))?.push(row.id);
  }
  return targets.map((t) => byKey.get(targetKey(t)) ?? []);
}

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
}

export interface NewDeliveryRow {
  id: string;
  teamId: number;
  webhookId: string;
  eventId: string;
  eventType: string;
}

export interface InsertEventsInput {
  /** created_at of every row, and the first attempt's time; also how a replay finds "the first reply". */
  now: Date;
  idempotencyTtlMs: number;
  events: NewEventRow[];
  deliveries: NewDeliveryRow[];
}

/**
 * Stores events and their deliveries in one statement, so it is one transaction and one
 * round trip. An event whose idempotency key is already taken (a concurrent twin won) is
 * skipped together with its deliveries; the ids of the events actually stored come back.
 * Deliveries share the event's `created_at`, which is how a replay counts the original fan-out.
 */
export async function insertEventsWithDeliveries(db: Queryable, input: InsertEventsInput): Promise<Set<string>> {
  const { now, events, deliveries } = input;
  if (events.length === 0) return new Set();
  const expiresAt = new Date(now.getTime() + input.idempotencyTtlMs);
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    WITH new_events AS (
      INSERT INTO events (id, team_id, project_id, type, "timestamp", data, sender,
                          idempotency_key, idempotency_expires_at, created_at)
      SELECT e.id, e.team_id, e.project_id, e.type, e.ts, e.data::jsonb, e.sender::jsonb,
             e.idem, CASE WHEN e.idem IS NULL THEN NULL ELSE ${expiresAt}::timestamptz END, ${now}::timestamptz
      FROM unnest(
        ${events.map((e) => e.id)}::text[],
        ${events.map((e) => e.teamId)}::int[],
        ${events.map((e) => e.projectId)}::int[],
        ${events.map((e) => e.type)}::text[],
        ${events.map((e) => e.timestamp.toISOString())}::timestamptz[],
        ${events.map((e) => JSON.stringify(e.data))}::text[],
        ${events.map((e) => (e.sender === null || e.sender === undefined ? null : JSON.stringify(e.sender)))}::text[],
        ${events.map((e) => e.idempotencyKey)}::text[]
      ) AS e(id, team_id, project_id, type, ts, data, sender, idem)
      ON CONFLICT DO NOTHING
      RETURNING id
    ), new_deliveries AS (
      INSERT INTO deliveries (id, team_id, webhook_id, event_id, event_type, status, attempts,
                              next_attempt_at, is_test, created_at, updated_at)
      SELECT d.id, d.team_id, d.webhook_id, d.event_id, d.event_type, 'pending', 0,
             ${now}::timestamptz, false, ${now}::timestamptz, ${now}::timestamptz
      FROM unnest(
        ${deliveries.map((d) => d.id)}::text[],
        ${deliveries.map((d) => d.teamId)}::int[],
        ${deliveries.map((d) => d.webhookId)}::text[],
        ${deliveries.map((d) => d.eventId)}::text[],
        ${deliveries.map((d) => d.eventType)}::text[]
      ) AS d(id, team_id, webhook_id, event_id, event_type)
      JOIN new_events ne ON ne.id = d.event_id
      RETURNING id
    )
    SELECT id FROM new_events`;
  return new Set(rows.map((r) => r.id));
}

export interface InsertEventsWithFanOutInput {
  now: Date;
  idempotencyTtlMs: number;
  /** In the order their deliveries should be numbered (ids ascending, as `newId` makes them). */
  events: NewEventRow[];
  /** From core's `newIdBlock('dlv')`: delivery n of this statement gets the head plus n in base32. */
  deliveryIdHead: string;
}

export interface StoredEvent {
  eventId: string;
  /** The event's deliveries, in creation order (their ids ascend). */
  deliveryIds: string[];
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** `ID_BLOCK_SIZE` in core: a statement may make this many deliveries at most. */
const MAX_DELIVERIES_PER_STATEMENT = 2 ** 20;

/**
 * Stores events and fans them out to the webhooks subscribed to them in ONE statement (one
 * round trip, one transaction): same team, active, not deleted, `events` holding the type or
 * "*", `project_id` null or equal (an event without a project reaches only team-wide
 * webhooks). Deliveries are numbered in event order, then webhook age, and their ids taken
 * from the reserved block. An event whose idempotency key is already taken (a concurrent twin
 * won) is skipped with its deliveries; only stored events come back, in input order.
 */
export async function insertEventsWithFanOut(db: Queryable, input: InsertEventsWithFanOutInput): Promise<StoredEvent[]> {
  const { now, events, deliveryIdHead } = input;
  if (events.length === 0) return [];
  const expiresAt = new Date(now.getTime() + input.idempotencyTtlMs);
  const rows = await sql<{ event_id: string; delivery_id: string | null }>(
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
    ), targets AS (
      SELECT i.id AS event_id, i.team_id, i.type, w.id AS webhook_id,
             row_number() OVER (ORDER BY i.idx, w.created_at, w.id) - 1 AS n
      FROM new_events ne
      JOIN input i ON i.id = ne.id
      JOIN webhooks w
        ON w.team_id = i.team_id
       AND w.is_active
       AND w.deleted_at IS NULL
       AND w.events && ARRAY[i.type, '*']
       AND (w.project_id IS NULL OR w.project_id = i.project_id)
    ), new_deliveries AS (
      INSERT INTO deliveries (id, team_id, webhook_id, event_id, event_type, status, attempts,
                              next_attempt_at, is_test, created_at, updated_at)
      SELECT CASE WHEN t.n < $11::bigint THEN
               $12::text
               || substr($13::text, (((t.n >> 15) & 31) + 1)::int, 1)
               || substr($13::text, (((t.n >> 10) & 31) + 1)::int, 1)
               || substr($13::text, (((t.n >> 5) & 31) + 1)::int, 1)
               || substr($13::text, ((t.n & 31) + 1)::int, 1)
             END,
             t.team_id, t.webhook_id, t.event_id, t.type, 'pending', 0,
             $10::timestamptz, false, $10::timestamptz, $10::timestamptz
      FROM targets t
      RETURNING id, event_id
    )
    SELECT ne.id AS event_id, nd.id AS delivery_id
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
      MAX_DELIVERIES_PER_STATEMENT,
      deliveryIdHead,
      CROCKFORD,
    ],
  );
  const byEvent = new Map<string, string[]>();
  for (const row of rows) {
    let ids = byEvent.get(row.event_id);
    if (!ids) {
      ids = [];
      byEvent.set(row.event_id, ids);
    }
    if (row.delivery_id !== null) ids.push(row.delivery_id);
  }
  const stored: StoredEvent[] = [];
  for (const event of events) {
    const deliveryIds = byEvent.get(event.id);
    if (deliveryIds) stored.push({ eventId: event.id, deliveryIds: deliveryIds.sort() });
  }
  return stored;
}
