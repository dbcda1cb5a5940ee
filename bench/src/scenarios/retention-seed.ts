import { ensureDayPartitions } from '@hooklane/db';
import type pg from 'pg';

/**
 * Old rows for the retention scenario, written with `generate_series` straight into the
 * partitions they belong to (millions of rows in seconds, no round trip per row):
 * - ten old days (45 to 36 days back), each with `perDay` events, as many finished
 *   deliveries, and an attempt for every other delivery;
 * - `defaultEvents` old events in `events_default` (200 days back: no day partition covers
 *   them), which retention deletes in batches rather than drops.
 * Team 2, a webhook that does not exist: nothing here meets the measured traffic.
 */

export interface OldRows {
  days: number;
  perDay: number;
  defaultEvents: number;
  /** Rows written in all (events, deliveries and attempts). */
  total: number;
  seedMs: number;
}

const DAY = 86_400_000;
const DAYS = 10;

const dayStart = (now: Date, back: number) => new Date(Math.floor(now.getTime() / DAY) * DAY - back * DAY);
const suffix = (day: Date) => `p${day.toISOString().slice(0, 10).replaceAll('-', '')}`;

/** Splits `total` rows: 90% over the ten days (2.5 rows per event), 10% in the default partition. */
export function oldRowsPlan(total: number): { perDay: number; defaultEvents: number } {
  const perDay = Math.max(100, Math.round((total * 0.9) / DAYS / 2.5));
  return { perDay, defaultEvents: Math.max(100, total - Math.round(perDay * 2.5) * DAYS) };
}

async function idHead(client: pg.ClientBase, prefix: string, at: Date): Promise<string> {
  const { rows } = await client.query<{ b: string }>('SELECT hooklane_id_bound($1, $2) AS b', [prefix, at]);
  return rows[0]!.b;
}

async function seedDay(client: pg.ClientBase, day: Date, perDay: number): Promise<void> {
  const at = new Date(day.getTime() + 3_600_000);
  const evt = await idHead(client, 'evt', at);
  const dlv = await idHead(client, 'dlv', at);
  const name = suffix(day);
  await client.query(
    `INSERT INTO "events_${name}" (id, team_id, type, "timestamp", data, created_at)
     SELECT $1 || lpad(n::text, 16, '0'), 2, 'ping', $2, '{"n":1}', $2 FROM generate_series(1, $3::int) AS n`,
    [evt, at, perDay],
  );
  await client.query(
    `INSERT INTO "deliveries_${name}" (id, team_id, webhook_id, event_id, event_type, status, attempts, created_at, updated_at)
     SELECT $1 || lpad(n::text, 16, '0'), 2, 'wh_gone', $2 || lpad(n::text, 16, '0'), 'ping', 'succeeded', 1, $3, $3
       FROM generate_series(1, $4::int) AS n`,
    [dlv, evt, at, perDay],
  );
  await client.query(
    `INSERT INTO "attempts_${name}" (id, delivery_id, attempt, started_at, duration_ms, status_code)
     SELECT 'att_' || lpad(n::text, 22, '0'), $1 || lpad(n::text, 16, '0'), 1, $2, 5, 200
       FROM generate_series(1, $3::int, 2) AS n`,
    [dlv, at, perDay],
  );
}

export async function seedOldRows(pool: pg.Pool, total: number): Promise<OldRows> {
  const started = Date.now();
  const { perDay, defaultEvents } = oldRowsPlan(total);
  const now = new Date();
  const client = await pool.connect();
  try {
    await ensureDayPartitions(client, dayStart(now, 45), DAYS - 1, 5_000);
    for (let back = 45; back > 45 - DAYS; back--) await seedDay(client, dayStart(now, back), perDay);
    const at = new Date(dayStart(now, 200).getTime() + 3_600_000);
    await client.query(
      `INSERT INTO events_default (id, team_id, type, "timestamp", data, created_at)
       SELECT $1 || lpad(n::text, 16, '0'), 2, 'ping', $2, '{"n":1}', $2 FROM generate_series(1, $3::int) AS n`,
      [await idHead(client, 'evt', at), at, defaultEvents],
    );
    // Old rows of a real database were vacuumed and checkpointed long ago: so are these, before
    // anything is measured, or autovacuum and the checkpoint of 2 million fresh rows would be timed as retention.
    await client.query('VACUUM (ANALYZE) events, deliveries, attempts');
  } finally {
    client.release();
  }
  const written = DAYS * (perDay * 2 + Math.ceil(perDay / 2)) + defaultEvents;
  return { days: DAYS, perDay, defaultEvents, total: written, seedMs: Date.now() - started };
}

/** Rows older than the retention cutoff still in the tables (0 once retention has done its work). */
export async function oldRowsLeft(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM events WHERE team_id = 2) + (SELECT count(*) FROM deliveries WHERE team_id = 2) AS n`,
  );
  return Number(rows[0]?.n ?? 0);
}
