import type pg from 'pg';
import { inTransaction } from './retention-partitions.js';

/**
 * Retention for the rows in `<table>_default`, the partitions that take an id no day
 * partition covers: a day whose partitions were not created in time (no worker ran for a
 * week while the API took events; that day's partition can then never be created, since
 * PostgreSQL refuses a range the default partition already holds rows of), an id from a
 * clock far off, a malformed id. No day drop ever reaches them, so they are deleted here,
 * in batches of BATCH rows, each its own short transaction.
 *
 * Why delete rather than move them into a day partition and drop that: to create a day
 * partition over ids the default partition holds, the rows must first leave it, which is
 * the same row-by-row delete plus an insert of each row elsewhere, and then the new range
 * must be checked against the default partition under a lock on the parent table, which
 * holds up every ingest and delivery for as long as that scan takes. And a malformed id or
 * one far in the future fits no day at all. Deleting in small batches touches only the
 * default partition (empty in normal operation), never holds a lock longer than one batch,
 * pauses after each batch (PAUSE_FACTOR) and stops after MAX_BATCHES a run, so it cannot
 * become the long `DELETE` the day drops avoid. A row's age is its `created_at` (written by the service with the id, and present
 * even when the id says nothing about time).
 *
 * The unit is the event, as for a day: an old event of the default partition goes with its
 * deliveries (wherever they are) and their attempts once none of them is pending. Old
 * finished deliveries and old attempts of the default partitions whose event, or delivery,
 * is gone already (dropped with its day, erased) go too.
 */

export const BATCH = 1_000;
export const MAX_BATCHES = 200;
/**
 * After each batch the sweep pauses for this many times the batch's own duration, so it
 * keeps at most a fortieth of one connection's time however slow the batches get under
 * load: the hot path keeps the rest. At 9 (a tenth) ingest kept only 89% of its rate while
 * 200,000 default-partition rows were being deleted (`npm run bench -- retention`, quiet
 * machine). The default partition only holds rows no day covers (malformed ids, a clock far
 * off), so a slow sweep costs nothing: the next run, an interval later, goes on where the rows are.
 */
export const PAUSE_FACTOR = 39;

export interface DefaultRowsDeleted {
  events: number;
  deliveries: number;
  attempts: number;
}

/**
 * Deletes them, at most MAX_BATCHES batches a run, paced (PAUSE_FACTOR); a failed batch
 * (rolled back) ends the run's sweep, with its error, and so does `signal` (the worker
 * closing), after the batch under way. Each step walks its partition in primary-key order from where
 * the previous batch stopped (keyset), so a batch never rescans the rows, dead or kept, that
 * earlier batches went over: a sweep is linear in the rows of the default partition.
 */
export async function deleteOldDefaultRows(
  client: pg.ClientBase,
  cutoff: Date,
  lockTimeoutMs: number,
  signal?: AbortSignal,
): Promise<DefaultRowsDeleted & { error?: string }> {
  const total: DefaultRowsDeleted & { error?: string } = { events: 0, deliveries: 0, attempts: 0 };
  let batches = 0;
  try {
    for (const step of [oldEventsBatch, orphanDeliveriesBatch, orphanAttemptsBatch]) {
      let after = '';
      while (batches < MAX_BATCHES && !signal?.aborted) {
        batches++;
        const started = performance.now();
        const done = await inTransaction(client, lockTimeoutMs, () => step(client, cutoff, after));
        total.events += done.events;
        total.deliveries += done.deliveries;
        total.attempts += done.attempts;
        if (done.scanned < BATCH || done.last === null) break;
        after = done.last;
        await pause((performance.now() - started) * PAUSE_FACTOR, signal);
      }
    }
  } catch (err) {
    total.error = (err as Error).message;
  }
  return total;
}

/** A timer that `signal` ends early. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

interface Batch extends DefaultRowsDeleted {
  /** Rows the batch went over (deleted or not): fewer than BATCH means the step is done. */
  scanned: number;
  /** The highest key it went over, where the next batch starts. */
  last: string | null;
}

interface Counts {
  scanned: number;
  last: string | null;
  d: number;
  a: number;
}

/**
 * Old events of the default partition with no pending delivery, their deliveries and
 * attempts. A redelivery of one of them made pending while this ran would lose its event:
 * the check after the delete sees it (it committed meanwhile) and the batch rolls back,
 * leaving the event for the next run, as a day drop does.
 */
async function oldEventsBatch(client: pg.ClientBase, cutoff: Date, after: string): Promise<Batch> {
  const { rows } = await client.query<Counts & { ids: string[] }>(
    `WITH scan AS (
       SELECT id, created_at FROM events_default WHERE id > $2 ORDER BY id LIMIT ${BATCH}
     ), ev AS (
       SELECT e.id FROM events_default e
        WHERE e.id IN (SELECT id FROM scan WHERE created_at < $1)
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
        FOR UPDATE SKIP LOCKED
     ), dl AS (
       DELETE FROM deliveries d USING ev WHERE d.event_id = ev.id RETURNING d.id
     ), at AS (
       DELETE FROM attempts a USING dl WHERE a.delivery_id = dl.id RETURNING 1
     ), gone AS (
       DELETE FROM events e USING ev WHERE e.id = ev.id RETURNING e.id
     )
     SELECT (SELECT count(*) FROM scan)::int AS scanned, (SELECT max(id) FROM scan) AS last,
            (SELECT coalesce(array_agg(id), '{}') FROM gone) AS ids,
            (SELECT count(*) FROM dl)::int AS d, (SELECT count(*) FROM at)::int AS a`,
    [cutoff, after],
  );
  const { scanned, last, ids, d, a } = rows[0]!;
  if (ids.length > 0) {
    const late = await client.query(`SELECT 1 FROM deliveries WHERE status = 'pending' AND event_id = ANY($1::text[]) LIMIT 1`, [ids]);
    if (late.rows.length > 0) throw new Error('a delivery of an old event in the default partition became pending meanwhile');
  }
  return { scanned, last, events: ids.length, deliveries: d, attempts: a };
}

/** Old finished deliveries of the default partition whose event is gone, with their attempts. */
async function orphanDeliveriesBatch(client: pg.ClientBase, cutoff: Date, after: string): Promise<Batch> {
  const { rows } = await client.query<Counts>(
    `WITH scan AS (
       SELECT id, created_at, status, event_id FROM deliveries_default WHERE id > $2 ORDER BY id LIMIT ${BATCH}
     ), dl AS (
       SELECT d.id FROM deliveries_default d
        WHERE d.id IN (SELECT id FROM scan s WHERE s.created_at < $1 AND s.status <> 'pending'
                        AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = s.event_id))
        FOR UPDATE SKIP LOCKED
     ), at AS (
       DELETE FROM attempts a USING dl WHERE a.delivery_id = dl.id RETURNING 1
     ), gone AS (
       DELETE FROM deliveries d USING dl WHERE d.id = dl.id AND d.status <> 'pending' RETURNING 1
     )
     SELECT (SELECT count(*) FROM scan)::int AS scanned, (SELECT max(id) FROM scan) AS last,
            (SELECT count(*) FROM gone)::int AS d, (SELECT count(*) FROM at)::int AS a`,
    [cutoff, after],
  );
  const { scanned, last, d, a } = rows[0]!;
  return { scanned, last, events: 0, deliveries: d, attempts: a };
}

/** Old attempts of the default partition whose delivery is gone. */
async function orphanAttemptsBatch(client: pg.ClientBase, cutoff: Date, after: string): Promise<Batch> {
  const { rows } = await client.query<Counts>(
    `WITH scan AS (
       SELECT id, delivery_id, started_at FROM attempts_default WHERE id > $2 ORDER BY id LIMIT ${BATCH}
     ), gone AS (
       DELETE FROM attempts_default a USING scan s
        WHERE a.id = s.id AND a.delivery_id = s.delivery_id AND s.started_at < $1
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = s.delivery_id)
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM scan)::int AS scanned, (SELECT max(id) FROM scan) AS last, (SELECT count(*) FROM gone)::int AS a`,
    [cutoff, after],
  );
  const { scanned, last, a } = rows[0]!;
  return { scanned, last, events: 0, deliveries: 0, attempts: a };
}
