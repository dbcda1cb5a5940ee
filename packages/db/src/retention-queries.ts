import pg from 'pg';
import {
  ensureDayPartitions,
  idBound,
  inTransaction,
  listPartitions,
  startOfUtcDay,
  type EnsureResult,
  type Partition,
} from './retention-partitions.js';
import { deleteOldDefaultRows, type DefaultRowsDeleted } from './retention-default.js';

/**
 * Retention (RETENTION_DAYS): a day of events, deliveries and attempts goes as three
 * `DROP TABLE`s of its partitions, a catalog change whose cost does not depend on the rows
 * in them, instead of a `DELETE` that would touch every row, bloat the tables and hold up
 * ingest. A day still holding a pending delivery (its own, or a redelivery of one of its
 * events made later) is kept whole until none is left: nothing pending is ever removed, and
 * the attempt log and event of a delivery stay with it. See README "Retention and erasure".
 */

/** A session-level advisory lock key: one retention run at a time across every worker. */
export const RETENTION_LOCK_KEY = 0x686c7274; // "hlrt"

export interface RetentionOptions {
  now: Date;
  /** 0 keeps everything (partitions are still created ahead). */
  retentionDays: number;
  /** Day partitions kept ready past today. */
  daysAhead: number;
  lockTimeoutMs: number;
  /** Called once per partition day dropped or kept, for the log line and metrics. */
  onDay?: (day: RetentionDay) => void;
  /** Aborted when the task closes: the default-partition sweep (minutes when paced) stops after its current batch. */
  signal?: AbortSignal;
}

export interface RetentionDay {
  suffix: string;
  outcome: 'dropped' | 'kept' | 'failed';
  rows: { events: number; deliveries: number; attempts: number };
  /** Deliveries still pending that keep the day (outcome "kept"). */
  pending: number;
  /** Time of the DROP TABLE statement (client side, lock wait included). */
  dropMs: number;
  error?: string;
}

export interface RetentionRun {
  /** False when another worker held the lock: this run did nothing. */
  ran: boolean;
  partitions: EnsureResult;
  days: RetentionDay[];
  /** Old rows deleted in batches from the `_default` partitions (retention-default.ts); error when a batch failed. */
  defaultRows: DefaultRowsDeleted & { error?: string };
  idempotencyKeysDeleted: number;
}

const NO_ROWS: DefaultRowsDeleted = { events: 0, deliveries: 0, attempts: 0 };

/**
 * One retention pass on a connection of its own, opened for the run: the advisory lock
 * belongs to a session, which a pooled connection shared with the hot path cannot promise.
 */
export async function runRetentionOn(databaseUrl: string, options: RetentionOptions): Promise<RetentionRun> {
  // Counting a day's rows reads the whole partition: more than the hot path's statement timeout allows.
  const client = new pg.Client({ connectionString: databaseUrl, statement_timeout: 10 * 60_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await runRetention(client, options);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs one retention pass on a dedicated connection (the lock is held by that session). */
export async function runRetention(client: pg.ClientBase, options: RetentionOptions): Promise<RetentionRun> {
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RETENTION_LOCK_KEY]);
  if (!rows[0]?.ok) return { ran: false, partitions: { created: [], skipped: [] }, days: [], defaultRows: { ...NO_ROWS }, idempotencyKeysDeleted: 0 };
  try {
    const partitions = await ensureDayPartitions(client, options.now, options.daysAhead, options.lockTimeoutMs);
    const days: RetentionDay[] = [];
    let defaultRows: RetentionRun['defaultRows'] = { ...NO_ROWS };
    if (options.retentionDays > 0) {
      const cutoff = startOfUtcDay(new Date(options.now.getTime() - options.retentionDays * 86_400_000));
      for (const group of await expiredDays(client, cutoff)) {
        const day = await retireDay(client, group, options.lockTimeoutMs);
        days.push(day);
        options.onDay?.(day);
      }
      // After the days: what they leave behind in the default partitions (orphans) goes in the same run.
      defaultRows = await deleteOldDefaultRows(client, cutoff, options.lockTimeoutMs, options.signal);
    }
    const idempotencyKeysDeleted = await deleteExpiredIdempotencyKeys(client, options.now);
    return { ran: true, partitions, days, defaultRows, idempotencyKeysDeleted };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]);
  }
}

interface DayGroup {
  suffix: string;
  events: Partition;
  deliveries: Partition;
  attempts: Partition;
}

/** Days (and the legacy partition) whose every id is older than the cutoff, in all three tables. */
async function expiredDays(client: pg.ClientBase, cutoff: Date): Promise<DayGroup[]> {
  const evtCut = await idBound(client, 'evt', cutoff);
  const dlvCut = await idBound(client, 'dlv', cutoff);
  const bySuffix = new Map<string, Partial<DayGroup>>();
  for (const p of await listPartitions(client)) {
    if (p.to === null) continue; // the default partition: never dropped, its old rows are deleted in batches (retention-default.ts)
    const group = bySuffix.get(p.suffix) ?? { suffix: p.suffix };
    group[p.table] = p;
    bySuffix.set(p.suffix, group);
  }
  const groups: DayGroup[] = [];
  for (const g of bySuffix.values()) {
    if (!g.events || !g.deliveries || !g.attempts) continue;
    if (g.events.to! <= evtCut && g.deliveries.to! <= dlvCut && g.attempts.to! <= dlvCut) groups.push(g as DayGroup);
  }
  return groups.sort((a, b) => (a.events.to! < b.events.to! ? -1 : 1));
}

/** `id` within a partition's range, as SQL over parameters; MINVALUE becomes no lower bound. */
function inRange(column: string, p: Partition, params: unknown[]): string {
  params.push(p.to);
  const upper = `${column} < $${params.length}`;
  if (p.from === null) return upper;
  params.push(p.from);
  return `${column} >= $${params.length} AND ${upper}`;
}

async function countPending(client: pg.ClientBase, g: DayGroup): Promise<number> {
  // Pending deliveries of the day's events wherever they are: its own, and redeliveries
  // made on later days (found through the pending index, a small set).
  const params: unknown[] = [];
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending' AND ((${inRange('id', g.deliveries, params)}) OR (${inRange('event_id', g.events, params)}))`,
    params,
  );
  return rows[0]?.n ?? 0;
}

async function countRows(client: pg.ClientBase, g: DayGroup): Promise<RetentionDay['rows']> {
  const { rows } = await client.query<{ e: number; d: number; a: number }>(
    `SELECT (SELECT count(*) FROM "${g.events.name}")::int AS e, (SELECT count(*) FROM "${g.deliveries.name}")::int AS d,
            (SELECT count(*) FROM "${g.attempts.name}")::int AS a`,
  );
  return { events: rows[0]?.e ?? 0, deliveries: rows[0]?.d ?? 0, attempts: rows[0]?.a ?? 0 };
}

async function retireDay(client: pg.ClientBase, g: DayGroup, lockTimeoutMs: number): Promise<RetentionDay> {
  const none = { events: 0, deliveries: 0, attempts: 0 };
  const pending = await countPending(client, g);
  if (pending > 0) return { suffix: g.suffix, outcome: 'kept', rows: none, pending, dropMs: 0 };
  const rows = await countRows(client, g);
  let dropMs = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      dropMs = await dropDay(client, g, lockTimeoutMs);
      break;
    } catch (err) {
      // 55P03: the lock wait ran out (a long query on the table); a few more tries, then the next run.
      if ((err as { code?: string }).code === '55P03' && attempt < LOCK_TRIES) {
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        continue;
      }
      return { suffix: g.suffix, outcome: 'failed', rows: none, pending: 0, dropMs: 0, error: (err as Error).message };
    }
  }
  return { suffix: g.suffix, outcome: 'dropped', rows, pending: 0, dropMs };
}

const LOCK_TRIES = 5;

/** Drops the day's three partitions in one transaction; returns the DROP statement's own time. */
function dropDay(client: pg.ClientBase, g: DayGroup, lockTimeoutMs: number): Promise<number> {
  return inTransaction(client, lockTimeoutMs, async () => {
    await deleteLaterDeliveriesOf(client, g);
    const started = performance.now();
    await client.query(`DROP TABLE "${g.attempts.name}", "${g.deliveries.name}", "${g.events.name}"`);
    const dropMs = performance.now() - started;
    // A redelivery of one of these events made since the count above: keep the day after all.
    const params: unknown[] = [];
    const { rows: late } = await client.query(
      `SELECT 1 FROM deliveries WHERE status = 'pending' AND ${inRange('event_id', g.events, params)} LIMIT 1`,
      params,
    );
    if (late.length > 0) throw new Error('a delivery of this day became pending meanwhile');
    return dropMs;
  });
}

/**
 * Finished redeliveries made on a later day of this day's events, and their attempts: they
 * would outlive their event. Few rows, found through the event index, in the other partitions only.
 */
async function deleteLaterDeliveriesOf(client: pg.ClientBase, g: DayGroup): Promise<void> {
  const params: unknown[] = [];
  const events = inRange('event_id', g.events, params);
  params.push(g.deliveries.to);
  const later = `${events} AND id >= $${params.length}`;
  await client.query(`DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE ${later})`, params);
  await client.query(`DELETE FROM deliveries WHERE ${later}`, params);
}

const KEY_BATCH = 5_000;
const KEY_BATCHES_PER_RUN = 100;

/** Expired idempotency claims, in small batches so no statement runs long. */
async function deleteExpiredIdempotencyKeys(client: pg.ClientBase, now: Date): Promise<number> {
  let total = 0;
  for (let i = 0; i < KEY_BATCHES_PER_RUN; i++) {
    const { rowCount } = await client.query(
      `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(SELECT ctid FROM idempotency_keys WHERE expires_at < $1 LIMIT ${KEY_BATCH}))`,
      [now],
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < KEY_BATCH) break;
  }
  return total;
}
